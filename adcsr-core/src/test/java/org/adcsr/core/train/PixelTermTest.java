package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.upscale.ColorCorrection;
import org.junit.jupiter.api.Test;

/**
 * adcsr-distill's pixel term after the wavelet fix ({@link Stage2.PixelTerm}) sees the output exactly as
 * adcsr-upscale's {@link ColorCorrection#WAVELET} makes it, and trains only the output's high frequencies; its
 * squared form ({@code --pixel-loss l2}) is the mean squared error of that view, with that error's gradient.
 */
class PixelTermTest {
    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (2 * r.nextDouble() - 1);
        }
        return v;
    }

    @Test
    void fixedOutputIsTheWaveletFixOfUpscale() {
        // an LR of 9 × 10 (HR 36 × 40: the levels' dilation, up to 16, passes the edges), two images
        int b = 2;
        int h = 9;
        int w = 10;
        Random r = new Random(7);
        float[] lr = random(r, b * 3 * h * w);
        float[] hr = random(r, b * 3 * 16 * h * w);
        float[] sr = random(r, b * 3 * 16 * h * w);
        try (NDManager m = NDManager.newBaseManager()) {
            Stage2.PixelTerm t = Stage2.PixelTerm.of(ColorCorrection.WAVELET, m, lr, hr, b, h, w);
            NDArray srArray = m.create(sr, new Shape(b, 3, 4 * h, 4 * w));
            NDArray hrArray = m.create(hr, new Shape(b, 3, 4 * h, 4 * w));
            float[] got = t.fixed(srArray, hrArray).toFloatArray();
            int plane = 16 * h * w;
            double worst = 0;
            for (int i = 0; i < b; i++) {
                float[][] want = new float[3][];
                float[][] lrPlanes = new float[3][];
                for (int c = 0; c < 3; c++) {
                    want[c] = java.util.Arrays.copyOfRange(sr, (i * 3 + c) * plane, (i * 3 + c + 1) * plane);
                    lrPlanes[c] = java.util.Arrays.copyOfRange(lr, (i * 3 + c) * h * w, (i * 3 + c + 1) * h * w);
                }
                ColorCorrection.WAVELET.apply(want, 4 * w, 4 * h, lrPlanes, w, h);
                for (int c = 0; c < 3; c++) {
                    for (int k = 0; k < plane; k++) {
                        worst = Math.max(worst, Math.abs(want[c][k] - got[(i * 3 + c) * plane + k]));
                    }
                }
            }
            assertTrue(worst < 2e-5, "worst difference from ColorCorrection.WAVELET " + worst);

            // without a fix: SR itself, and the term is mean |SR − HR|
            Stage2.PixelTerm none = Stage2.PixelTerm.of(ColorCorrection.NONE, m, lr, hr, b, h, w);
            assertEquals(srArray.sub(hrArray).abs().mean().getFloat(), none.loss(srArray).getFloat(), 0);
        }
    }

    @Test
    void lowFrequenciesOfTheOutputGetNoGradient() {
        int h = 8;
        int w = 8;
        Random r = new Random(3);
        try (NDManager m = NDManager.newBaseManager()) {
            Stage2.PixelTerm t = Stage2.PixelTerm.of(ColorCorrection.WAVELET, m, random(r, 3 * h * w),
                    random(r, 3 * 16 * h * w), 1, h, w);
            // a constant added to SR is a low frequency: the term does not change
            NDArray sr = m.create(random(r, 3 * 16 * h * w), new Shape(1, 3, 4 * h, 4 * w));
            assertEquals(t.loss(sr).getFloat(), t.loss(sr.add(0.3f)).getFloat(), 1e-5);
            // the gradient of the term is orthogonal to constants: it sums to 0 over each plane
            sr = sr.toType(DataType.FLOAT64, false);
            sr.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Autograd.backward(gc, t.loss(sr));
            }
            double[] sums = sr.getGradient().sum(new int[] {2, 3}).toDoubleArray();
            for (double s : sums) {
                assertEquals(0, s, 1e-9);
            }
        }
    }

    @Test
    void squaredTermIsTheMeanSquaredErrorOfTheFixedOutputWithItsGradient() {
        int b = 2;
        int h = 5;
        int w = 6;
        Random r = new Random(11);
        float[] lr = random(r, b * 3 * h * w);
        float[] hr = random(r, b * 3 * 16 * h * w);
        float[] sr = random(r, b * 3 * 16 * h * w);
        try (NDManager m = NDManager.newBaseManager()) {
            Stage2.PixelTerm l1 = Stage2.PixelTerm.of(ColorCorrection.WAVELET, m, lr, hr, b, h, w);
            Stage2.PixelTerm l2 = l1.squared(true);
            Shape shape = new Shape(b, 3, 4 * h, 4 * w);
            NDArray hrArray = m.create(hr, shape).toType(DataType.FLOAT64, false);
            NDArray srArray = m.create(sr, shape).toType(DataType.FLOAT64, false);
            double[] fixed = l2.fixed(srArray, hrArray).toDoubleArray();
            double[] hr64 = hrArray.toDoubleArray();
            double sum = 0;
            double sumAbs = 0;
            for (int i = 0; i < fixed.length; i++) {
                double d = fixed[i] - hr64[i];
                sum += d * d;
                sumAbs += Math.abs(d);
            }
            assertEquals(sum / fixed.length, l2.loss(srArray).getDouble(), 1e-6);
            assertEquals(sumAbs / fixed.length, l1.loss(srArray).getDouble(), 1e-6);
            assertTrue(Math.abs(sum - sumAbs) > 1, "the two terms differ on this input");

            srArray.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Autograd.backward(gc, l2.loss(srArray));
            }
            double[] grad = srArray.getGradient().toDoubleArray();
            double[] base = srArray.toDoubleArray();
            double eps = 1e-4;
            for (int k : new int[] {0, 17, 333, fixed.length - 1}) {
                double[] plus = base.clone();
                double[] minus = base.clone();
                plus[k] += eps;
                minus[k] -= eps;
                double lp = l2.loss(m.create(plus, shape)).getDouble();
                double lm = l2.loss(m.create(minus, shape)).getDouble();
                assertEquals((lp - lm) / (2 * eps), grad[k], 1e-7, "gradient at " + k);
            }
        }
    }
}
