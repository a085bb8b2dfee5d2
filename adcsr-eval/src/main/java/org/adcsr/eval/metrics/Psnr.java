package org.adcsr.eval.metrics;

import org.adcsr.core.image.Image;

/** PSNR in dB, in BasicSR's or pyiqa's arithmetic (METRICS.md §1). Inputs are already cropped. */
public final class Psnr {
    private Psnr() {}

    /**
     * pyiqa {@code psnr(x, y, test_y_channel, data_range=1, eps=1e-8, color_space='ycbcr')}: 0–1 float32 samples,
     * {@code 10·log10(1/(mse + 1e-8))} evaluated in float32 as torch does. The mean is accumulated in float64 over the
     * float32 squared differences (torch sums in float32 with its own order, a difference below one float32 ulp of
     * the mse).
     */
    public static double pyiqa(Image sr, Image gt, boolean yChannel) {
        double sum = 0;
        long count = 0;
        if (yChannel) {
            float[] a = Luma.pyiqaYcbcrUnit(sr), b = Luma.pyiqaYcbcrUnit(gt);
            for (int i = 0; i < a.length; i++) {
                float d = a[i] - b[i];
                sum += d * d;
            }
            count = a.length;
        } else {
            int n = sr.width() * sr.height();
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < n; i++) {
                    float d = Luma.unit(sr, c, i) - Luma.unit(gt, c, i);
                    sum += d * d;
                }
            }
            count = 3L * n;
        }
        float mse = (float) (sum / count);
        float denom = mse + 1e-8f;
        float ratio = 1f / denom;
        float log = (float) Math.log10(ratio);
        return 10f * log;
    }

    /** BasicSR {@code calculate_psnr}: float64, {@code 10·log10(255²/mse)}, infinity for identical images. */
    public static double basicsr(Image sr, Image gt, boolean yChannel) {
        double sum = 0;
        long count = 0;
        if (yChannel) {
            double[] a = Luma.basicsrY(sr).data(), b = Luma.basicsrY(gt).data();
            for (int i = 0; i < a.length; i++) {
                double d = a[i] - b[i];
                sum += d * d;
            }
            count = a.length;
        } else {
            for (int c = 0; c < 3; c++) {
                double[] a = Luma.basicsrChannel(sr, c).data(), b = Luma.basicsrChannel(gt, c).data();
                for (int i = 0; i < a.length; i++) {
                    double d = a[i] - b[i];
                    sum += d * d;
                }
                count += a.length;
            }
        }
        double mse = sum / count;
        if (mse == 0) {
            return Double.POSITIVE_INFINITY;
        }
        return 10.0 * Math.log10(255.0 * 255.0 / mse);
    }
}
