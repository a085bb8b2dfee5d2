package org.adcsr.core.degrade;

/**
 * BasicSR's {@code USMSharp} (radius 50, weight 0.5, threshold 10) with the 51×51 Gaussian of OpenCV's
 * {@code getGaussianKernel(51, 0)} (σ = 8); the separable kernel is applied as two 1-D passes.
 */
public final class Usm {
    private static final int SIZE = 51;
    private static final float[] K1 = new float[SIZE];

    static {
        double sigma = 0.3 * ((SIZE - 1) * 0.5 - 1) + 0.8;
        double sum = 0;
        double[] k = new double[SIZE];
        for (int i = 0; i < SIZE; i++) {
            double x = i - (SIZE - 1) / 2.0;
            k[i] = Math.exp(-x * x / (2 * sigma * sigma));
            sum += k[i];
        }
        for (int i = 0; i < SIZE; i++) {
            K1[i] = (float) (k[i] / sum);
        }
    }

    private Usm() {
    }

    public static Planes sharpen(Planes img) {
        Planes blur = blur(img);
        Planes mask = new Planes(img.c, img.h, img.w);
        float[] residual = new float[img.d.length];
        for (int i = 0; i < residual.length; i++) {
            residual[i] = img.d[i] - blur.d[i];
            mask.d[i] = Math.abs(residual[i]) * 255f > 10f ? 1f : 0f;
        }
        Planes soft = blur(mask);
        Planes out = new Planes(img.c, img.h, img.w);
        for (int i = 0; i < residual.length; i++) {
            float sharp = Math.min(1f, Math.max(0f, img.d[i] + 0.5f * residual[i]));
            out.d[i] = soft.d[i] * sharp + (1f - soft.d[i]) * img.d[i];
        }
        return out;
    }

    /** Reflect-padded separable Gaussian blur. */
    static Planes blur(Planes img) {
        int pad = SIZE / 2;
        int h = img.h;
        int w = img.w;
        Planes out = new Planes(img.c, h, w);
        float[] row = new float[w + 2 * pad];
        float[] tmp = new float[(h + 2 * pad) * w];
        for (int ch = 0; ch < img.c; ch++) {
            int base = ch * h * w;
            for (int y = 0; y < h + 2 * pad; y++) {
                int sy = Filter.reflect(y - pad, h);
                for (int x = 0; x < w + 2 * pad; x++) {
                    row[x] = img.d[base + sy * w + Filter.reflect(x - pad, w)];
                }
                for (int x = 0; x < w; x++) {
                    float s = 0f;
                    for (int j = 0; j < SIZE; j++) {
                        s += K1[j] * row[x + j];
                    }
                    tmp[y * w + x] = s;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int i = 0; i < SIZE; i++) {
                    float kv = K1[i];
                    int src = (y + i) * w;
                    int dst = base + y * w;
                    for (int x = 0; x < w; x++) {
                        out.d[dst + x] += kv * tmp[src + x];
                    }
                }
            }
        }
        return out;
    }
}
