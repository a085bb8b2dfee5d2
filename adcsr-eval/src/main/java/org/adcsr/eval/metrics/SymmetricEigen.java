package org.adcsr.eval.metrics;

/** Cyclic Jacobi eigen-decomposition of a small symmetric matrix, and the pseudo-inverse built from it. */
final class SymmetricEigen {
    private SymmetricEigen() {}

    /**
     * Moore–Penrose pseudo-inverse of symmetric {@code a} (n×n, row-major): eigenvalues with |λ| ≤ rtol·max|λ| are
     * treated as zero (numpy {@code pinv} uses rtol 1e-15, torch {@code linalg.pinv} n·eps). For a symmetric matrix
     * the singular values are the |λ|, so this equals the SVD-based pinv.
     */
    static double[] pinv(double[] a, int n, double rtol) {
        double[] m = a.clone();
        double[] v = new double[n * n];
        for (int i = 0; i < n; i++) {
            v[i * n + i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0, diag = 0;
            for (int i = 0; i < n; i++) {
                diag += m[i * n + i] * m[i * n + i];
                for (int j = i + 1; j < n; j++) {
                    off += m[i * n + j] * m[i * n + j];
                }
            }
            if (off <= 1e-34 * diag || off == 0) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = m[p * n + q];
                    if (apq == 0) {
                        continue;
                    }
                    double app = m[p * n + p], aqq = m[q * n + q];
                    double theta = (aqq - app) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {          // columns p, q
                        double mkp = m[k * n + p], mkq = m[k * n + q];
                        m[k * n + p] = c * mkp - s * mkq;
                        m[k * n + q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++) {          // rows p, q
                        double mpk = m[p * n + k], mqk = m[q * n + k];
                        m[p * n + k] = c * mpk - s * mqk;
                        m[q * n + k] = s * mpk + c * mqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(m[i * n + i]));
        }
        double cut = rtol * max;
        double[] out = new double[n * n];
        for (int e = 0; e < n; e++) {
            double lambda = m[e * n + e];
            if (Math.abs(lambda) <= cut) {
                continue;
            }
            double inv = 1 / lambda;
            for (int i = 0; i < n; i++) {
                double vi = v[i * n + e] * inv;
                for (int j = 0; j < n; j++) {
                    out[i * n + j] += vi * v[j * n + e];
                }
            }
        }
        return out;
    }
}
