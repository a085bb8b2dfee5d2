package org.adcsr.core.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.TensorSource;
import org.junit.jupiter.api.Test;

/**
 * MANIQA's pieces against {@code tools/eval/make_maniqa_fixture.py} (pyiqa v0.1.13): the key layout (ViT-B/8 and the
 * small test configuration), uniform_crop's sizes and positions, and the refusals. The score itself, from PNG files,
 * is {@code ManiqaMetricTest} (adcsr-eval).
 */
class ManiqaTest {
    /** The fixture script's TINY configuration: ViT width 32, 2 heads, 12 blocks; dim_mlp 64; pipal's scale 0.13. */
    static final Maniqa.Config TINY = new Maniqa.Config(32, 2, 12, 1000, 64, 0.13);

    private static List<String> lines(String name) throws Exception {
        Path p = Path.of(ManiqaTest.class.getResource("/fixtures/maniqa/" + name).toURI());
        return Files.readAllLines(p).stream().filter(l -> !l.startsWith("#")).toList();
    }

    @Test
    void layoutIsPyiqasManiqaStateDict() throws Exception {
        for (Object[] c : new Object[][] {{"keys_vitb8.txt", Maniqa.Config.PIPAL}, {"keys_tiny.txt", TINY}}) {
            List<String> got = new ArrayList<>();
            for (Map.Entry<String, long[]> e : Maniqa.layout((Maniqa.Config) c[1]).entrySet()) {
                StringBuilder b = new StringBuilder(e.getKey()).append(' ');
                for (int i = 0; i < e.getValue().length; i++) {
                    b.append(i == 0 ? "" : " ").append(e.getValue()[i]);
                }
                got.add(b.toString());
            }
            assertEquals(lines((String) c[0]), got, (String) c[0]);
        }
    }

    @Test
    void uniformCropSizesAndPositions() {
        // longer than 224 on both sides: not resized; 20 of the 5x5 grid, row by row, the fifth row never used
        assertArrayEquals(new int[] {250, 300}, Maniqa.upscaledSize(250, 300));
        int[][] o = Maniqa.cropOrigins(250, 300);
        assertEquals(20, o.length);
        assertArrayEquals(new int[] {0, 0}, o[0]);
        assertArrayEquals(new int[] {0, 76}, o[4]);          // step (300 − 224) div 4 = 19
        assertArrayEquals(new int[] {6, 0}, o[5]);           // step (250 − 224) div 4 = 6
        assertArrayEquals(new int[] {18, 76}, o[19]);
        // a shorter side of 224 or less: times 225/shorter, floored (192 -> 225, 288 -> 337; 188 -> 225 exactly)
        assertArrayEquals(new int[] {225, 337}, Maniqa.upscaledSize(192, 288));
        assertArrayEquals(new int[] {225, 339}, Maniqa.upscaledSize(188, 284));
        assertArrayEquals(new int[] {225, 225}, Maniqa.upscaledSize(224, 224));
        assertArrayEquals(new int[] {0, 28}, Maniqa.cropOrigins(225, 337)[1]);
        assertArrayEquals(new int[] {0, 0}, Maniqa.cropOrigins(225, 225)[19]);
        // bilinear, align_corners=False, source (d + 0.5)/f − 0.5 clamped at 0: a 2-pixel ramp stays a ramp
        float[] up = Maniqa.upscale(new float[] {0f, 1f, 0f, 1f}, 1, 1, 2);
        assertEquals(225 * 450, up.length);
        assertEquals(0f, up[0]);
        assertEquals(1f, up[449]);
    }

    @Test
    void generatedBuffersAreSwinsOwn() {
        // relative_position_index: corners of the 7x7 table for a 4x4 window, symmetric about its centre (24)
        float[] idx = Maniqa.relativePositionIndex();
        assertEquals(24f, idx[0]);
        assertEquals(48f, idx[15 * 16]);
        assertEquals(0f, idx[15]);
        // attn_mask: the first window is one region; the last (bottom-right) has four
        float[] mask = Maniqa.shiftMask();
        for (int i = 0; i < 256; i++) {
            assertEquals(0f, mask[i]);
        }
        int last = 48 * 256;
        assertEquals(0f, mask[last]);                        // (0,0) with itself
        assertEquals(-100f, mask[last + 2]);                 // (0,0) with (0,2): another region
        assertEquals(-100f, mask[last + 8]);                 // (0,0) with (2,0)
        assertEquals(0f, mask[last + 1]);                    // (0,0) with (0,1): same region
    }

    @Test
    void wrongShapesMissingTensorsAndBadIndicesAreRefusedInOneLine() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager()) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Maniqa.load(m, GeneratedWeights.maniqa(TINY), Maniqa.Config.PIPAL));
            assertTrue(e.getMessage().contains("MANIQA weights: vit.cls_token is [1, 1, 32], expected [1, 1, 768]"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("more)") && !e.getMessage().contains("\n"), e.getMessage());
            BadInputException missing = assertThrows(BadInputException.class,
                    () -> Maniqa.load(m, LpipsTest.backbone(Lpips.Backbone.ALEX), TINY));
            assertTrue(missing.getMessage().contains("missing vit.cls_token"), missing.getMessage());
            String bad = "swintransformer2.layers.1.blocks.0.attn.relative_position_index";
            TensorSource src = GeneratedWeights.maniqa(TINY);
            Map<String, long[]> shapes = new LinkedHashMap<>(Maniqa.layout(TINY));
            TensorSource broken = GeneratedWeights.source("broken", shapes, (name, shape) -> {
                float[] v = src.readFloats(name);
                if (name.equals(bad)) {
                    v[7] = 49;
                }
                return v;
            });
            BadInputException index = assertThrows(BadInputException.class, () -> Maniqa.load(m, broken, TINY));
            assertTrue(index.getMessage().contains(bad + " holds 49.0, not an index into the 49-row table"),
                    index.getMessage());
        }
    }
}
