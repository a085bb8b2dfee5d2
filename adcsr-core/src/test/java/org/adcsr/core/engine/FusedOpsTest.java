package org.adcsr.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * {@link FusedOps}' SiLU and GroupNorm are the textbook formulas, forward and backward, in float64 (to float64
 * rounding) and float32, with autograd on and off; its two convolutions are the convolution.
 */
class FusedOpsTest {
    /** GroupNorm by its definition: each group's mean and biased variance, then the per-channel affine. */
    private static NDArray groupNormByHand(NDArray x, int groups, NDArray w, NDArray b, double eps) {
        Shape s = x.getShape();
        NDArray g = x.reshape(s.get(0), groups, -1);
        NDArray mean = g.mean(new int[] {2}, true);
        NDArray var = g.sub(mean).square().mean(new int[] {2}, true);
        NDArray n = g.sub(mean).div(var.add(eps).sqrt()).reshape(s);
        long c = s.get(1);
        return n.mul(w.reshape(1, c, 1, 1)).add(b.reshape(1, c, 1, 1));
    }

    private static double[][] valueAndGradient(NDArray x0, UnaryOperator<NDArray> f, NDArray weights) {
        NDArray x = x0.duplicate();
        x.setRequiresGradient(true);
        NDArray y;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            y = f.apply(x);
            // a weighted sum, so that every output's gradient differs
            Autograd.backward(gc, y.mul(weights).sum());
        }
        return new double[][] {y.toType(DataType.FLOAT64, false).toDoubleArray(),
            x.getGradient().toType(DataType.FLOAT64, false).toDoubleArray()};
    }

    private static void assertClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs(want[i] - got[i]) / Math.max(1, Math.abs(want[i]));
            assertTrue(d <= tol, what + " at " + i + ": " + got[i] + ", by the formula " + want[i]);
            worst = Math.max(worst, d);
        }
        assertTrue(worst <= tol, what + ": worst relative difference " + worst);
    }

    @Test
    void siluAndGroupNormAreTheirFormulasForwardAndBackward() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(5);
            Shape shape = new Shape(2, 8, 12, 10);
            NDArray w = m.randomNormal(new Shape(8)).toType(DataType.FLOAT64, false);
            NDArray b = m.randomNormal(new Shape(8)).toType(DataType.FLOAT64, false);
            for (DataType type : new DataType[] {DataType.FLOAT64, DataType.FLOAT32}) {
                double tol = type == DataType.FLOAT64 ? 1e-12 : 2e-5;
                NDArray x = m.randomNormal(shape).mul(3).add(0.5).toType(type, false);
                NDArray weights = m.randomNormal(shape).toType(type, false);
                NDArray wt = w.toType(type, false);
                NDArray bt = b.toType(type, false);
                double[][] want = valueAndGradient(x, v -> v.div(v.neg().exp().add(1)), weights);
                double[][] got = valueAndGradient(x, FusedOps::silu, weights);
                assertClose(want[0], got[0], tol, type + " silu");
                assertClose(want[1], got[1], tol, type + " silu gradient");
                want = valueAndGradient(x, v -> groupNormByHand(v, 4, wt, bt, 1e-6), weights);
                // float64 parameters on a float32 input are converted, as the DjlOps of a float64 store needs
                got = valueAndGradient(x, v -> FusedOps.groupNorm(v, 4, w, b, 1e-6), weights);
                assertClose(want[0], got[0], tol, type + " group norm");
                assertClose(want[1], got[1], tol, type + " group norm gradient");
                // without autograd, the same values
                assertArrayEquals(got[0], FusedOps.groupNorm(x, 4, w, b, 1e-6).toType(DataType.FLOAT64, false)
                        .toDoubleArray(), 0);
                assertArrayEquals(FusedOps.silu(x).toType(DataType.FLOAT64, false).toDoubleArray(),
                        valueAndGradient(x, FusedOps::silu, weights)[0], 0);
            }
        }
    }

    @Test
    void groupNormOfAChannelsLastInputIsTheFormulaForwardAndBackward() {
        // a 1x1 identity convolution in channels-last format hands GroupNorm a channels-last array (as a narrow
        // training convolution does); its result goes back to that format, through SiLU, into the next convolution
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(6);
            Shape shape = new Shape(2, 8, 12, 10);
            NDArray x = m.randomNormal(shape).mul(3).add(0.5);
            NDArray weights = m.randomNormal(shape);
            NDArray w = m.randomNormal(new Shape(8));
            NDArray b = m.randomNormal(new Shape(8));
            NDArray eye = m.eye(8).reshape(8, 8, 1, 1);
            NDArray next = m.randomNormal(new Shape(8, 8, 3, 3)).div(8);
            UnaryOperator<NDArray> byHand = v -> {
                NDArray h = groupNormByHand(v, 4, w, b, 1e-6);
                return ai.djl.nn.Activation.sigmoid(h).mul(h);
            };
            UnaryOperator<NDArray> fused = v -> FusedOps.silu(FusedOps.groupNorm(
                    FusedOps.convChannelsLast(v, eye, null, 1, 0, 0), 4, w, b, 1e-6));
            // the reference convolution: libtorch's im2col one (oneDNN's NCHW kernels are wrong at 8 channels here)
            double[][] want = valueAndGradient(x, v -> FusedOps.slowConv2d(byHand.apply(v), next, null, 1, 1, 1),
                    weights);
            double[][] got = valueAndGradient(x, v -> FusedOps.convChannelsLast(fused.apply(v), next, null, 1, 1, 1),
                    weights);
            assertClose(want[0], got[0], 2e-5, "channels-last group norm, SiLU, convolution");
            assertClose(want[1], got[1], 2e-5, "channels-last group norm, SiLU, convolution: gradient");
        }
    }

    @Test
    void slowConvolutionIsTheConvolutionForwardAndBackward() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(9);
            Shape shape = new Shape(2, 5, 11, 9);
            NDArray x = m.randomNormal(shape).toType(DataType.FLOAT64, false);
            // a weight that is a view of another layout: not contiguous
            NDArray w = m.randomNormal(new Shape(5, 7, 4, 3)).toType(DataType.FLOAT64, false).transpose(1, 0, 2, 3);
            w.setRequiresGradient(true);
            NDArray bias = m.randomNormal(new Shape(7)).toType(DataType.FLOAT64, false);
            for (NDArray b : new NDArray[] {bias, null}) {
                // float64 never reaches oneDNN: libtorch's own convolution is the reference
                NDArray weights = m.randomNormal(new Shape(2, 7, 5, 6)).toType(DataType.FLOAT64, false);
                double[][] want = valueAndGradient(x, v -> Convolution.conv2d(Convolution.Mode.NATIVE, v, w, b, 2, 1,
                        2, 1), weights);
                // and an input that is a view too (a channel slice, as the training layout's conv outputs are)
                double[][] got = valueAndGradient(x, v -> FusedOps.slowConv2d(v.concat(v, 1).get(":, 0:5"), w, b, 2, 1,
                        2), weights);
                assertClose(want[0], got[0], 1e-12, "slow convolution" + (b == null ? " without bias" : ""));
                assertClose(want[1], got[1], 1e-12, "slow convolution's input gradient");
            }
        }
    }

    @Test
    void channelsLastConvolutionIsTheConvolutionForwardAndBackward() {
        // shapes on which oneDNN's blocked NCHW kernels go wrong on the affected machines, a strided 4x4 and 1x1
        EngineCheck.ConvProbe[] probes = {new EngineCheck.ConvProbe(2, 24, 24, 8, 12, 3, 3, 1, 1, 1, 1),
            new EngineCheck.ConvProbe(4, 8, 8, 32, 32, 3, 3, 1, 1, 1, 1),
            new EngineCheck.ConvProbe(2, 3, 16, 17, 15, 4, 4, 2, 1, 1, 1),
            new EngineCheck.ConvProbe(2, 20, 8, 6, 7, 1, 1, 1, 0, 0, 1)};
        long seed = 40;
        try (NDManager m = NDManager.newBaseManager()) {
            for (EngineCheck.ConvProbe p : probes) {
                EngineCheck.ConvReference ref = new EngineCheck.ConvReference(p, seed += 10);
                for (boolean withBias : new boolean[] {true, false}) {
                    NDArray x = m.create(ref.x, new Shape(p.b(), p.c(), p.h(), p.w())).toType(DataType.FLOAT32, false);
                    NDArray w = m.create(ref.w, new Shape(p.out(), p.c(), p.kh(), p.kw())).toType(DataType.FLOAT32,
                            false);
                    NDArray b = m.create(ref.bias).toType(DataType.FLOAT32, false);
                    NDArray g = m.create(ref.g, new Shape(p.b(), p.out(), p.ho(), p.wo())).toType(DataType.FLOAT32,
                            false);
                    for (NDArray a : new NDArray[] {x, w, b}) {
                        a.setRequiresGradient(true);
                    }
                    NDArray y;
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        y = FusedOps.convChannelsLast(x, w, withBias ? b : null, p.stride(), p.padH(), p.padW());
                        Autograd.backward(gc, y.mul(g).sum());
                    }
                    String what = p.describe() + (withBias ? "" : " without bias");
                    double[] wantY = ref.y.clone();
                    if (!withBias) { // the reference's outputs include the bias: take it off
                        int plane = p.ho() * p.wo();
                        for (int i = 0; i < wantY.length; i++) {
                            wantY[i] -= ref.bias[i / plane % p.out()];
                        }
                    }
                    assertTrue(EngineCheck.error(y.toFloatArray(), wantY) < 1e-5, what);
                    assertTrue(EngineCheck.error(x.getGradient().toFloatArray(), ref.dx) < 1e-5, what + " dx");
                    assertTrue(EngineCheck.error(w.getGradient().toFloatArray(), ref.dw) < 1e-5, what + " dw");
                    if (withBias) {
                        assertTrue(EngineCheck.error(b.getGradient().toFloatArray(), ref.db) < 1e-5, what + " db");
                    }
                }
            }
        }
    }

    @Test
    void resultsBelongToTheInputsManagerAndInputsAreKept() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(24f).reshape(1, 4, 2, 3);
            NDArray y;
            try (NDManager sub = m.newSubManager()) {
                NDArray xs = x.duplicate();
                xs.attach(sub);
                y = FusedOps.silu(xs);
                assertEquals(sub, y.getManager());
                NDArray n = FusedOps.groupNorm(xs, 2, m.ones(new Shape(4)), m.zeros(new Shape(4)), 1e-5);
                assertEquals(sub, n.getManager());
            }
            // the sub-manager closed its arrays; the input given in m is untouched
            assertEquals(23f, x.getFloat(0, 3, 1, 2));
        }
    }
}
