package org.adcsr.core.nets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.adcsr.core.engine.Autograd;

/**
 * DISTS against {@code fixtures/dists/expected.txt}: pyiqa's own DISTS module on the hash-generated VGG16 weights of
 * the LPIPS test and the committed alpha/beta ({@code tools/eval/make_dists_fixture.py}).
 */
class DistsTest {

    static Path fixture(String name) throws Exception {
        return Path.of(DistsTest.class.getResource("/fixtures/dists/" + name).toURI());
    }

    @Test
    void matchesPyiqa() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        List<Double> expected = Files.readAllLines(fixture("expected.txt")).stream()
                .filter(l -> !l.startsWith("#")).map(Double::parseDouble).toList();
        try (NDManager m = engine.newBaseManager();
             TorchCheckpoint head = TorchCheckpoint.open(fixture("dists_weights.pth"));
             Dists dists = Dists.load(m, LpipsTest.backbone(Lpips.Backbone.VGG), head.tensors())) {
            long[] shape = {2, 3, 64, 80};
            float[] x = LpipsTest.value(200, shape, 1.0), noise = LpipsTest.value(201, shape, 1.0);
            float[] y = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] += 0.5f;
                y[i] = Math.min(1f, Math.max(0f, 0.7f * x[i] + 0.3f * (noise[i] + 0.5f)));
            }
            float[] got = dists.forward(m.create(x, new Shape(shape)), m.create(y, new Shape(shape))).toFloatArray();
            for (int i = 0; i < 2; i++) {
                assertEquals(expected.get(i), got[i], 1e-6, "pair " + i);
            }
            float[] same = dists.forward(m.create(x, new Shape(shape)), m.create(x, new Shape(shape))).toFloatArray();
            assertEquals(0, same[0], 1e-6, "identical images");
        }
    }

    @Test
    void isDifferentiableAndChecksItsWeights() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager();
             TorchCheckpoint head = TorchCheckpoint.open(fixture("dists_weights.pth"))) {
            try (Dists dists = Dists.load(m, LpipsTest.backbone(Lpips.Backbone.VGG), head.tensors())) {
                NDArray x = m.create(LpipsTest.value(310, new long[] {1, 3, 48, 48}, 1.0)).add(0.5)
                        .reshape(1, 3, 48, 48);
                NDArray y = m.create(LpipsTest.value(311, new long[] {1, 3, 48, 48}, 1.0)).add(0.5)
                        .reshape(1, 3, 48, 48);
                x.setRequiresGradient(true);
                try (GradientCollector gc = engine.newGradientCollector()) {
                    Autograd.backward(gc, dists.forward(x, y).sum());
                }
                double norm = 0;
                for (float v : x.getGradient().toFloatArray()) {
                    norm += v * v;
                }
                assertTrue(norm > 0 && Double.isFinite(norm));
            }
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Dists.load(m, head.tensors(), head.tensors()));
            // every missing backbone tensor is reported; the one line is clipped in the middle at 300 characters
            assertTrue(e.getMessage().contains("missing features.0.weight")
                    && e.getMessage().endsWith("missing features.28.bias") && e.getMessage().length() <= 300,
                    e.getMessage());
        }
    }
}
