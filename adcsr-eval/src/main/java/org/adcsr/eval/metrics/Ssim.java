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
        int n = a.data().length;
        double[] aa = new double[n], bb = new double[n], ab = new double[n];
        for (int i = 0; i < n; i++) {
            double x = a.data()[i], y = b.data()[i];
            aa[i] = x * x;
            bb[i] = y * y;
            ab[i] = x * y;
        }
        Plane mu1 = Filters.valid(a, WINDOW), mu2 = Filters.valid(b, WINDOW);
        Plane e11 = Filters.valid(new Plane(a.width(), a.height(), aa), WINDOW);
        Plane e22 = Filters.valid(new Plane(a.width(), a.height(), bb), WINDOW);
        Plane e12 = Filters.valid(new Plane(a.width(), a.height(), ab), WINDOW);
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
}
