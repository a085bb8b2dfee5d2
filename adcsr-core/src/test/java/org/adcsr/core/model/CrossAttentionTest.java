package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.adcsr.core.model.ShapeOps.ModuleCost;
import org.adcsr.core.sd.SdConfig;
import org.junit.jupiter.api.Test;

/** Attention where k and v are longer or shorter than q (cross-attention to a text embedding): values and costs. */
class CrossAttentionTest {
    @Test
    void chunkedAttentionWithOtherKvLengthEqualsTheDirectFormula() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(7);
            long n = 40;
            for (long kv : new long[] {77, 3}) {
                NDArray q = m.randomNormal(new Shape(2, n, 12)).toType(DataType.FLOAT64, false);
                NDArray k = m.randomNormal(new Shape(2, kv, 12)).toType(DataType.FLOAT64, false);
                NDArray v = m.randomNormal(new Shape(2, kv, 12)).toType(DataType.FLOAT64, false);
                NDArray qh = q.reshape(2, n, 3, 4).transpose(0, 2, 1, 3);
                NDArray kh = k.reshape(2, kv, 3, 4).transpose(0, 2, 3, 1);
                NDArray vh = v.reshape(2, kv, 3, 4).transpose(0, 2, 1, 3);
                NDArray want = qh.matMul(kh).div(2.0).softmax(-1).matMul(vh).transpose(0, 2, 1, 3).reshape(2, n, 12);
                NDArray whole = new DjlOps(Map.of()).attention("t", q, k, v, 3);
                assertEquals(new Shape(2, n, 12), whole.getShape());
                assertTrue(whole.sub(want).abs().max().getDouble() < 1e-12, "kv " + kv);
                long saved = DjlOps.maxScores;
                try {
                    DjlOps.maxScores = 2 * 3 * kv * 6; // 6 query rows a chunk: 7 chunks, the last one short
                    NDArray chunked = new DjlOps(Map.of()).attention("t", q, k, v, 3);
                    assertTrue(chunked.sub(want).abs().max().getDouble() < 1e-12, "chunked, kv " + kv);
                } finally {
                    DjlOps.maxScores = saved;
                }
            }
        }
    }

    @Test
    void shapeOpsCostsAttentionAsQueriesTimesKeys() {
        ShapeOps s = new ShapeOps();
        long[] y = s.attention("a", new long[] {2, 4096, 320}, new long[] {2, 77, 320}, new long[] {2, 77, 320}, 5);
        assertEquals(4096, y[1]);
        ModuleCost c = s.costs().get(0);
        assertEquals(2L * 2 * 4096 * 77 * 320, c.attentionMacs());
        assertThrows(IllegalArgumentException.class, () -> s.attention("b", new long[] {2, 10, 320},
                new long[] {2, 77, 320}, new long[] {2, 76, 320}, 5));
    }

    @Test
    void sd21UnetCrossAttentionCostsFollowTheContextLength() {
        SdConfig sd = SdConfig.sd21Base();
        ShapeOps s = new ShapeOps();
        SdUnet.forward(s, sd, new long[] {1, 4, 64, 64}, new long[] {1, 320}, new long[] {1, 77, 1024});
        Map<String, Long> macs = new java.util.HashMap<>();
        s.costs().forEach(c -> macs.put(c.module(), c.attentionMacs()));
        String p = "down_blocks.0.attentions.0.transformer_blocks.0.";
        assertEquals(2L * 4096 * 4096 * 320, macs.get(p + "attn1"));
        assertEquals(2L * 4096 * 77 * 320, macs.get(p + "attn2"));
        assertEquals(2L * 64 * 77 * 1280, macs.get("mid_block.attentions.0.transformer_blocks.0.attn2"));
    }
}
