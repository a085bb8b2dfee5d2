package org.adcsr.eval.metrics;

import org.adcsr.core.image.Image;

/**
 * SSIM with an 11×11 Gaussian window (σ 1.5), valid filtering, data range 255 (METRICS.md §1). Inputs are already
 * cropped. The two conventions differ in the Y they see and in pyiqa's {@code relu} on the contrast-structure term.
 */
public final class Ssim {
    private Ssim() {}

    private static final double C1 = (0.01 * 255) * (0.01 * 255), C2 = (0.03 * 255) * (0.03 * 255);
    private static final double[] WINDOW = Filters.gaussian1d(11, 1.5);

    /** pyiqa {@code SSIM(test_y_channel, color_space='ycbcr', downsample=False)}: rounded Y, or the mean over RGB. */
    public static double pyiqa(Image sr, Image gt, boolean yChannel) {
        if (yChannel) {
            return ssim(Luma.pyiqaYcbcr255(sr), Luma.pyiqaYcbcr255(gt), true);
        }
        double sum = 0;
        for (int c = 0; c < 3; c++) {
            sum += ssim(Luma.pyiqaChannel255(sr, c), Luma.pyiqaChannel255(gt, c), true);
        }
        return sum / 3;
    }

    /** BasicSR {@code calculate_ssim}: unrounded float32 Y, or the mean of the three channels' SSIM. */
    public static double basicsr(Image sr, Image gt, boolean yChannel) {
        if (yChannel) {
            return ssim(Luma.basicsrY(sr), Luma.basicsrY(gt), false);
        }
        double sum = 0;
        for (int c = 0; c < 3; c++) {
            sum += ssim(Luma.basicsrChannel(sr, c), Luma.basicsrChannel(gt, c), false);
        }
        return sum / 3;
    }

    /** Mean SSIM map of two planes; {@code reluCs} clamps the contrast-structure term at 0 as pyiqa does. */
    static double ssim(Plane a, Plane b, boolean reluCs) {
        if (a.width() < 11 || a.height() < 11) {
            throw new IllegalArgumentException("SSIM needs at least 11x11 pixels, got " + a.width() + "x"
                    + a.height());
        }
        Plane[] f = filter5(a, b);
        Plane mu1 = f[0], mu2 = f[1], e11 = f[2], e22 = f[3], e12 = f[4];
        double sum = 0;
        int m = mu1.data().length;
        for (int i = 0; i < m; i++) {
            double m1 = mu1.data()[i], m2 = mu2.data()[i];
            double m1s = m1 * m1, m2s = m2 * m2, m12 = m1 * m2;
            double s1 = e11.data()[i] - m1s, s2 = e22.data()[i] - m2s, s12 = e12.data()[i] - m12;
            double v;
            if (reluCs) {
                double cs = (2 * s12 + C2) / (s1 + s2 + C2);
                v = (2 * m12 + C1) / (m1s + m2s + C1) * Math.max(cs, 0);
            } else {
                v = ((2 * m12 + C1) * (2 * s12 + C2)) / ((m1s + m2s + C1) * (s1 + s2 + C2));
            }
            sum += v;
        }
        return sum / m;
    }

    /**
     * The valid 11×11 Gaussian filtering of x, y, x², y² and xy in one pass: the horizontal sums of the five maps are
     * formed together from the two rows, then filtered vertically. Same arithmetic as five separate separable
     * filterings.
     */
    private static Plane[] filter5(Plane a, Plane b) {
        double[] k = WINDOW;
        int s = k.length, w = a.width(), h = a.height(), ow = w - s + 1, oh = h - s + 1;
        double[] x = a.data(), y = b.data();
        double[][] rows = new double[5][ow * h];
        for (int r = 0; r < h; r++) {
            int base = r * w, ob = r * ow;
            for (int c = 0; c < ow; c++) {
                double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0;
                for (int j = 0; j < s; j++) {
                    double kj = k[j], xv = x[base + c + j], yv = y[base + c + j];
                    s1 += kj * xv;
                    s2 += kj * yv;
                    s11 += kj * (xv * xv);
                    s22 += kj * (yv * yv);
                    s12 += kj * (xv * yv);
                }
                rows[0][ob + c] = s1;
                rows[1][ob + c] = s2;
                rows[2][ob + c] = s11;
                rows[3][ob + c] = s22;
                rows[4][ob + c] = s12;
            }
        }
        Plane[] out = new Plane[5];
        for (int q = 0; q < 5; q++) {
            double[] src = rows[q], dst = new double[ow * oh];
            for (int r = 0; r < oh; r++) {
                int ob = r * ow;
                for (int j = 0; j < s; j++) {
                    double kj = k[j];
                    int rb = (r + j) * ow;
                    for (int c = 0; c < ow; c++) {
                        dst[ob + c] += kj * src[rb + c];
                    }
                }
            }
            out[q] = new Plane(ow, oh, dst);
        }
        return out;
    }
}
