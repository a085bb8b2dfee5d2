package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DjlOpsTest {
    @Test
    void chunkedAttentionEqualsTheDirectFormula() {
        try (NDManager m = NDManager.newBaseManager()) {
            m.getEngine().setRandomSeed(5);
            long n = 300;
            NDArray q = m.randomNormal(new Shape(2, n, 12)).toType(DataType.FLOAT64, false);
            NDArray k = m.randomNormal(new Shape(2, n, 12)).toType(DataType.FLOAT64, false);
            NDArray v = m.randomNormal(new Shape(2, n, 12)).toType(DataType.FLOAT64, false);
            NDArray got = new DjlOps(Map.of()).attention("t", q, k, v, 3); // one chunk
            // direct: per head, softmax(q kᵀ/√d) v
            NDArray qh = q.reshape(2, n, 3, 4).transpose(0, 2, 1, 3);
            NDArray kh = k.reshape(2, n, 3, 4).transpose(0, 2, 3, 1);
            NDArray vh = v.reshape(2, n, 3, 4).transpose(0, 2, 1, 3);
            NDArray want = qh.matMul(kh).div(2.0).softmax(-1).matMul(vh).transpose(0, 2, 1, 3).reshape(2, n, 12);
            assertTrue(got.sub(want).abs().max().getDouble() < 1e-12);
            long saved = DjlOps.maxScores;
            try {
                DjlOps.maxScores = 2 * 3 * n * 7; // 7 query rows a chunk: 43 chunks, the last one short
                NDArray chunked = new DjlOps(Map.of()).attention("t", q, k, v, 3);
                assertTrue(chunked.sub(want).abs().max().getDouble() < 1e-12);
            } finally {
                DjlOps.maxScores = saved;
            }
        }
    }
}
