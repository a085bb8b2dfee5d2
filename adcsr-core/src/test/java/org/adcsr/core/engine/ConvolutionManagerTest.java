package org.adcsr.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/**
 * Every convolution mode leaves its result, and everything it made from the weights, in the input's manager: weights
 * live in a long-lived manager (a training run's parameter store, a loaded model) and activations in a short one (a
 * step, a tile). A result in the weights' manager lived as long as they did and held its autograd graph: adcsr-train-vae
 * grew by 450 MB a step until the kernel killed it.
 */
class ConvolutionManagerTest {
    @Test
    void resultsAndWeightViewsStayInTheInputsManager() {
        try (NDManager weights = NDManager.newBaseManager()) {
            // 20 input channels: PADDED appends zero channels, to the input and to the weight
            NDArray w = weights.randomNormal(new Shape(8, 20, 3, 3));
            NDArray b = weights.randomNormal(new Shape(8));
            NDArray w1 = weights.randomNormal(new Shape(8, 20, 1, 1));
            for (NDArray p : new NDArray[] {w, b, w1}) {
                p.setRequiresGradient(true);
            }
            int before = weights.getManagedArrays().size();
            for (Convolution.Mode mode : Convolution.Mode.values()) {
                for (int step = 0; step < 3; step++) {
                    try (NDManager m = weights.newSubManager()) {
                        NDArray x = m.randomNormal(new Shape(2, 20, 9, 7));
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray y = Convolution.conv2d(mode, x, w, b, 1, 1, 1, 1);
                            NDArray z = Convolution.conv2d(mode, x, w1, null, 1, 0, 0, 1);
                            assertSame(m, y.getManager(), mode.name());
                            assertSame(m, z.getManager(), mode.name());
                            Autograd.backward(gc, y.sum().add(z.sum()));
                        }
                    }
                    assertEquals(before, weights.getManagedArrays().size(), mode + ": arrays left with the weights");
                }
            }
        }
    }
}
