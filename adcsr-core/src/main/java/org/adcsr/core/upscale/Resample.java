package org.adcsr.core.upscale;

/** Classic resampling of one plane (for alpha channels and the wavelet colour fix). */
public final class Resample {
    private Resample() {
    }

    /**
     * Bicubic resize with the Keys kernel (a = −0.5), pixel centres aligned ({@code align_corners=False}) and
     * edge pixels replicated; no anti-aliasing (meant for upscaling).
     */
    public static float[] bicubic(float[] src, int sw, int sh, int dw, int dh) {
        return bicubic(src, sw, sh, dw, dh, -0.5);
    }

    /**
     * PyTorch's {@code F.interpolate(mode="bicubic", align_corners=False)} for upscaling: the cubic convolution
     * kernel with A = −0.75, source indices clamped at the edges, no clamping of the values.
     */
    public static float[] bicubicTorch(float[] src, int sw, int sh, int dw, int dh) {
        return bicubic(src, sw, sh, dw, dh, -0.75);
    }

    private static float[] bicubic(float[] src, int sw, int sh, int dw, int dh, double a) {
        float[] tmp = new float[dw * sh];
        for (int y = 0; y < sh; y++) {
            resize1d(src, y * sw, 1, sw, tmp, y * dw, 1, dw, a);
        }
        float[] out = new float[dw * dh];
        for (int x = 0; x < dw; x++) {
            resize1d(tmp, x, dw, sh, out, x, dw, dh, a);
        }
        return out;
    }

    private static void resize1d(float[] in, int inOff, int inStride, int n, float[] out, int outOff, int outStride,
            int m, double a) {
        double scale = (double) n / m;
        for (int j = 0; j < m; j++) {
            double pos = (j + 0.5) * scale - 0.5;
            int i0 = (int) Math.floor(pos);
            double t = pos - i0;
            double acc = 0;
            for (int k = -1; k <= 2; k++) {
                int i = Math.min(Math.max(i0 + k, 0), n - 1);
                acc += in[inOff + i * inStride] * keys(k - t, a);
            }
            out[outOff + j * outStride] = (float) acc;
        }
    }

    private static double keys(double x, double a) {
        x = Math.abs(x);
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        }
        return 0;
    }
}
