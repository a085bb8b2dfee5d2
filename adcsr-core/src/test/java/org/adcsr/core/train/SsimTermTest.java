package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Random;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.engine.EngineCheck;
import org.adcsr.core.engine.GcStorm;
import org.junit.jupiter.api.Test;

/**
 * {@link SsimTerm} is 1 − SSIM of BT.601 Y as written out here with a direct 11×11 window in double loops (the
 * formula of adcsr-eval's SSIM on unrounded Y), with that function's gradient.
 */
class SsimTermTest {
    /** Smooth images with noise: SSIM well inside (0, 1). */
    private static double[] image(Random r, int b, int h, int w, double noise) {
        double[] v = new double[b * 3 * h * w];
        for (int i = 0; i < b * 3; i++) {
            double fx = 0.2 + r.nextDouble() * 0.5;
            double fy = 0.2 + r.nextDouble() * 0.5;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    v[(i * h + y) * w + x] = 0.6 * Math.sin(fx * x + fy * y + i) + noise * (2 * r.nextDouble() - 1);
                }
            }
        }
        return v;
    }

    /** The mean SSIM of Y over the batch, directly from the definition. */
    private static double reference(double[] a, double[] b, int n, int h, int w) {
        double[] k = SsimTerm.window();
        int oh = h - 10;
        int ow = w - 10;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double[] ya = luma(a, i, h, w);
            double[] yb = luma(b, i, h, w);
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    double ma = 0;
                    double mb = 0;
                    double aa = 0;
                    double bb = 0;
                    double ab = 0;
                    for (int dy = 0; dy < 11; dy++) {
                        for (int dx = 0; dx < 11; dx++) {
                            double g = k[dy] * k[dx];
                            double va = ya[(y + dy) * w + x + dx];
                            double vb = yb[(y + dy) * w + x + dx];
                            ma += g * va;
                            mb += g * vb;
                            aa += g * va * va;
                            bb += g * vb * vb;
                            ab += g * va * vb;
                        }
                    }
                    double sa = aa - ma * ma;
                    double sb = bb - mb * mb;
                    double sab = ab - ma * mb;
                    sum += (2 * ma * mb + SsimTerm.C1) * (2 * sab + SsimTerm.C2)
                            / ((ma * ma + mb * mb + SsimTerm.C1) * (sa + sb + SsimTerm.C2));
                }
            }
        }
        return sum / (n * oh * ow);
    }

    private static double[] luma(double[] v, int i, int h, int w) {
        double[] y = new double[h * w];
        int p = h * w;
        for (int j = 0; j < p; j++) {
            double r = (v[(i * 3) * p + j] + 1) / 2;
            double g = (v[(i * 3 + 1) * p + j] + 1) / 2;
            double b = (v[(i * 3 + 2) * p + j] + 1) / 2;
            y[j] = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
        }
        return y;
    }

    @Test
    void isOneMinusTheSsimOfLuma() {
        int n = 2;
        int h = 19;
        int w = 23;
        Random r = new Random(5);
        double[] hr = image(r, n, h, w, 0.05);
        double[] sr = hr.clone();
        for (int i = 0; i < sr.length; i++) {
            sr[i] += 0.5 * (2 * r.nextDouble() - 1);
        }
        Shape shape = new Shape(n, 3, h, w);
        try (NDManager m = NDManager.newBaseManager()) {
            double want = reference(sr, hr, n, h, w);
            assertTrue(want > 0.2 && want < 0.95, "a telling SSIM: " + want);
            NDArray a32 = m.create(sr, shape).toType(DataType.FLOAT32, false);
            NDArray b32 = m.create(hr, shape).toType(DataType.FLOAT32, false);
            assertEquals(1 - want, SsimTerm.loss(a32, b32).getFloat(), 2e-5);
            assertEquals(1 - want, SsimTerm.loss(m.create(sr, shape), m.create(hr, shape)).getDouble(), 1e-9);
            assertEquals(0, SsimTerm.loss(b32, b32).getFloat(), 1e-6, "an image against itself");
            assertThrows(IllegalArgumentException.class,
                    () -> SsimTerm.loss(m.zeros(new Shape(1, 3, 10, 12)), m.zeros(new Shape(1, 3, 10, 12))));
        }
    }

    @Test
    void gradientIsTheFunctionsGradient() {
        int h = 14;
        int w = 13;
        Random r = new Random(9);
        double[] hr = image(r, 1, h, w, 0.1);
        double[] sr = image(r, 1, h, w, 0.1);
        Shape shape = new Shape(1, 3, h, w);
        EngineCheck.ensure();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray b = m.create(hr, shape);
            NDArray a = m.create(sr, shape);
            a.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Autograd.backward(gc, SsimTerm.loss(a, b));
            }
            double[] grad = a.getGradient().toDoubleArray();
            double eps = 1e-6;
            for (int k : new int[] {0, 40, 200, 3 * h * w - 1}) {
                double[] plus = sr.clone();
                double[] minus = sr.clone();
                plus[k] += eps;
                minus[k] -= eps;
                double numeric = (1 - reference(plus, hr, 1, h, w) - (1 - reference(minus, hr, 1, h, w))) / (2 * eps);
                assertEquals(numeric, grad[k], 1e-6 * Math.max(1, Math.abs(numeric)), "gradient at " + k);
            }
            assertTrue(java.util.Arrays.stream(grad).anyMatch(g -> Math.abs(g) > 1e-4), "a gradient at all");
        }
    }

    @Test
    void gradientSurvivesAGarbageCollectionBeforeTheBackwardPass() {
        Random r = new Random(5);
        double[] hr = image(r, 2, 16, 15, 0.1);
        double[] sr = image(r, 2, 16, 15, 0.1);
        EngineCheck.ensure();
        float[][] grads = new float[2][];
        for (int storm = 0; storm < 2; storm++) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray b = m.create(hr, new Shape(2, 3, 16, 15)).toType(DataType.FLOAT32, true);
                NDArray a = m.create(sr, new Shape(2, 3, 16, 15)).toType(DataType.FLOAT32, true);
                a.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = SsimTerm.loss(a, b);
                    if (storm == 1) {
                        GcStorm.between(m);
                    }
                    Autograd.backward(gc, loss);
                }
                grads[storm] = a.getGradient().toFloatArray();
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(grads[0], grads[1]);
    }
}
