package org.adcsr.core.image;

/**
 * PIL's {@code Image.resize} (Pillow 9.4, {@code libImaging/Resample.c}) with the bicubic and Lanczos filters, in
 * the two arithmetics the evaluation needs: mode "F" (float32), as pyiqa's FID "clean" mode resizes each channel
 * (METRICS.md, FID row), and 8-bit L/RGB, as OSEDiff's test script resizes images ({@code --resize-sr}).
 *
 * <p>Separable, horizontal pass first, then vertical; a pass whose size does not change is skipped (PIL copies). The
 * kernel is stretched by the scale when shrinking (support × scale, argument ÷ scale), so downscaling is
 * antialiased. Output sample i takes the taps {@code [(int)(c − support + 0.5), (int)(c + support + 0.5))} clipped
 * to the image, c = (i + 0.5)·scale, with weights normalised to sum 1.
 * <ul>
 *   <li>float: Σ wᵢ·xᵢ accumulated in double, stored as float32 after each pass;
 *   <li>8-bit: weights rounded half away from zero to fixed point with 22 fraction bits, integer sums started at
 *       one half, shifted back and clipped to 0…255 after each pass (the horizontal result is stored as 8 bits).
 * </ul>
 */
public final class PilResize {
    private PilResize() {}

    /** The resampling filters of {@code --resize-sr}: PIL's BICUBIC (its default for resize) and LANCZOS. */
    public enum Filter {
        BICUBIC(2.0),
        LANCZOS(3.0);

        final double support;

        Filter(double support) {
            this.support = support;
        }

        double weight(double x) {
            return this == BICUBIC ? cubic(x) : lanczos(x);
        }
    }

    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** Resizes a row-major {@code h×w} float plane to {@code outH×outW} with PIL's bicubic filter (mode "F"). */
    public static float[] bicubic(float[] in, int w, int h, int outW, int outH) {
        checkSizes(in.length, w, h, outW, outH);
        float[] r = separable(in, w, h, outW, outH, Filter.BICUBIC, false);
        return r == in ? in.clone() : r;
    }

    /**
     * Resizes the colour channels of an image (alpha is dropped, as {@code convert('RGB')} before resizing):
     * 8-bit images exactly as PIL resizes an L or RGB image; 16-bit ones, which PIL cannot hold in colour, with the
     * float arithmetic rounded to the nearest integer and clipped to 0…65535.
     */
    public static Image resize(Image img, int outW, int outH, Filter filter) {
        return resize(img, img.colorChannels(), outW, outH, filter);
    }

    /**
     * Resizes every channel of an image, alpha included, each on its own as {@link #resize} resizes the colour
     * channels (PIL would premultiply RGBA by alpha first; alpha here stays straight, as adcsr-upscale keeps it).
     */
    public static Image resizeAllChannels(Image img, int outW, int outH, Filter filter) {
        return resize(img, img.channels(), outW, outH, filter);
    }

    private static Image resize(Image img, int channels, int outW, int outH, Filter filter) {
        int w = img.width(), h = img.height();
        checkSizes(w * h, w, h, outW, outH);
        boolean eightBit = img.maxValue() == 255;
        Image out = Image.blank(outW, outH, channels, img.maxValue());
        for (int c = 0; c < channels; c++) {
            float[] r = separable(img.plane(c), w, h, outW, outH, filter, eightBit);
            for (int i = 0; i < r.length; i++) {
                out.data()[c * r.length + i] = eightBit ? r[i]
                        : (float) Math.min(img.maxValue(), Math.max(0, Math.rint(r[i])));
            }
        }
        return out;
    }

    /**
     * The horizontal pass, then the vertical one, each skipped when its size does not change; in PIL's 8-bit fixed
     * point ({@code eightBit}, samples are integers 0…255) or in double, stored as float32 after each pass.
     */
    private static float[] separable(float[] x, int w, int h, int outW, int outH, Filter filter, boolean eightBit) {
        if (outW != w) {
            Coeffs c = coeffs(w, outW, filter);
            int[] fixed = eightBit ? c.fixedPoint() : null;
            float[] o = new float[outW * h];
            for (int y = 0; y < h; y++) {
                for (int i = 0; i < outW; i++) {
                    o[y * outW + i] = c.sample(x, y * w + c.min[i], 1, i, fixed);
                }
            }
            x = o;
            w = outW;
        }
        if (outH != h) {
            Coeffs c = coeffs(h, outH, filter);
            int[] fixed = eightBit ? c.fixedPoint() : null;
            float[] o = new float[w * outH];
            for (int j = 0; j < outH; j++) {
                for (int i = 0; i < w; i++) {
                    o[j * w + i] = c.sample(x, c.min[j] * w + i, w, j, fixed);
                }
            }
            x = o;
        }
        return x;
    }

    private static void checkSizes(int length, int w, int h, int outW, int outH) {
        if (length != w * h || w < 1 || h < 1 || outW < 1 || outH < 1) {
            throw new IllegalArgumentException("PilResize: bad sizes");
        }
    }

    /** PIL's bicubic_filter, a = −0.5. */
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

    /** PIL's lanczos_filter: sinc(x)·sinc(x/3) on [−3, 3). */
    static double lanczos(double x) {
        return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0;
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return Math.sin(x) / x;
    }

    /** Taps of each output sample: first input index, count, and {@code ksize} normalised weights. */
    private record Coeffs(int ksize, int[] min, int[] count, double[] k) {

        /**
         * Σ wₜ·x[start + t·stride] for output sample i: in double, stored as float32, or with {@code fixed} weights in
         * PIL's 8-bit fixed point (int arithmetic, as PIL's), clipped to 0…255.
         */
        float sample(float[] x, int start, int stride, int i, int[] fixed) {
            int kb = i * ksize;
            if (fixed == null) {
                double s = 0;
                for (int t = 0; t < count[i]; t++) {
                    s += x[start + t * stride] * k[kb + t];
                }
                return (float) s;
            }
            int s = 1 << (PRECISION_BITS - 1);
            for (int t = 0; t < count[i]; t++) {
                s += (int) x[start + t * stride] * fixed[kb + t];
            }
            return Math.max(0, Math.min(255, s >> PRECISION_BITS)); // PIL's clip8 of the floored quotient
        }

        /** PIL's normalize_coeffs_8bpc: round half away from zero to {@code PRECISION_BITS} fraction bits. */
        int[] fixedPoint() {
            int[] f = new int[k.length];
            for (int i = 0; i < k.length; i++) {
                double v = k[i] * (1 << PRECISION_BITS);
                f[i] = (int) (v < 0 ? -0.5 + v : 0.5 + v);
            }
            return f;
        }
    }

    /** PIL's precompute_coeffs for the whole input range. */
    private static Coeffs coeffs(int inSize, int outSize, Filter filter) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = filter.support * filterScale;
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
                double v = filter.weight((t + lo - center + 0.5) * ss);
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
