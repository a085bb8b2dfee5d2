package org.adcsr.core.degrade;

/**
 * PyTorch's {@code F.interpolate} (align_corners=False, no antialias) for NCHW float32 on the CPU, in the three modes
 * the degradation draws. Output size is {@code floor(in·s)} for a scale factor; the source coordinate is
 * {@code (dst + 0.5)·r − 0.5} with r = 1/s when a scale factor was passed and r = in/out when a size was passed.
 */
public final class Resize {
    private Resize() {
    }

    public enum Mode {
        AREA("area"), BILINEAR("bilinear"), BICUBIC("bicubic");

        public final String key;

        Mode(String key) {
            this.key = key;
        }

        public static Mode of(String key) {
            for (Mode m : values()) {
                if (m.key.equals(key)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown resize mode '" + key + "'");
        }
    }

    /** {@code interpolate(img, scale_factor=s, mode)}. */
    public static Planes byScale(Planes img, double scale, Mode mode) {
        int oh = (int) Math.floor(img.h * scale);
        int ow = (int) Math.floor(img.w * scale);
        return resize(img, oh, ow, mode, scale);
    }

    /** {@code interpolate(img, size=(oh, ow), mode)}. */
    public static Planes toSize(Planes img, int oh, int ow, Mode mode) {
        return resize(img, oh, ow, mode, 0);
    }

    private static Planes resize(Planes img, int oh, int ow, Mode mode, double scale) {
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("resize to an empty image (" + oh + "x" + ow + ")");
        }
        return switch (mode) {
            case AREA -> area(img, oh, ow);
            case BILINEAR -> separable(img, linear(img.h, oh, scale), linear(img.w, ow, scale));
            case BICUBIC -> separable(img, cubic(img.h, oh, scale), cubic(img.w, ow, scale));
        };
    }

    /** Per output position: the source indices and weights (taps of them). */
    record Taps(int taps, int[] index, float[] weight) {
    }

    /** torch {@code area_pixel_compute_scale}: 1/s in double cast to float when a scale was given, else in/out. */
    private static float ratio(int in, int out, double scale) {
        return scale > 0 ? (float) (1.0 / scale) : (float) in / out;
    }

    static Taps linear(int in, int out, double scale) {
        int[] idx = new int[out * 2];
        float[] wt = new float[out * 2];
        float r = ratio(in, out, scale);
        for (int i = 0; i < out; i++) {
            if (in == out) {
                idx[2 * i] = i;
                idx[2 * i + 1] = i;
                wt[2 * i] = 1f;
                wt[2 * i + 1] = 0f;
                continue;
            }
            float src = r * (i + 0.5f) - 0.5f;
            if (src < 0f) {
                src = 0f;
            }
            int i0 = (int) src;
            int i1 = i0 + (i0 < in - 1 ? 1 : 0);
            float l1 = Math.min(Math.max(src - i0, 0f), 1f);
            idx[2 * i] = i0;
            idx[2 * i + 1] = i1;
            wt[2 * i] = 1f - l1;
            wt[2 * i + 1] = l1;
        }
        return new Taps(2, idx, wt);
    }

    static Taps cubic(int in, int out, double scale) {
        int[] idx = new int[out * 4];
        float[] wt = new float[out * 4];
        float r = ratio(in, out, scale);
        final float a = -0.75f;
        for (int i = 0; i < out; i++) {
            float src = r * (i + 0.5f) - 0.5f;
            int i0 = (int) Math.floor(src);
            float t = src - i0;
            float x1 = t;
            float x2 = 1f - t;
            wt[4 * i] = cc2(x1 + 1f, a);
            wt[4 * i + 1] = cc1(x1, a);
            wt[4 * i + 2] = cc1(x2, a);
            wt[4 * i + 3] = cc2(x2 + 1f, a);
            for (int j = 0; j < 4; j++) {
                idx[4 * i + j] = Math.max(Math.min(i0 - 1 + j, in - 1), 0);
            }
        }
        return new Taps(4, idx, wt);
    }

    private static float cc1(float x, float a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static float cc2(float x, float a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    /**
     * Like torch's generic CPU kernel: for each output pixel, out = Σ_i wy_i · (Σ_j wx_j · src[y_i][x_j]), summed in
     * float32 in tap order.
     */
    private static Planes separable(Planes img, Taps ty, Taps tx) {
        int oh = ty.index.length / ty.taps;
        int ow = tx.index.length / tx.taps;
        Planes out = new Planes(img.c, oh, ow);
        int ny = ty.taps;
        int nx = tx.taps;
        for (int ch = 0; ch < img.c; ch++) {
            int base = ch * img.h * img.w;
            int obase = ch * oh * ow;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    float acc = 0f;
                    for (int i = 0; i < ny; i++) {
                        int row = base + ty.index[y * ny + i] * img.w;
                        float inner = 0f;
                        for (int j = 0; j < nx; j++) {
                            float t = img.d[row + tx.index[x * nx + j]] * tx.weight[x * nx + j];
                            inner = j == 0 ? t : inner + t;
                        }
                        float t = inner * ty.weight[y * ny + i];
                        acc = i == 0 ? t : acc + t;
                    }
                    out.d[obase + y * ow + x] = acc;
                }
            }
        }
        return out;
    }

    /** {@code adaptive_avg_pool2d}: cell i averages [⌊i·in/out⌋, ⌈(i+1)·in/out⌉) in float32. */
    static Planes area(Planes img, int oh, int ow) {
        Planes out = new Planes(img.c, oh, ow);
        for (int ch = 0; ch < img.c; ch++) {
            int base = ch * img.h * img.w;
            for (int y = 0; y < oh; y++) {
                int y0 = (int) ((long) y * img.h / oh);
                int y1 = (int) (((long) (y + 1) * img.h + oh - 1) / oh);
                for (int x = 0; x < ow; x++) {
                    int x0 = (int) ((long) x * img.w / ow);
                    int x1 = (int) (((long) (x + 1) * img.w + ow - 1) / ow);
                    float sum = 0f;
                    for (int yy = y0; yy < y1; yy++) {
                        int row = base + yy * img.w;
                        for (int xx = x0; xx < x1; xx++) {
                            sum += img.d[row + xx];
                        }
                    }
                    out.d[(ch * oh + y) * ow + x] = sum / (y1 - y0) / (x1 - x0);
                }
            }
        }
        return out;
    }
}
