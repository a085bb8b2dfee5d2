package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.io.SafetensorsReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Adam, AdamW and gradient clipping equal PyTorch 1.13's {@code torch.optim.Adam}/{@code AdamW} and
 * {@code clip_grad_norm_} over three steps (fixture: {@code tools/fixtures/make_train_fixture.py}).
 */
class AdamTest {
    static final Path FIXTURE = Paths.get("src/test/resources/fixtures/train/adam.safetensors");

    static Adam.Settings settings(String name) {
        switch (name) {
            case "adam_ldm":
            case "adam_clip":
                return Adam.Settings.ldm();
            case "adamw":
                return new Adam.Settings(0.9, 0.999, 1e-8, 0.01, true);
            case "adam_l2":
                return new Adam.Settings(0.5, 0.9, 1e-8, 0.1, false);
            default:
                throw new IllegalArgumentException(name);
        }
    }

    static double lr(String name) {
        return name.equals("adam_ldm") ? 1e-3 : 1e-2;
    }

    @ParameterizedTest
    @ValueSource(strings = {"adam_ldm", "adamw", "adam_l2", "adam_clip"})
    void threeStepsEqualPyTorch(String name) {
        try (SafetensorsReader ref = SafetensorsReader.open(FIXTURE);
                NDManager m = NDManager.newBaseManager();
                ParameterStore store = new ParameterStore(m)) {
            NDArray p0 = store.add("p0", m.create(ref.readFloats("p0"), new Shape(3, 4)), true);
            NDArray p1 = store.add("p1", m.create(ref.readFloats("p1"), new Shape(5)), true);
            Adam opt = new Adam("opt", settings(name), store, store.trainable());
            for (int t = 1; t <= 3; t++) {
                NDArray g0 = m.create(ref.readFloats("g" + t + ".p0"), new Shape(3, 4));
                NDArray g1 = m.create(ref.readFloats("g" + t + ".p1"), new Shape(5));
                if (t > 1) {
                    store.zeroGradients();
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    // d/dp sum(p·g) = g: the fixture's gradients, through autograd as a training step gets them
                    Autograd.backward(gc, p0.mul(g0).sum().add(p1.mul(g1).sum()));
                }
                assertNull(Gradients.firstNonFinite(store));
                if (name.equals("adam_clip")) {
                    double norm = Gradients.clipGlobalNorm(store, 0.5);
                    assertEquals(ref.readFloats(name + ".norm" + t)[0], norm, 1e-6 * norm, "norm at step " + t);
                }
                opt.step(lr(name));
                assertClose(ref.readFloats(name + ".step" + t + ".p0"), p0.toFloatArray(), name + " p0 step " + t);
                assertClose(ref.readFloats(name + ".step" + t + ".p1"), p1.toFloatArray(), name + " p1 step " + t);
            }
            assertEquals(3, opt.steps());
        }
    }

    /** Within float32 rounding of the few operations of a step, relative to the parameter's size. */
    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= 2e-6 * Math.max(1, Math.abs(want[i])),
                    what + "[" + i + "]: " + got[i] + " vs PyTorch " + want[i]);
        }
    }

    @Test
    void theFixtureStepsMoveEveryParameter() {
        // the comparison above can fail: one step of the smallest learning rate moves every value by far more than
        // the tolerance
        try (SafetensorsReader ref = SafetensorsReader.open(FIXTURE)) {
            float[] before = ref.readFloats("p0");
            float[] after = ref.readFloats("adam_ldm.step1.p0");
            for (int i = 0; i < before.length; i++) {
                assertTrue(Math.abs(before[i] - after[i]) > 1e-4, "element " + i);
            }
        }
    }
}
