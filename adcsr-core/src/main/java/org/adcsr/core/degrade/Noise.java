package org.adcsr.core.degrade;

import org.adcsr.core.Rng;

/**
 * BasicSR's additive noises for one sample (spec §5), driven by the tool's own {@link Rng} seeded per stage so
 * that the recorded seed replays the exact noise field.
 */
public final class Noise {
    private Noise() {
    }

    /**
     * Gaussian noise N(0,1)·σ/255: colour (independent per pixel and channel) or gray (one H×W field added to all
     * channels); then clamp to [0,1]. Returns a new image.
     */
    public static Planes gaussian(Planes img, double sigma, boolean gray, long seed) {
        Rng rng = new Rng(seed);
        float s = (float) sigma;
        Planes out = new Planes(img.c, img.h, img.w);
        int plane = img.h * img.w;
        if (gray) {
            float[] field = new float[plane];
            for (int i = 0; i < plane; i++) {
                field[i] = (float) rng.nextGaussian() * s / 255f;
            }
            for (int ch = 0; ch < img.c; ch++) {
                for (int i = 0; i < plane; i++) {
                    out.d[ch * plane + i] = img.d[ch * plane + i] + field[i];
                }
            }
        } else {
            for (int i = 0; i < img.d.length; i++) {
                out.d[i] = img.d[i] + (float) rng.nextGaussian() * s / 255f;
            }
        }
        return out.clamp01();
    }

    /**
     * Poisson (shot) noise: measured on the 8-bit-rounded image iq as Poisson(iq·v)/v − iq with v the next power of
     * two of the number of distinct values, scaled, added to the unrounded image, clamped. Gray noise does the same
     * on the rounded luma (0.2989R + 0.587G + 0.114B of the unrounded image) and adds it to every channel.
     */
    public static Planes poisson(Planes img, double scale, boolean gray, long seed) {
        Rng rng = new Rng(seed);
        float sc = (float) scale;
        int plane = img.h * img.w;
        Planes out = new Planes(img.c, img.h, img.w);
        if (gray && img.c == 3) {
            float[] y = new float[plane];
            for (int i = 0; i < plane; i++) {
                float l = 0.2989f * img.d[i] + 0.587f * img.d[plane + i] + 0.114f * img.d[2 * plane + i];
                y[i] = Planes.quantize(l);
            }
            float vals = levels(y);
            Rng.PoissonParams[] params = params(vals);
            float[] noise = new float[plane];
            for (int i = 0; i < plane; i++) {
                float p = (float) rng.poisson(params[Math.round(y[i] * 255f)]);
                noise[i] = (p / vals - y[i]) * sc;
            }
            for (int ch = 0; ch < 3; ch++) {
                for (int i = 0; i < plane; i++) {
                    out.d[ch * plane + i] = img.d[ch * plane + i] + noise[i];
                }
            }
        } else {
            float[] iq = new float[img.d.length];
            for (int i = 0; i < iq.length; i++) {
                iq[i] = Planes.quantize(img.d[i]);
            }
            float vals = levels(iq);
            Rng.PoissonParams[] params = params(vals);
            for (int i = 0; i < iq.length; i++) {
                float p = (float) rng.poisson(params[Math.round(iq[i] * 255f)]);
                out.d[i] = img.d[i] + (p / vals - iq[i]) * sc;
            }
        }
        return out.clamp01();
    }

    /** Poisson constants for the 256 possible means (k/255)·vals, computed exactly as the per-pixel product. */
    private static Rng.PoissonParams[] params(float vals) {
        Rng.PoissonParams[] p = new Rng.PoissonParams[256];
        for (int k = 0; k < 256; k++) {
            p[k] = new Rng.PoissonParams((k / 255f) * vals);
        }
        return p;
    }

    /** 2^⌈log2(number of distinct values)⌉ of values that are multiples of 1/255. */
    static float levels(float[] quantized) {
        boolean[] seen = new boolean[256];
        int n = 0;
        for (float v : quantized) {
            int k = Math.round(v * 255f);
            if (!seen[k]) {
                seen[k] = true;
                n++;
            }
        }
        return (float) Math.pow(2, Math.ceil(Math.log(n) / Math.log(2)));
    }
}
