package org.adcsr.onnx;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;

/** The float ONNX graph of an AdcSR network: input {@code lr} [1,3,H,W] in [−1,1], output {@code sr} [1,3,4H,4W]. */
public final class OnnxExport {
    public static final String INPUT = "lr";
    public static final String OUTPUT = "sr";
    /** Float graph: opset 17, IR 8 (QNN.md §1). */
    public static final Graph.Version FLOAT = new Graph.Version(8, 17);

    private OnnxExport() {
    }

    /** Builds the graph for a square LR tile of {@code tile} pixels. */
    public static Graph build(AdcsrConfig config, int tile, Function<String, float[]> params) {
        return build(config, tile, tile, params);
    }

    /** Builds the graph for an LR input of {@code height × width} pixels, with standard {@code Upsample2D}s. */
    public static Graph build(AdcsrConfig config, int height, int width, Function<String, float[]> params) {
        return build(config, height, width, params, OnnxOps.Rewrites.NONE);
    }

    /**
     * Builds the graph for an LR input of {@code height × width} pixels, with {@code rewrites} for ONNX Runtime (the
     * same function, fewer operations).
     */
    public static Graph build(AdcsrConfig config, int height, int width, Function<String, float[]> params,
            OnnxOps.Rewrites rewrites) {
        Graph g = new Graph();
        long[] in = {1, 3, height, width};
        g.input(INPUT, in);
        OnnxOps ops = new OnnxOps(g, params, rewrites);
        OnnxOps.V out = AdcsrNetwork.forward(ops, config, new OnnxOps.V(INPUT, in, false));
        rename(g, out.name(), OUTPUT);
        g.outputs.add(OUTPUT);
        return g;
    }

    /** Renames a node output (and its uses). */
    public static void rename(Graph g, String from, String to) {
        for (int i = 0; i < g.nodes.size(); i++) {
            Graph.Node n = g.nodes.get(i);
            if (n.outputs().contains(from) || n.inputs().contains(from)) {
                g.nodes.set(i, new Graph.Node(n.op(), n.name(), swap(n.inputs(), from, to), swap(n.outputs(), from, to),
                        n.attrs(), n.domain()));
            }
        }
        g.shapes.put(to, g.shapes.remove(from));
        g.types.put(to, g.types.remove(from));
    }

    private static List<String> swap(List<String> names, String from, String to) {
        List<String> r = new ArrayList<>(names);
        r.replaceAll(s -> s.equals(from) ? to : s);
        return List.copyOf(r);
    }

    /** Writes {@code dir/adcsr.onnx} and {@code dir/adcsr.onnx.data}. */
    public static void write(Graph g, Path onnx, Map<String, String> meta) throws IOException {
        g.write(onnx, onnx.getFileName() + ".data", FLOAT, List.of(), meta);
    }
}
