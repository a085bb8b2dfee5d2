package org.adcsr.qnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import onnx.Onnx.ModelProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.ValueInfoProto;
import org.adcsr.onnx.Graph;
import org.adcsr.onnx.OnnxExport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LintTest {
    @TempDir Path dir;

    private static boolean has(List<String> problems, String text) {
        return problems.stream().anyMatch(p -> p.contains(text));
    }

    /** x [1,4,8] -> Softmax(axis 1) -> Resize(linear) -> Gelu -> y; plus a rank-6 and a dynamic value. */
    private ModelProto badGraph() throws Exception {
        Graph g = new Graph();
        g.input("x", new long[] {1, 4, 8});
        String s = g.node("Softmax", "soft", new long[] {1, 4, 8}, List.of("x"), Graph.attr("axis", 1L));
        String r = g.node("Resize", "up", new long[] {1, 4, 8}, List.of(s), Graph.attr("mode", "linear"));
        String six = g.node("Reshape", "six", new long[] {1, 1, 1, 1, 4, 8}, List.of(r, g.longs("shape6", 1, 1, 1, 1, 4, 8)));
        g.node("Gelu", "y", new long[] {1, 4, 8}, List.of(six));
        g.outputs.add("y");
        ModelProto m = g.write(dir.resolve("bad.onnx"), "bad.onnx.data", OnnxExport.FLOAT, List.of(), Map.of());
        ValueInfoProto dyn = Graph.valueInfo("x", 1, new long[] {1, 4, 8}).toBuilder().setType(
                Graph.valueInfo("x", 1, new long[] {1}).getType().toBuilder().setTensorType(
                        Graph.valueInfo("x", 1, new long[] {1}).getType().getTensorType().toBuilder()
                                .setShape(TensorShapeProto.newBuilder().addDim(
                                        TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))))).build();
        return m.toBuilder().setGraph(m.getGraph().toBuilder().setInput(0, dyn)).build();
    }

    @Test
    void graphProblemsAreNamed() throws Exception {
        List<String> p = Lint.graph(badGraph());
        assertTrue(has(p, "Softmax soft: axis 1, HTP supports only the last axis"), p.toString());
        assertTrue(has(p, "Resize up: mode is linear, HTP needs nearest"), p.toString());
        assertTrue(has(p, "Resize up: nearest_mode is (default), HTP needs floor"), p.toString());
        assertTrue(has(p, "six: rank 6 > 5"), p.toString());
        assertTrue(has(p, "Gelu y: op not in the HTP list"), p.toString());
        assertTrue(has(p, "x: dynamic dimension batch"), p.toString());
    }

    @Test
    void encodingProblemsAreNamed() throws Exception {
        ModelProto m = badGraph();
        String v061 = """
                {"version": "0.6.1",
                 "activation_encodings": {
                   "soft": [{"bitwidth": 16, "dtype": "int", "is_symmetric": false, "min": 0, "max": 1,
                             "scale": 1.5e-5, "offset": 3}],
                   "ghost": [{"bitwidth": 32}]},
                 "param_encodings": {
                   "shape6": [{"bitwidth": 8, "is_symmetric": "True", "scale": 1, "offset": -100},
                              {"bitwidth": 8, "is_symmetric": "True", "scale": 1, "offset": -128}]}}
                """;
        List<String> p = Lint.encodings(m, v061);
        assertTrue(has(p, "encoding soft: is_symmetric must be a string"), p.toString());
        assertTrue(has(p, "encoding soft: offset 3 > 0"), p.toString());
        assertTrue(has(p, "encoding ghost: no such tensor in the graph"), p.toString());
        assertTrue(has(p, "encoding ghost: bitwidth 32"), p.toString());
        assertTrue(has(p, "encoding shape6: symmetric offset -100 must be 0 or -128"), p.toString());
        assertTrue(has(p, "encoding shape6: 2 per-channel entries for 6 output channels"), p.toString());

        String v100 = """
                {"version": "1.0.0", "activation_encodings": [
                   {"name": "soft", "enc_type": "PER_TENSOR", "bw": 16, "is_sym": "False", "scale": [1], "offset": [0]}],
                 "param_encodings": [
                   {"name": "shape6", "enc_type": "PER_CHANNEL", "dtype": "INT", "bw": 8, "is_sym": false,
                    "scale": [1], "offset": [-128]}]}
                """;
        List<String> q = Lint.encodings(m, v100);
        assertTrue(has(q, "encoding soft: \"dtype\": \"INT\" missing"), q.toString());
        assertTrue(has(q, "encoding soft: is_sym must be a JSON bool"), q.toString());
        assertTrue(has(q, "encoding shape6: PER_CHANNEL must be symmetric"), q.toString());
        assertEquals(List.of("encodings: version 2, expected 0.6.1 or 1.0.0"),
                Lint.encodings(m, "{\"version\": \"2\", \"activation_encodings\": {}, \"param_encodings\": {}}"));
    }
}
