package org.adcsr.eval.metrics;

import org.adcsr.core.image.Image;

/**
 * The inputs each reference implementation sees, reproduced with its own float32/float64 steps (METRICS.md §1).
 *
 * <p>Colour samples: an 8-bit sample v is {@code v/255} as float32 (torchvision {@code ToTensor}) or {@code v}
 * (BasicSR's 0–255 arrays); a 16-bit sample is {@code v/65535} as float32, or {@code v/257} (float32) on the 0–255
 * scale. Gray images are replicated to three channels and alpha is dropped, as PIL's {@code convert('RGB')} and
 * OpenCV's {@code IMREAD_COLOR} do.
 */
public final class Luma {
    private Luma() {}

    // float32 tensors in pyiqa (torch.tensor defaults to float32)
    private static final float YCC_R = 65.481f, YCC_G = 128.553f, YCC_B = 24.966f;
    private static final float YIQ_R = 0.299f, YIQ_G = 0.587f, YIQ_B = 0.114f;

    /** Crops {@code border} pixels from each side (BasicSR and pyiqa crop before converting to Y). */
    public static Image crop(Image img, int border) {
        if (border == 0) {
            return img;
        }
        int w = img.width() - 2 * border, h = img.height() - 2 * border;
        if (w < 1 || h < 1) {
            throw new IllegalArgumentException("crop border " + border + " leaves nothing of a "
                    + img.width() + "x" + img.height() + " image");
        }
        float[] out = new float[w * h * img.channels()];
        for (int c = 0; c < img.channels(); c++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(img.data(), (c * img.height() + y + border) * img.width() + border,
                        out, (c * h + y) * w, w);
            }
        }
        return new Image(w, h, img.channels(), img.maxValue(), out);
    }

    /** Channel {@code c} of R, G, B (gray replicated) scaled to 0–1 as float32, as {@code ToTensor} gives it. */
    static float unit(Image img, int c, int i) {
        int plane = img.isGray() ? 0 : c;
        float v = img.data()[plane * img.width() * img.height() + i];
        return v / (float) img.maxValue();
    }

    /** Channel {@code c} of R, G, B (gray replicated) on the 0–255 scale, as BasicSR's arrays hold it. */
    static float byteScale(Image img, int c, int i) {
        int plane = img.isGray() ? 0 : c;
        float v = img.data()[plane * img.width() * img.height() + i];
        return img.maxValue() == 255 ? v : v / 257f;
    }

    /**
     * A float32 dot product of (r, g, b) with (wr, wg, wb) as torch's CPU {@code matmul} (BLAS sgemm with FMA) rounds
     * it: {@code fma(b, wb, fma(g, wg, r·wr))}. Checked against torch 1.13 on the fixtures: every pixel identical, where
     * plain float32 arithmetic differs in about one pixel in five.
     */
    static float fmaChain(float r, float g, float b, float wr, float wg, float wb) {
        return Math.fma(b, wb, Math.fma(g, wg, r * wr));
    }

    /** pyiqa {@code to_y_channel(x, 1, 'ycbcr')}: BT.601 Y in 0–1, float32, not rounded. */
    public static float[] pyiqaYcbcrUnit(Image img) {
        int n = img.width() * img.height();
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            float r = unit(img, 0, i), g = unit(img, 1, i), b = unit(img, 2, i);
            y[i] = (fmaChain(r, g, b, YCC_R, YCC_G, YCC_B) + 16f) / 255f;
        }
        return y;
    }

    /** pyiqa {@code to_y_channel(x, 255, 'ycbcr')}: BT.601 Y ×255, rounded half-to-even. */
    public static Plane pyiqaYcbcr255(Image img) {
        float[] u = pyiqaYcbcrUnit(img);
        double[] d = new double[u.length];
        for (int i = 0; i < u.length; i++) {
            d[i] = Math.rint(u[i] * 255f);
        }
        return new Plane(img.width(), img.height(), d);
    }

    /** pyiqa {@code to_y_channel(x, 255, 'yiq')}: 0.299R + 0.587G + 0.114B, ×255, rounded half-to-even. */
    public static Plane pyiqaYiq255(Image img) {
        int n = img.width() * img.height();
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            float r = unit(img, 0, i), g = unit(img, 1, i), b = unit(img, 2, i);
            d[i] = Math.rint(fmaChain(r, g, b, YIQ_R, YIQ_G, YIQ_B) * 255f);
        }
        return new Plane(img.width(), img.height(), d);
    }

    /** pyiqa RGB path: channel c ×255 rounded (gives the integer sample back for 8-bit input). */
    public static Plane pyiqaChannel255(Image img, int c) {
        int n = img.width() * img.height();
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = Math.rint(unit(img, c, i) * 255f);
        }
        return new Plane(img.width(), img.height(), d);
    }

    /**
     * BasicSR {@code to_y_channel}: float32 {@code x/255}, float64 {@code 16 + 24.966B + 128.553G + 65.481R},
     * {@code /255} stored as float32, ×255 in float32, not rounded.
     */
    public static Plane basicsrY(Image img) {
        int n = img.width() * img.height();
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            double b = byteScale(img, 2, i) / 255f, g = byteScale(img, 1, i) / 255f, r = byteScale(img, 0, i) / 255f;
            double v = b * 24.966 + g * 128.553 + r * 65.481 + 16.0;
            float y01 = (float) (v / 255.0);
            d[i] = y01 * 255f;
        }
        return new Plane(img.width(), img.height(), d);
    }

    /** BasicSR RGB path: channel c on the 0–255 scale as float64. */
    public static Plane basicsrChannel(Image img, int c) {
        int n = img.width() * img.height();
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = byteScale(img, c, i);
        }
        return new Plane(img.width(), img.height(), d);
    }
}
