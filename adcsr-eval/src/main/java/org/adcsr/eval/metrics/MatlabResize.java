package org.adcsr.eval.metrics;

/**
 * MATLAB {@code imresize(img, scale)} with the bicubic kernel (A = −0.5), antialiasing when shrinking, output size
 * ⌈in·scale⌉ and mirrored borders, as BasicSR's {@code matlab_functions.imresize} and pyiqa's {@code imresize}
 * compute it (both in float32; here in float64). Rows are resized first, then columns.
 */
final class MatlabResize {
    private MatlabResize() {}

    /** Per output index: the input indices (already mirrored into range) and their normalised weights. */
    private record Taps(int[][] index, double[][] weight) {}

    static Plane resize(Plane in, double scale) {
        int outH = (int) Math.ceil(in.height() * scale), outW = (int) Math.ceil(in.width() * scale);
        Taps th = taps(in.height(), outH, scale), tw = taps(in.width(), outW, scale);
        int w = in.width();
        double[] src = in.data();
        double[] mid = new double[outH * w];
        for (int i = 0; i < outH; i++) {
            int[] idx = th.index[i];
            double[] wt = th.weight[i];
            int ob = i * w;
            for (int t = 0; t < idx.length; t++) {
                double k = wt[t];
                int rb = idx[t] * w;
                for (int x = 0; x < w; x++) {
                    mid[ob + x] += k * src[rb + x];
                }
            }
        }
        double[] out = new double[outH * outW];
        for (int y = 0; y < outH; y++) {
            int mb = y * w, ob = y * outW;
            for (int j = 0; j < outW; j++) {
                int[] idx = tw.index[j];
                double[] wt = tw.weight[j];
                double acc = 0;
                for (int t = 0; t < idx.length; t++) {
                    acc += wt[t] * mid[mb + idx[t]];
                }
                out[ob + j] = acc;
            }
        }
        return new Plane(outW, outH, out);
    }

    static double cubic(double x) {
        double a = Math.abs(x), a2 = a * a, a3 = a2 * a;
        if (a <= 1) {
            return 1.5 * a3 - 2.5 * a2 + 1;
        }
        if (a <= 2) {
            return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
        }
        return 0;
    }

    private static Taps taps(int inLen, int outLen, double scale) {
        boolean shrink = scale < 1;
        double kernelWidth = shrink ? 4 / scale : 4;
        int p = (int) Math.ceil(kernelWidth) + 2;
        int[][] index = new int[outLen][];
        double[][] weight = new double[outLen][];
        for (int o = 0; o < outLen; o++) {
            double x = o + 1;                                   // MATLAB is 1-based
            double u = x / scale + 0.5 * (1 - 1 / scale);
            double left = Math.floor(u - kernelWidth / 2);
            double[] wt = new double[p];
            int[] idx = new int[p];
            double sum = 0;
            for (int j = 0; j < p; j++) {
                double pos = left + j;
                double d = u - pos;
                wt[j] = shrink ? scale * cubic(d * scale) : cubic(d);
                sum += wt[j];
                int i0 = (int) pos - 1;
                if (i0 < 0) {
                    i0 = -i0 - 1;
                } else if (i0 >= inLen) {
                    i0 = 2 * inLen - 1 - i0;
                }
                idx[j] = Math.min(inLen - 1, Math.max(0, i0));
            }
            for (int j = 0; j < p; j++) {
                wt[j] /= sum;
            }
            index[o] = idx;
            weight[o] = wt;
        }
        return new Taps(index, weight);
    }

    /** The eight taps of a ×0.5 antialiased bicubic: 0.5·cubic(0.5·d) normalised, exact binary fractions. */
    private static final float[] HALF = {
        -0.01171875f, -0.03515625f, 0.11328125f, 0.43359375f, 0.43359375f, 0.11328125f, -0.03515625f, -0.01171875f,
    };

    /** Whose float32 arithmetic {@link #halfFloat32} reproduces. */
    enum Rounding { BASICSR, PYIQA }

    /**
     * {@code imresize(x, 0.5)} of an even-sized float32 image, rounded as the references' float32 torch code rounds it
     * on x86-64 (checked pixel for pixel against torch 1.13 with OpenBLAS on the fixtures):
     * <ul>
     *   <li>BasicSR: rows by {@code mv} over a transposed block, an FMA chain over the taps; columns by {@code mv}
     *       over rows, four lanes of two rounded products each, summed {@code (l0+l1)+(l2+l3)}.</li>
     *   <li>pyiqa: {@code (sample·weight).sum(dim=1)}: rounded products added in tap order, rows then columns.</li>
     * </ul>
     */
    static float[] halfFloat32(float[] x, int w, int h, Rounding rounding) {
        if (w % 2 != 0 || h % 2 != 0) {
            throw new IllegalArgumentException("halfFloat32 needs even sizes, got " + w + "x" + h);
        }
        int oh = h / 2, ow = w / 2;
        float[] mid = new float[oh * w];
        for (int o = 0; o < oh; o++) {
            int[] rows = halfTaps(o, h);
            for (int c = 0; c < w; c++) {
                float acc = 0f;
                for (int t = 0; t < 8; t++) {
                    float v = x[rows[t] * w + c];
                    acc = rounding == Rounding.BASICSR ? Math.fma(v, HALF[t], acc) : acc + v * HALF[t];
                }
                mid[o * w + c] = acc;
            }
        }
        float[] out = new float[oh * ow];
        for (int o = 0; o < ow; o++) {
            int[] cols = halfTaps(o, w);
            for (int r = 0; r < oh; r++) {
                int rb = r * w;
                float acc;
                if (rounding == Rounding.BASICSR) {
                    float[] lane = new float[4];
                    for (int i = 0; i < 4; i++) {
                        lane[i] = mid[rb + cols[i]] * HALF[i] + mid[rb + cols[i + 4]] * HALF[i + 4];
                    }
                    acc = (lane[0] + lane[1]) + (lane[2] + lane[3]);
                } else {
                    acc = 0f;
                    for (int t = 0; t < 8; t++) {
                        acc += mid[rb + cols[t]] * HALF[t];
                    }
                }
                out[r * ow + o] = acc;
            }
        }
        return out;
    }

    /** Input indices of output {@code o} for ×0.5: 2o−3 … 2o+4, mirrored at the borders (edge sample repeated). */
    private static int[] halfTaps(int o, int n) {
        int[] idx = new int[8];
        for (int t = 0; t < 8; t++) {
            int i = 2 * o - 3 + t;
            if (i < 0) {
                i = -i - 1;
            } else if (i >= n) {
                i = 2 * n - 1 - i;
            }
            idx[t] = i;
        }
        return idx;
    }
}
