package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.adcsr.core.engine.Autograd;

/**
 * Back-propagation through the tiny network agrees with central finite differences (in float64), and float32 on a
 * batch agrees with float64.
 */
class GradientTest {

    private static final String[] PROBES = {
        "unet.conv_in.weight",
        "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
        "unet.down_blocks.1.attentions.1.transformer_blocks.0.ff.net.0.proj.weight",
        "unet.mid_block.resnets.0.norm1.weight",
        "unet.up_blocks.3.resnets.0.conv_shortcut.weight",
        "unet.conv_out.bias",
        "decoder.mid_block.attentions.0.to_k.weight",
        "decoder.up_blocks.1.resnets.2.norm2.bias",
        "decoder.conv_out.weight",
    };

    @Test
    void gradientsMatchFiniteDifferences() {
        AdcsrConfig c = AdcsrConfig.tiny();
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(c, 7, m, DataType.FLOAT64)) {
            Random rnd = new Random(11);
            NDArray lr = m.create(randomArray(rnd, 3 * 32 * 32), new Shape(1, 3, 32, 32)).toType(DataType.FLOAT64, false);
            NDArray probe = m.create(randomArray(rnd, 3 * 128 * 128), new Shape(1, 3, 128, 128)).toType(DataType.FLOAT64, false);
            for (String name : PROBES) {
                model.parameters().get(name).setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = model.forward(lr).mul(probe).sum();
                Autograd.backward(gc, loss);
            }
            for (String name : PROBES) {
                NDArray p = model.parameters().get(name);
                long n = p.size();
                for (long flat : new long[] {0, n / 2, n - 1}) {
                    NDIndex at = index(p.getShape(), flat);
                    double analytic = p.getGradient().get(at).toType(DataType.FLOAT64, false).getDouble();
                    double numeric = finiteDifference(model, name, at, lr, probe);
                    // central differences in float64 carry ~1e-9 of rounding (|loss|·eps/h); a wrong gradient is off
                    // by O(1) relative, so 1e-5 relative plus 1e-7 absolute separates the two with a wide margin
                    assertEquals(numeric, analytic, 1e-5 * Math.abs(numeric) + 1e-7, name + at);
                }
                assertTrue(p.getGradient().abs().sum().getDouble() > 0, name + " gets no gradient");
            }
        }
    }

    /**
     * Training runs in float32 on batches: the tiny network's output and gradients for a batch of two, in float32
     * with the engine's chosen convolution and backward modes, equal the float64 ones to float32 rounding. The tiny
     * config has the channel counts (24 after concatenations, 8 and 12 inputs) and batch that libtorch's oneDNN gets
     * wrong on the affected machines (README "Known engine issues"), so this fails where the work-around is missing.
     */
    @Test
    void float32BatchOfTwoAgreesWithFloat64() {
        AdcsrConfig c = AdcsrConfig.tiny();
        Map<String, double[]> grads = new HashMap<>();
        double[][] outputs = new double[2][];
        DataType[] types = {DataType.FLOAT64, DataType.FLOAT32};
        for (int t = 0; t < 2; t++) {
            try (NDManager m = NDManager.newBaseManager();
                    AdcsrModel model = AdcsrModel.random(c, 7, m, types[t])) {
                Random rnd = new Random(13);
                NDArray lr = m.create(randomArray(rnd, 2 * 3 * 32 * 32), new Shape(2, 3, 32, 32)).toType(types[t], false);
                NDArray probe = m.create(randomArray(rnd, 2 * 3 * 128 * 128), new Shape(2, 3, 128, 128))
                        .toType(types[t], false);
                for (String name : PROBES) {
                    model.parameters().get(name).setRequiresGradient(true);
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = model.forward(lr);
                    outputs[t] = y.toType(DataType.FLOAT64, false).toDoubleArray();
                    Autograd.backward(gc, y.mul(probe).sum());
                }
                for (String name : PROBES) {
                    double[] g = model.parameters().get(name).getGradient().toType(DataType.FLOAT64, false)
                            .toDoubleArray();
                    if (t == 0) {
                        grads.put(name, g);
                    } else {
                        assertRelativelyClose(grads.get(name), g, 1e-3, name);
                    }
                }
            }
        }
        assertRelativelyClose(outputs[0], outputs[1], 1e-4, "output");
    }

    /** max |want − got| ≤ tol · max|want| (a NaN fails). */
    private static void assertRelativelyClose(double[] want, double[] got, double tol, String what) {
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            double d = Math.abs(want[i] - got[i]);
            worst = d > worst || Double.isNaN(d) ? d : worst;
        }
        assertTrue(worst <= tol * scale, what + ": max |float32 - float64| = " + worst + " on values up to " + scale);
    }

    private static double finiteDifference(AdcsrModel model, String name, NDIndex at, NDArray lr, NDArray probe) {
        double h = 1e-5;
        NDArray p = model.parameters().get(name);
        double v = p.get(at).getDouble();
        double[] f = new double[2];
        for (int s = 0; s < 2; s++) {
            try (NDScope scope = new NDScope()) {
                Map<String, NDArray> perturbed = new HashMap<>(model.parameters());
                NDArray q = p.duplicate();
                q.set(at, v + (s == 0 ? h : -h));
                perturbed.put(name, q);
                f[s] = AdcsrNetwork.forward(new DjlOps(perturbed), model.config(), lr).mul(probe).sum().getDouble();
            }
        }
        return (f[0] - f[1]) / (2 * h);
    }

    private static NDIndex index(Shape shape, long flat) {
        long[] idx = new long[shape.dimension()];
        for (int d = shape.dimension() - 1; d >= 0; d--) {
            idx[d] = flat % shape.get(d);
            flat /= shape.get(d);
        }
        StringBuilder sb = new StringBuilder();
        for (long i : idx) {
            sb.append(sb.length() == 0 ? "" : ",").append(i);
        }
        return new NDIndex(sb.toString());
    }

    private static float[] randomArray(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * 0.5);
        }
        return a;
    }
}
