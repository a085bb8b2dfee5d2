package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.adcsr.core.engine.Autograd;
import org.junit.jupiter.api.Test;
import sun.misc.Signal;

/** The training guards: a non-finite loss or gradient stops the run naming step and term; signals are caught. */
class GuardsTest {
    @Test
    void aNonFiniteTermOrGradientIsNamed() {
        try (NDManager m = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(m)) {
            NDArray w = store.add("decoder.conv_out.weight", m.create(new float[] {1, 2, 3}, new Shape(3)), true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Autograd.backward(gc, w.mul(m.create(new float[] {1, Float.NaN, 0}, new Shape(3))).sum());
            }
            String[] names = {"rec", "g"};
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class,
                    () -> TrainingDivergedException.check(12, names, new double[] {0.5, Double.NaN}, store));
            assertTrue(e.getMessage().startsWith("step 12: the loss term g is NaN;"), e.getMessage());
            e = assertThrows(TrainingDivergedException.class,
                    () -> TrainingDivergedException.check(13, names, new double[] {0.5, 0.1}, store));
            assertTrue(e.getMessage().startsWith("step 13: the gradient of decoder.conv_out.weight is not finite"),
                    e.getMessage());
            store.zeroGradients();
            assertDoesNotThrow(() -> TrainingDivergedException.check(14, names, new double[] {0.5, 0.1}, store));
        }
    }

    @Test
    void perStepChecksAndUpdatesLeaveNothingWithTheParameters() {
        // the parameters' manager lives as long as the run: what a step makes there is never freed (this was
        // adcsr-train-vae's memory growing by a gradient's worth per parameter and step)
        try (NDManager m = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(m)) {
            NDArray w = store.add("w", m.randomNormal(new Shape(4, 5)), true);
            Adam adam = new Adam("a", new Adam.Settings(0.9, 0.999, 1e-8, 0.01, false), store, List.of("w"));
            Adam adamW = new Adam("b", new Adam.Settings(0.9, 0.999, 1e-8, 0.01, true), store, List.of("w"));
            int before = -1;
            for (int step = 0; step < 3; step++) {
                try (NDManager stepManager = m.newSubManager()) {
                    NDArray x = stepManager.randomNormal(new Shape(5));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        Autograd.backward(gc, x.mul(w).sum());
                    }
                }
                TrainingDivergedException.check(step, new String[] {"l"}, new double[] {1}, store);
                Gradients.clipGlobalNorm(store, 1e-3);
                assertTrue(Gradients.maxAbs(store, "w") > 0);
                adam.step(1e-3);
                adamW.step(1e-3);
                store.zeroGradients();
                int now = m.getManagedArrays().size();
                if (before >= 0) {
                    assertEquals(before, now, "arrays left with the parameters after step " + step);
                }
                before = now;
            }
        }
    }

    @Test
    void sigtermIsCaughtAndAsksTheLoopToStop() throws InterruptedException {
        // SIGTERM, not SIGINT: a test JVM started in the background by a shell ignores SIGINT, and keeps ignoring it
        StopSignal.clear();
        assertTrue(StopSignal.install().contains("TERM"));
        assertNull(StopSignal.requested());
        Signal.raise(new Signal("TERM"));
        for (int i = 0; i < 100 && StopSignal.requested() == null; i++) {
            Thread.sleep(10); // the JVM delivers signals on a thread of its own
        }
        assertEquals("TERM", StopSignal.requested());
        assertEquals(130, StopSignal.exitCode("INT"));
        assertEquals(143, StopSignal.exitCode("TERM"));
        StopSignal.clear();
    }
}
