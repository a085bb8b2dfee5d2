package org.adcsr.core.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.io.TensorSource;
import org.junit.jupiter.api.Test;

/**
 * MUSIQ's pieces against {@code tools/eval/make_musiq_fixture.py} (pyiqa v0.1.13): the key layout of the default
 * {@code musiq} and of the small test configuration, the size and index rules, and the refusals. The score itself, from
 * PNG files, is {@code MusiqMetricTest} (adcsr-eval).
 */
class MusiqTest {
    /** The small configuration of the fixture script (TINY): hidden 64, MLP 96, 2 heads, 2 layers. */
    static final Musiq.Config TINY = new Musiq.Config(32, 64, 96, 2, 2, 10, new int[] {224, 384}, 1);

    private static List<String> lines(String name) throws Exception {
        Path p = Path.of(MusiqTest.class.getResource("/fixtures/musiq/" + name).toURI());
        return Files.readAllLines(p).stream().filter(l -> !l.startsWith("#")).toList();
    }

    @Test
    void layoutIsPyiqasMusiqStateDict() throws Exception {
        for (Object[] c : new Object[][] {{"keys_koniq.txt", Musiq.Config.KONIQ}, {"keys_tiny.txt", TINY}}) {
            List<String> expected = lines((String) c[0]);
            List<String> got = new ArrayList<>();
            for (Map.Entry<String, long[]> e : Musiq.layout((Musiq.Config) c[1]).entrySet()) {
                StringBuilder b = new StringBuilder(e.getKey()).append(' ');
                for (int i = 0; i < e.getValue().length; i++) {
                    b.append(i == 0 ? "" : " ").append(e.getValue()[i]);
                }
                got.add(b.toString());
            }
            assertEquals(expected, got, (String) c[0]);
        }
    }

    @Test
    void sizeAndIndexRulesArePyiqas() {
        // round(h * L / max(h, w)) with Python's round: ties to even
        assertEquals(164, Musiq.resizedSide(47, 224, 64));            // 164.5
        assertEquals(158, Musiq.resizedSide(45, 224, 64));            // 157.5
        assertEquals(224, Musiq.resizedSide(64, 224, 64));
        assertEquals(81, Musiq.resizedSide(90, 224, 250));            // 80.64
        // torch's legacy nearest, float32: arange(10) onto 12 and onto 3 positions
        int[] twelve = new int[12], three = new int[3];
        for (int i = 0; i < 12; i++) {
            twelve[i] = Musiq.nearest(i, 10, 12);
        }
        for (int i = 0; i < 3; i++) {
            three[i] = Musiq.nearest(i, 10, 3);
        }
        assertArrayEquals(new int[] {0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9}, twelve);
        assertArrayEquals(new int[] {0, 3, 6}, three);
        assertArrayEquals(new int[] {0, 5, 50, 55}, Musiq.hashedPositions(10, 2, 2));
        // the "same" padding of the stem: 2 before and 3 after the 7x7 stride-2 conv, 0/1 around the max pool
        assertEquals(5, Musiq.samePadding(32, 7, 2));
        assertEquals(1, Musiq.samePadding(16, 3, 2));
        // an identity resize is the identity matrix
        double[][] id = Musiq.bicubicMatrix(5, 5);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                assertEquals(i == j ? 1.0 : 0.0, id[i][j], 0.0);
            }
        }
    }

    @Test
    void weightStandardisationUsesTheUnbiasedStd() {
        float[] w = Musiq.standardise(new float[] {1, 2, 3, 4, 0, 0, 0, 2}, 2);
        double std = Math.sqrt(5.0 / 3);                              // of 1..4 with n − 1
        assertEquals((1 - 2.5) / (std + 1e-5), w[0], 1e-6);
        assertEquals((2 - 0.5) / (1 + 1e-5), w[7], 1e-6);            // of 0, 0, 0, 2: std 1
    }

    @Test
    void wrongShapesMissingAndUnexpectedTensorsAreRefusedInOneLine() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager()) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Musiq.load(m, GeneratedWeights.musiq(TINY), Musiq.Config.KONIQ));
            assertTrue(e.getMessage().contains("embedding.weight is [64, 16384], expected [384, 16384]"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("more)") && !e.getMessage().contains("\n"), e.getMessage());
            BadInputException missing = assertThrows(BadInputException.class,
                    () -> Musiq.load(m, LpipsTest.backbone(Lpips.Backbone.ALEX), TINY));
            assertTrue(missing.getMessage().contains("missing conv_root.weight"), missing.getMessage());
            Map<String, long[]> extra = new LinkedHashMap<>(Musiq.layout(TINY));
            extra.put("head.extra", new long[] {1});
            BadInputException unexpected = assertThrows(BadInputException.class,
                    () -> Musiq.load(m, GeneratedWeights.source("x", extra, (n, s) -> new float[(int) s[0]]), TINY));
            assertEquals("x(generated): MUSIQ weights: unexpected head.extra", unexpected.getMessage());
        }
    }

    @Test
    void moduleDotPrefixIsDroppedAsPyiqaDoes() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        TensorSource plain = GeneratedWeights.musiq(TINY);
        Map<String, long[]> prefixed = new LinkedHashMap<>();
        Musiq.layout(TINY).forEach((k, v) -> prefixed.put("module." + k, v));
        TensorSource dp = GeneratedWeights.source("dp", prefixed, (n, s) -> plain.readFloats(n.substring(7)));
        try (NDManager m = engine.newBaseManager(); Musiq net = Musiq.load(m, dp, TINY)) {
            assertEquals(TINY, net.config());
        }
    }

    @Test
    void scoresABatchAndIsDifferentiable() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager(); Musiq net = Musiq.load(m, GeneratedWeights.musiq(TINY), TINY)) {
            NDArray x = m.create(LpipsTest.value(500, new long[] {2, 3, 45, 70}, 1.0)).add(0.5).reshape(2, 3, 45, 70);
            float one = net.forward(x.get("1:2")).getFloat(0);
            x.setRequiresGradient(true);
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray s = net.forward(x);
                float[] v = s.toFloatArray();
                assertEquals(2, v.length);
                assertEquals(one, v[1], 1e-5f * Math.abs(one));
                Autograd.backward(gc, s.sum());
            }
            double norm = 0;
            for (float g : x.getGradient().toFloatArray()) {
                norm += g * g;
            }
            assertTrue(norm > 0 && Double.isFinite(norm));
        }
    }

    @Test
    void plainJavaTokensAreTheNDArrayTokens() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        // a downscale (600 long), an upscale with padded patches at every scale (45x70), a portrait, a tie to even
        for (int[] hw : new int[][] {{45, 70}, {97, 61}, {47, 64}, {300, 600}}) {
            int h = hw[0], w = hw[1];
            float[] chw = new float[3 * h * w];
            float[] v = LpipsTest.value(700 + h, new long[] {3, h, w}, 1.0);
            for (int i = 0; i < chw.length; i++) {
                chw[i] = v[i] + 0.5f;
            }
            try (NDManager m = engine.newBaseManager()) {
                Musiq.Tokens want = Musiq.tokens(m.create(chw, new ai.djl.ndarray.types.Shape(1, 3, h, w)), TINY);
                Musiq.PatchTokens got = Musiq.tokens(chw, h, w, TINY);
                String at = h + "x" + w;
                assertArrayEquals(want.positions(), got.positions(), at);
                assertArrayEquals(want.scaleIds(), got.scaleIds(), at);
                assertArrayEquals(want.masks(), got.masks(), at);
                float[] wp = want.patches().toFloatArray();
                assertEquals(wp.length, got.patches().length, at);
                for (int i = 0; i < wp.length; i++) {
                    assertEquals(wp[i], got.patches()[i], 2e-6f, at + " element " + i);  // resize: sums in another order
                }
            }
        }
    }
}
