package org.adcsr.core.upscale;

/**
 * Colour corrections applied to a whole SR image (3 planes in [−1, 1]) from the whole LR image, never per tile.
 */
public enum ColorCorrection {
    /**
     * The official AdcSR fix ({@code test.py}): per channel {@code (sr − mean(sr)) / std(sr) · std(lr) + mean(lr)}
     * with the unbiased std and no epsilon, in float32 as the official code runs it. Our one extension: a value
     * the official code cannot compute (NaN or infinite: an exactly flat SR channel divides 0 by 0, a one-pixel
     * input has no unbiased std) becomes {@code mean(lr)}; every finite official value is kept as it is.
     */
    ADAIN,
    /**
     * StableSR's wavelet fix: the SR image's high frequencies plus the low frequencies of the LR image upscaled to
     * the SR size (bicubic), both split with 5 levels of a dilated 3×3 binomial blur with replicate padding.
     */
    WAVELET,
    /** No correction. */
    NONE;

    /**
     * Applies the correction in place.
     *
     * @param sr 3 planes of {@code sw × sh}
     * @param lr 3 planes of {@code lw × lh}
     */
    public void apply(float[][] sr, int sw, int sh, float[][] lr, int lw, int lh) {
        switch (this) {
            case ADAIN -> {
                for (int c = 0; c < sr.length; c++) {
                    adain(sr[c], lr[c]);
                }
            }
            case WAVELET -> {
                for (int c = 0; c < sr.length; c++) {
                    float[] style = Resample.bicubic(lr[c], lw, lh, sw, sh);
                    wavelet(sr[c], style, sw, sh);
                }
            }
            case NONE -> {
            }
        }
    }

    /**
     * {@link #ADAIN} on one channel, operation by operation as {@code test.py} computes it in float32: the means and
     * unbiased stds rounded to float32 (torch's std accumulates in double, as {@link #meanStd} does), then
     * {@code ((sr − mean(sr)) / std(sr)) · std(lr) + mean(lr)}, each step rounded to float32. Wherever that value is
     * not finite it becomes {@code mean(lr)}. For inputs well inside the float32 range that happens only when
     * {@code std(sr)} is 0 (a flat channel: 0/0, or a spread that underflows float32) or {@code std(lr)} is NaN (one
     * LR pixel), and then for the whole channel: no structure, the input's mean. A tiny but nonzero spread keeps
     * its structure, as in the official code.
     */
    static void adain(float[] sr, float[] lr) {
        double[] s = meanStd(sr);
        double[] l = meanStd(lr);
        float srMean = (float) s[0];
        float srStd = (float) s[1];
        float lrMean = (float) l[0];
        float lrStd = (float) l[1];
        for (int i = 0; i < sr.length; i++) {
            float v = (sr[i] - srMean) / srStd * lrStd + lrMean;
            sr[i] = Float.isFinite(v) ? v : lrMean;
        }
    }

    /**
     * Mean and unbiased standard deviation (two passes, double accumulators). One value has no unbiased std: NaN,
     * as torch gives.
     */
    static double[] meanStd(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        double mean = sum / x.length;
        double sq = 0;
        for (float v : x) {
            double d = v - mean;
            sq += d * d;
        }
        return new double[] {mean, Math.sqrt(sq / (x.length - 1))};
    }

    /** Levels of {@link #WAVELET}'s split: blurs of dilation 1, 2, 4, 8 and 16. */
    public static final int WAVELET_LEVELS = 5;

    /** {@link #WAVELET} on one channel; {@code style} (the LR upscaled to the SR size) is overwritten. */
    static void wavelet(float[] content, float[] style, int w, int h) {
        // three planes in all, whatever the size (a 4096² channel is 67 MB a plane)
        float[] contentLow = content.clone();
        float[] tmp = new float[content.length];
        lowFrequencies(contentLow, tmp, w, h);
        lowFrequencies(style, tmp, w, h);
        // high(content) + low(style) = content − low(content) + low(style)
        for (int i = 0; i < content.length; i++) {
            content[i] = content[i] - contentLow[i] + style[i];
        }
    }

    /**
     * {@link #WAVELET}'s low frequencies of a {@code w × h} plane, in place: the blurs of every level one after the
     * other ({@code tmp} is scratch of the same size).
     */
    public static void lowFrequencies(float[] x, float[] tmp, int w, int h) {
        for (int level = 0; level < WAVELET_LEVELS; level++) {
            blur(x, tmp, w, h, 1 << level);
        }
    }

    /**
     * {@link #lowFrequencies} along one axis of length {@code n} as an {@code n × n} matrix {@code M} (row major,
     * {@code y = M x}): the 2-D low frequencies of a plane {@code X} ({@code h × w}) are {@code M_h X M_wᵀ}, as each
     * level's blur is a horizontal then a vertical pass with replicate padding, and such passes commute. For
     * differentiating through the fix (adcsr-distill's pixel term).
     */
    public static float[] lowFrequencyMatrix(int n) {
        float[] m = new float[n * n];
        float[] x = new float[n];
        float[] y = new float[n];
        for (int j = 0; j < n; j++) {
            java.util.Arrays.fill(x, 0);
            x[j] = 1;
            for (int level = 0; level < WAVELET_LEVELS; level++) {
                int d = 1 << level;
                for (int i = 0; i < n; i++) {
                    y[i] = 0.25f * x[Math.max(i - d, 0)] + 0.5f * x[i] + 0.25f * x[Math.min(i + d, n - 1)];
                }
                System.arraycopy(y, 0, x, 0, n);
            }
            for (int i = 0; i < n; i++) {
                m[i * n + j] = x[i];
            }
        }
        return m;
    }

    /**
     * 3×3 binomial blur [1 2 1]ᵀ[1 2 1]/16 with dilation {@code d} and replicate padding, in place: the horizontal
     * pass into {@code tmp}, the vertical pass back into {@code x}.
     */
    static void blur(float[] x, float[] tmp, int w, int h, int d) {
        for (int y = 0; y < h; y++) {
            int row = y * w;
            for (int i = 0; i < w; i++) {
                float l = x[row + Math.max(i - d, 0)];
                float r = x[row + Math.min(i + d, w - 1)];
                tmp[row + i] = 0.25f * l + 0.5f * x[row + i] + 0.25f * r;
            }
        }
        for (int y = 0; y < h; y++) {
            int up = Math.max(y - d, 0) * w;
            int down = Math.min(y + d, h - 1) * w;
            int row = y * w;
            for (int i = 0; i < w; i++) {
                x[row + i] = 0.25f * tmp[up + i] + 0.5f * tmp[row + i] + 0.25f * tmp[down + i];
            }
        }
    }
}
