package org.adcsr.eval.metrics;

/** Gaussian windows and separable filtering in float64, shared by SSIM and NIQE. */
final class Filters {
    private Filters() {}

    /**
     * The 1-D factor of a normalised 2-D Gaussian of odd {@code size}: MATLAB {@code fspecial('gaussian')} (and
     * OpenCV {@code getGaussianKernel}) are outer products of this vector, up to rounding.
     */
    static double[] gaussian1d(int size, double sigma) {
        double[] k = new double[size];
        int m = size / 2;
        double sum = 0;
        for (int i = 0; i < size; i++) {
            double x = i - m;
            k[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
            sum += k[i];
        }
        for (int i = 0; i < size; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** 'same'-size correlation with {@code k ⊗ k}, borders replicated (scipy 'nearest', torch 'replicate'). */
    static Plane sameReplicate(Plane in, double[] k) {
        int s = k.length, m = s / 2, w = in.width(), h = in.height();
        double[] src = in.data();
        double[] rows = new double[w * h];
        for (int y = 0; y < h; y++) {
            int base = y * w;
            for (int x = 0; x < w; x++) {
                double acc = 0;
                for (int j = 0; j < s; j++) {
                    int xx = Math.min(w - 1, Math.max(0, x + j - m));
                    acc += k[j] * src[base + xx];
                }
                rows[base + x] = acc;
            }
        }
        double[] out = new double[w * h];
        for (int y = 0; y < h; y++) {
            for (int j = 0; j < s; j++) {
                int yy = Math.min(h - 1, Math.max(0, y + j - m));
                double kj = k[j];
                int rb = yy * w, ob = y * w;
                for (int x = 0; x < w; x++) {
                    out[ob + x] += kj * rows[rb + x];
                }
            }
        }
        return new Plane(w, h, out);
    }

    /**
     * pyiqa's {@code fspecial(size, sigma)}: the 2-D Gaussian normalised in float64, then stored as float32 (so its
     * entries do not sum to exactly 1, which pyiqa's NIQE sees: a flat area normalises to tiny non-zero values).
     */
    static double[] fspecialFloat32(int size, double sigma) {
        int m = size / 2;
        double[] h = new double[size * size];
        double max = 0, sum = 0;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                double dx = x - m, dy = y - m;
                h[y * size + x] = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
                max = Math.max(max, h[y * size + x]);
            }
        }
        for (int i = 0; i < h.length; i++) {
            if (h[i] < Math.ulp(1.0) * max) {
                h[i] = 0;
            }
        }
        sum = NumpySum.pairwise(h);
        for (int i = 0; i < h.length; i++) {
            h[i] = (float) (h[i] / sum);
        }
        return h;
    }

    /**
     * 'same'-size correlation with a full 2-D kernel ({@code size}×{@code size}), borders replicated. Each output sums
     * its terms in kernel order (row by row), written as one multiply-add sweep per tap over a padded copy.
     */
    static Plane sameReplicate2d(Plane in, double[] k, int size) {
        int m = size / 2, w = in.width(), h = in.height(), pw = w + 2 * m;
        double[] pad = padReplicate(in, m);
        double[] out = new double[w * h];
        for (int y = 0; y < h; y++) {
            int ob = y * w;
            for (int j = 0; j < size; j++) {
                int rb = (y + j) * pw;
                for (int i = 0; i < size; i++) {
                    double kv = k[j * size + i];
                    int b = rb + i;
                    for (int x = 0; x < w; x++) {
                        out[ob + x] += kv * pad[b + x];
                    }
                }
            }
        }
        return new Plane(w, h, out);
    }

    /** The plane with {@code m} replicated pixels on every side, row-major, width {@code w + 2m}. */
    static double[] padReplicate(Plane in, int m) {
        int w = in.width(), h = in.height(), pw = w + 2 * m;
        double[] pad = new double[pw * (h + 2 * m)];
        double[] src = in.data();
        for (int y = 0; y < h + 2 * m; y++) {
            int sy = Math.min(h - 1, Math.max(0, y - m));
            int rb = y * pw, sb = sy * w;
            for (int x = 0; x < m; x++) {
                pad[rb + x] = src[sb];
                pad[rb + m + w + x] = src[sb + w - 1];
            }
            System.arraycopy(src, sb, pad, rb + m, w);
        }
        return pad;
    }
}
