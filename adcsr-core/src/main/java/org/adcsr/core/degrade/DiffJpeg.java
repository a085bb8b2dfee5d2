package org.adcsr.core.degrade;

/**
 * BasicSR's {@code DiffJPEG(differentiable=False)}: a float re-implementation of baseline JPEG with 4:2:0 chroma
 * (spec §5): pad to a multiple of 16, YCbCr of x·255 (unrounded), 2×2 chroma averaging, 8×8 DCT, quantisation with
 * round-half-even by the standard tables scaled by the float quality factor (not rounded or clamped to [1,255],
 * luma table transposed as in the reference), inverse DCT, chroma repetition, RGB, clamp to [0,255], ÷255, crop.
 * No pixel is rounded to an integer. The DCT runs in double precision as two separable passes.
 */
public final class DiffJpeg {
    private static final int[][] LUMA = {
        {16, 11, 10, 16, 24, 40, 51, 61},
        {12, 12, 14, 19, 26, 58, 60, 55},
        {14, 13, 16, 24, 40, 57, 69, 56},
        {14, 17, 22, 29, 51, 87, 80, 62},
        {18, 22, 37, 56, 68, 109, 103, 77},
        {24, 35, 55, 64, 81, 104, 113, 92},
        {49, 64, 78, 87, 103, 121, 120, 101},
        {72, 92, 95, 98, 112, 100, 103, 99}};
    private static final int[][] CHROMA_TOP = {{17, 18, 24, 47}, {18, 21, 26, 66}, {24, 26, 56, 99}, {47, 66, 99, 99}};
    /** step[u][v] before scaling by the quality factor; the luma table is transposed as in BasicSR. */
    private static final float[] Y_TABLE = new float[64];
    private static final float[] C_TABLE = new float[64];
    /** COS[x][u] = cos((2x+1)uπ/16). */
    private static final double[] COS = new double[64];
    private static final double[] ALPHA = new double[8];

    static {
        for (int u = 0; u < 8; u++) {
            for (int v = 0; v < 8; v++) {
                Y_TABLE[u * 8 + v] = LUMA[v][u];
                C_TABLE[u * 8 + v] = u < 4 && v < 4 ? CHROMA_TOP[v][u] : 99;
            }
        }
        for (int x = 0; x < 8; x++) {
            for (int u = 0; u < 8; u++) {
                COS[x * 8 + u] = Math.cos((2 * x + 1) * u * Math.PI / 16);
            }
            ALPHA[x] = x == 0 ? 1 / Math.sqrt(2) : 1;
        }
    }

    private DiffJpeg() {
    }

    /** BasicSR {@code quality_to_factor}, in float32 like the tensor code. */
    static float factor(float quality) {
        return quality < 50f ? (5000f / quality) / 100f : (200f - quality * 2f) / 100f;
    }

    /** Compresses and decompresses an RGB image with values in [0,1] at a float quality in (0, 100]. */
    public static Planes apply(Planes img, double quality) {
        if (img.c != 3) {
            throw new IllegalArgumentException("DiffJPEG needs 3 channels");
        }
        float f = factor((float) quality);
        int h = img.h;
        int w = img.w;
        int ph = (h + 15) / 16 * 16;
        int pw = (w + 15) / 16 * 16;
        int plane = h * w;
        float[] yy = new float[ph * pw];
        float[] cb = new float[ph * pw];
        float[] cr = new float[ph * pw];
        for (int y = 0; y < ph; y++) {
            for (int x = 0; x < pw; x++) {
                float r = 0f;
                float g = 0f;
                float b = 0f;
                if (y < h && x < w) {
                    int i = y * w + x;
                    r = img.d[i] * 255f;
                    g = img.d[plane + i] * 255f;
                    b = img.d[2 * plane + i] * 255f;
                }
                int o = y * pw + x;
                yy[o] = 0.299f * r + 0.587f * g + 0.114f * b;
                cb[o] = -0.168736f * r + -0.331264f * g + 0.5f * b + 128f;
                cr[o] = 0.5f * r + -0.418688f * g + -0.081312f * b + 128f;
            }
        }
        int ch = ph / 2;
        int cw = pw / 2;
        float[] cbs = subsample(cb, ph, pw);
        float[] crs = subsample(cr, ph, pw);
        codec(yy, ph, pw, Y_TABLE, f);
        codec(cbs, ch, cw, C_TABLE, f);
        codec(crs, ch, cw, C_TABLE, f);
        Planes out = new Planes(3, h, w);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float ly = yy[y * pw + x];
                float b = cbs[(y / 2) * cw + x / 2] - 128f;
                float r = crs[(y / 2) * cw + x / 2] - 128f;
                float rr = ly + 0f * b + 1.402f * r;
                float gg = ly + -0.344136f * b + -0.714136f * r;
                float bb = ly + 1.772f * b + 0f * r;
                int i = y * w + x;
                out.d[i] = clamp255(rr) / 255f;
                out.d[plane + i] = clamp255(gg) / 255f;
                out.d[2 * plane + i] = clamp255(bb) / 255f;
            }
        }
        return out;
    }

    private static float clamp255(float v) {
        return Math.min(255f, Math.max(0f, v));
    }

    private static float[] subsample(float[] p, int h, int w) {
        int oh = h / 2;
        int ow = w / 2;
        float[] out = new float[oh * ow];
        for (int y = 0; y < oh; y++) {
            for (int x = 0; x < ow; x++) {
                int i = 2 * y * w + 2 * x;
                out[y * ow + x] = (p[i] + p[i + 1] + p[i + w] + p[i + w + 1]) / 4f;
            }
        }
        return out;
    }

    /** DCT, quantise/dequantise, inverse DCT of every 8×8 block of a plane, in place. */
    private static void codec(float[] p, int h, int w, float[] table, float f) {
        double[] block = new double[64];
        double[] tmp = new double[64];
        float[] step = new float[64];
        for (int i = 0; i < 64; i++) {
            step[i] = table[i] * f;
        }
        for (int by = 0; by < h; by += 8) {
            for (int bx = 0; bx < w; bx += 8) {
                for (int r = 0; r < 8; r++) {
                    for (int c = 0; c < 8; c++) {
                        block[r * 8 + c] = p[(by + r) * w + bx + c] - 128f;
                    }
                }
                // forward: F[u][v] = ¼·α(u)α(v)·Σ_r Σ_c f[r][c]·cos((2r+1)uπ/16)·cos((2c+1)vπ/16)
                for (int r = 0; r < 8; r++) {
                    for (int v = 0; v < 8; v++) {
                        double s = 0;
                        for (int c = 0; c < 8; c++) {
                            s += block[r * 8 + c] * COS[c * 8 + v];
                        }
                        tmp[r * 8 + v] = s;
                    }
                }
                for (int u = 0; u < 8; u++) {
                    for (int v = 0; v < 8; v++) {
                        double s = 0;
                        for (int r = 0; r < 8; r++) {
                            s += tmp[r * 8 + v] * COS[r * 8 + u];
                        }
                        float coef = (float) (0.25 * ALPHA[u] * ALPHA[v] * s);
                        if (step[u * 8 + v] > 0f) {
                            coef = (float) Math.rint(coef / step[u * 8 + v]) * step[u * 8 + v];
                        }
                        block[u * 8 + v] = coef * ALPHA[u] * ALPHA[v];
                    }
                }
                // inverse: f[x][y] = ¼·Σ_u Σ_v α(u)α(v)·F[u][v]·cos((2x+1)uπ/16)·cos((2y+1)vπ/16) + 128
                for (int u = 0; u < 8; u++) {
                    for (int y = 0; y < 8; y++) {
                        double s = 0;
                        for (int v = 0; v < 8; v++) {
                            s += block[u * 8 + v] * COS[y * 8 + v];
                        }
                        tmp[u * 8 + y] = s;
                    }
                }
                for (int x = 0; x < 8; x++) {
                    for (int y = 0; y < 8; y++) {
                        double s = 0;
                        for (int u = 0; u < 8; u++) {
                            s += tmp[u * 8 + y] * COS[x * 8 + u];
                        }
                        p[(by + x) * w + bx + y] = (float) (0.25 * s + 128);
                    }
                }
            }
        }
    }
}
