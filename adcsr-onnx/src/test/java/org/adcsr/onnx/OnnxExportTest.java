package org.adcsr.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.adcsr.core.Engines;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

class OnnxExportTest {
    @TempDir Path dir;

    /**
     * Random uniform input in [−1, 1], at the test tile and at the default 128×128 tile; as the QNN export writes the
     * graph ({@code Resize} then a 3×3 conv, standard attention) and with the rewrites for ONNX Runtime (sub-pixel
     * convolutions and no {@code Resize}; fused attention).
     */
    @ParameterizedTest
    @CsvSource({"32, false, false", "128, false, false", "32, true, true", "128, true, true", "32, true, false",
        "32, false, true"})
    void floatOnnxEqualsDjlForward(int tile, boolean subPixel, boolean fusedAttention) throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        AdcsrConfig c = AdcsrConfig.tiny();
        try (NDManager m = engine.newBaseManager(); AdcsrModel model = AdcsrModel.random(c, 7, m, DataType.FLOAT32)) {
            Graph g = OnnxExport.build(c, tile, tile, k -> model.parameters().get(k).toFloatArray(),
                    new OnnxOps.Rewrites(subPixel, fusedAttention));
            assertEquals(fusedAttention, g.nodes.stream().anyMatch(n -> n.op().equals("MultiHeadAttention")));
            long resizes = g.nodes.stream().filter(n -> n.op().equals("Resize")).count();
            long upsamplers = model.parameters().keySet().stream().filter(k -> k.endsWith("upsamplers.0.conv.weight"))
                    .count();
            assertTrue(upsamplers > 0);
            assertEquals(subPixel ? 0 : upsamplers, resizes);
            Path onnx = dir.resolve("adcsr.onnx");
            OnnxExport.write(g, onnx, Map.of());
            float[] x = new float[3 * tile * tile];
            Random r = new Random(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() * 2 - 1;
            }
            float[] djl = model.forward(m.create(x, new Shape(1, 3, tile, tile))).toFloatArray();
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            o.setIntraOpNumThreads(1);
            try (OrtSession s = env.createSession(onnx.toString(), o);
                 OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {1, 3, tile, tile});
                 OrtSession.Result res = s.run(Map.of("lr", in))) {
                FloatBuffer y = ((OnnxTensor) res.get("sr").get()).getFloatBuffer();
                assertEquals(djl.length, y.remaining());
                double max = 0;
                for (int i = 0; i < djl.length; i++) {
                    max = Math.max(max, Math.abs(djl[i] - y.get(i)));
                }
                assertTrue(max <= 1e-4, "max |d| = " + max);
            }
        }
    }
}
