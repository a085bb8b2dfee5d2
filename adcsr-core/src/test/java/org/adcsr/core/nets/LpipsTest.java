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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.adcsr.core.engine.Autograd;

/**
 * LPIPS against {@code fixtures/lpips/expected*.txt}, made by {@code tools/eval/make_lpips_fixture.py} with
 * torchvision's alexnet and vgg16: the same hash-generated weights on both sides, the heads read from the committed
 * .pth files.
 */
class LpipsTest {

    static float[] value(int k, long[] shape, double scale) {
        return GeneratedWeights.hashed(k, shape, scale);
    }

    static TensorSource backbone(Lpips.Backbone net) {
        return GeneratedWeights.lpipsBackbone(net);
    }

    static Path fixture(String name) {
        try {
            return Path.of(LpipsTest.class.getResource("/fixtures/lpips/" + name).toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @EnumSource(Lpips.Backbone.class)
    void matchesTorchvisionWithTheLpipsHead(Lpips.Backbone net) throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        String suffix = net == Lpips.Backbone.ALEX ? "" : "_vgg";
        List<Double> expected = Files.readAllLines(fixture("expected" + suffix + ".txt")).stream()
                .filter(l -> !l.startsWith("#")).map(Double::parseDouble).toList();
        try (NDManager m = engine.newBaseManager();
             TorchCheckpoint heads = TorchCheckpoint.open(fixture("lin_heads" + suffix + ".pth"));
             Lpips lpips = Lpips.load(net, m, backbone(net), heads.tensors())) {
            long[] shape = {2, 3, 64, 80};
            float[] x = value(200, shape, 1.0), noise = value(201, shape, 1.0), y = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] += 0.5f;                                            // as the script: value + 0.5, float32
                y[i] = Math.min(1f, Math.max(0f, 0.7f * x[i] + 0.3f * (noise[i] + 0.5f)));
            }
            NDArray d = lpips.forward(m.create(x, new Shape(shape)), m.create(y, new Shape(shape)));
            float[] got = d.toFloatArray();
            assertEquals(2, got.length);
            for (int i = 0; i < 2; i++) {
                assertEquals(expected.get(i), got[i], 1e-6 * Math.abs(expected.get(i)) + 1e-9, "pair " + i);
            }
            assertEquals(0, lpips.forward(m.create(x, new Shape(shape)), m.create(x, new Shape(shape)))
                    .toFloatArray()[0], 0, "identical images");
        }
    }

    @Test
    void isDifferentiable() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager();
             TorchCheckpoint heads = TorchCheckpoint.open(fixture("lin_heads.pth"));
             Lpips lpips = Lpips.load(Lpips.Backbone.ALEX, m, backbone(Lpips.Backbone.ALEX), heads.tensors())) {
            NDArray x = m.create(value(300, new long[] {1, 3, 48, 48}, 1.0)).add(0.5).reshape(1, 3, 48, 48);
            NDArray y = m.create(value(301, new long[] {1, 3, 48, 48}, 1.0)).add(0.5).reshape(1, 3, 48, 48);
            x.setRequiresGradient(true);
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray loss = lpips.forward(x, y).sum();
                Autograd.backward(gc, loss);
            }
            float[] g = x.getGradient().toFloatArray();
            double norm = 0;
            for (float v : g) {
                norm += v * v;
            }
            assertTrue(norm > 0 && Double.isFinite(norm), "gradient reaches the input");
        }
    }

    @Test
    void missingOrMisshapedWeightsAreReportedTogether() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager();
             TorchCheckpoint heads = TorchCheckpoint.open(fixture("lin_heads.pth"))) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Lpips.load(Lpips.Backbone.ALEX, m, heads.tensors(), heads.tensors()));
            assertTrue(e.getMessage().contains("missing features.0.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("missing features.10.bias"), e.getMessage());
        }
    }
}
