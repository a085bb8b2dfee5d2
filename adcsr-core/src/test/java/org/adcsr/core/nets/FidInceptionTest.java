package org.adcsr.core.nets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.junit.jupiter.api.Test;

/**
 * FID's InceptionV3 against pyiqa's own module (the pytorch-fid port) on hash-generated weights
 * ({@code tools/eval/make_fid_fixture.py}; the same weights are generated here from each tensor's name).
 */
class FidInceptionTest {

    static TensorSource source() {
        return GeneratedWeights.inception(2.0);
    }

    @Test
    void pool3FeaturesMatchPyiqa() throws Exception {
        Path fixture = Path.of(FidInceptionTest.class.getResource("/fixtures/fid/expected.txt").toURI());
        List<Double> expected = Files.readAllLines(fixture).stream().filter(l -> !l.startsWith("#"))
                .map(Double::parseDouble).toList();
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager(); FidInception net = FidInception.load(m, source())) {
            float[] x = LpipsTest.value(400, new long[] {1, 3, 299, 299}, 2.0);
            float[] f = net.features(m.create(x, new Shape(1, 3, 299, 299))).toFloatArray();
            assertEquals(2048, f.length);
            assertEquals(2048, expected.size());
            double worst = 0;
            for (int i = 0; i < f.length; i++) {
                worst = Math.max(worst, Math.abs(f[i] - expected.get(i)));
            }
            assertTrue(worst < 1e-5, "largest feature difference " + worst);
        }
    }

    @Test
    void missingWeightsAreReported() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager()) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> FidInception.load(m, LpipsTest.backbone(Lpips.Backbone.ALEX)));
            assertTrue(e.getMessage().contains("missing Conv2d_1a_3x3.conv.weight"), e.getMessage());
            assertTrue(e.getMessage().contains("more)"), e.getMessage());
        }
    }
}
