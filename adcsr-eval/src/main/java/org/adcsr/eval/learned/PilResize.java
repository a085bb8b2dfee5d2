package org.adcsr.eval.learned;

/**
 * PIL's {@code Image.resize(size, BICUBIC)} of a mode "F" (float32) image, as pyiqa's FID "clean" mode resizes each
 * channel (METRICS.md, FID row). PIL's ImagingResample: separable, horizontal pass first, then vertical; the cubic
 * kernel has a = −0.5 and support 2; when shrinking, the kernel is stretched by the scale (support × scale, argument
 * ÷ scale), so downscaling is antialiased. Each output sample is Σ wᵢ·xᵢ over the taps
 * {@code [(int)(c − support + 0.5), (int)(c + support + 0.5))} clipped to the image, c = (i + 0.5)·scale, weights
 * normalised to sum 1, accumulated in double and stored as float32 after each pass. A pass whose size does not change
 * is skipped (PIL copies).
 */
public final class PilResize {
    private PilResize() {}

    /** Resizes a row-major {@code h×w} float plane to {@code outH×outW}. */
    public static float[] bicubic(float[] in, int w, int h, int outW, int outH) {
        if (in.length != w * h || w < 1 || h < 1 || outW < 1 || outH < 1) {
            throw new IllegalArgumentException("PilResize: bad sizes");
        }
        float[] x = in;
        if (outW != w) {
            Coeffs c = coeffs(w, outW);
            float[] o = new float[outW * h];
            for (int y = 0; y < h; y++) {
                int row = y * w;
                for (int i = 0; i < outW; i++) {
                    int lo = c.min[i], n = c.count[i], kb = i * c.ksize;
                    double s = 0;
                    for (int t = 0; t < n; t++) {
                        s += x[row + lo + t] * c.k[kb + t];
                    }
                    o[y * outW + i] = (float) s;
                }
            }
            x = o;
            w = outW;
        }
        if (outH != h) {
            Coeffs c = coeffs(h, outH);
            float[] o = new float[w * outH];
            for (int j = 0; j < outH; j++) {
                int lo = c.min[j], n = c.count[j], kb = j * c.ksize;
                for (int i = 0; i < w; i++) {
                    double s = 0;
                    for (int t = 0; t < n; t++) {
                        s += x[(lo + t) * w + i] * c.k[kb + t];
                    }
                    o[j * w + i] = (float) s;
                }
            }
            x = o;
        }
        return x == in ? in.clone() : x;
    }

    static double cubic(double x) {
        final double a = -0.5;
        if (x < 0) {
            x = -x;
        }
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0;
    }

    private record Coeffs(int ksize, int[] min, int[] count, double[] k) {}

    /** PIL's precompute_coeffs for the whole input range. */
    private static Coeffs coeffs(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = 2.0 * filterScale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] min = new int[outSize], count = new int[outSize];
        double[] k = new double[outSize * ksize];
        for (int i = 0; i < outSize; i++) {
            double center = (i + 0.5) * scale;
            double ss = 1.0 / filterScale;
            int lo = Math.max((int) (center - support + 0.5), 0);   // C's truncating cast, as PIL
            int hi = Math.min((int) (center + support + 0.5), inSize);
            int n = hi - lo;
            double ww = 0;
            for (int t = 0; t < n; t++) {
                double v = cubic((t + lo - center + 0.5) * ss);
                k[i * ksize + t] = v;
                ww += v;
            }
            if (ww != 0) {
                for (int t = 0; t < n; t++) {
                    k[i * ksize + t] /= ww;
                }
            }
            min[i] = lo;
            count[i] = n;
        }
        return new Coeffs(ksize, min, count, k);
    }
}
