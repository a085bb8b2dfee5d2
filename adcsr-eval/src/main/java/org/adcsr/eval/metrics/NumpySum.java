package org.adcsr.eval.metrics;

/** numpy's pairwise summation of a contiguous float64 array ({@code pairwise_sum} in its loops), same rounding. */
final class NumpySum {
    private NumpySum() {}

    static double pairwise(double[] a) {
        return pairwise(a, 0, a.length);
    }

    private static double pairwise(double[] a, int off, int n) {
        if (n < 8) {
            double res = 0;          // numpy starts from -0.0 then adds; the same value for these sums
            for (int i = 0; i < n; i++) {
                res += a[off + i];
            }
            return res;
        }
        if (n <= 128) {
            double[] r = new double[8];
            for (int j = 0; j < 8; j++) {
                r[j] = a[off + j];
            }
            int i;
            for (i = 8; i < n - (n % 8); i += 8) {
                for (int j = 0; j < 8; j++) {
                    r[j] += a[off + i + j];
                }
            }
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                res += a[off + i];
            }
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return pairwise(a, off, n2) + pairwise(a, off + n2, n - n2);
    }
}
