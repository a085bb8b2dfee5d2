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

    /** {@link #WAVELET} on one channel; {@code style} (the LR upscaled to the SR size) is overwritten. */
    static void wavelet(float[] content, float[] style, int w, int h) {
        // three planes in all, whatever the size (a 4096² channel is 67 MB a plane)
        float[] contentLow = content.clone();
        float[] tmp = new float[content.length];
        for (int level = 0; level < 5; level++) {
            blur(contentLow, tmp, w, h, 1 << level);
            blur(style, tmp, w, h, 1 << level);
        }
        // high(content) + low(style) = content − low(content) + low(style)
        for (int i = 0; i < content.length; i++) {
            content[i] = content[i] - contentLow[i] + style[i];
        }
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
