package org.adcsr.qnn;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.adcsr.onnx.Graph;

/**
 * The QDQ variant (QNN.md §7): int8 weights through {@code DequantizeLinear} (per channel on axis 0 for convs, zero
 * point 0) and every encoded activation through {@code QuantizeLinear → DequantizeLinear} with a uint16 zero point.
 * uint16 Q/DQ needs opset 21 (IR 10). Running it in ONNX Runtime simulates W8A16 end to end.
 */
final class Qdq {
    static final Graph.Version VERSION = new Graph.Version(10, 21);

    private Qdq() {
    }

    static Graph build(Graph f, Encodings enc) {
        Graph q = new Graph();
        q.shapes.putAll(f.shapes);
        q.types.putAll(f.types);
        q.outputs.addAll(f.outputs);
        for (String in : f.inputs) {
            q.input(in, f.shapes.get(in));
        }
        // weights
        for (Graph.Init init : f.inits.values()) {
            List<Quant> pe = enc.params.get(init.name());
            if (pe == null) {
                q.inits.put(init.name(), init);
                continue;
            }
            long[] shape = init.shape();
            boolean perChannel = pe.size() > 1;
            long[] cs = perChannel ? new long[] {pe.size()} : new long[] {};
            String w8 = q.init(init.name() + "/int8", Graph.Type.INT8, shape, () -> quantizeWeights(init, pe));
            String s = q.floats(init.name() + "/scale", cs, () -> {
                float[] a = new float[pe.size()];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) pe.get(i).scale();
                }
                return a;
            });
            String zp = q.init(init.name() + "/zero_point", Graph.Type.INT8, cs, () -> new byte[pe.size()]);
            q.nodes.add(new Graph.Node("DequantizeLinear", init.name() + "/dequantize", List.of(w8, s, zp),
                    List.of(init.name()), perChannel ? List.of(Graph.attr("axis", 0L)) : List.of(), ""));
            q.shapes.put(init.name(), shape);
            q.types.put(init.name(), Graph.Type.FLOAT);
        }
        // activations: the graph input goes through Q/DQ into "<input>/dq", which its consumers then read
        Map<String, String> rewire = new java.util.HashMap<>();
        for (String in : f.inputs) {
            Quant a = enc.activations.get(in);
            if (a != null) {
                q.nodes.addAll(qdq(q, in, in + "/dq", a));
                rewire.put(in, in + "/dq");
            }
        }
        // node outputs: the node writes "<name>/float", Q/DQ gives "<name>" back to the consumers
        for (Graph.Node n : f.nodes) {
            List<String> ins = new ArrayList<>(n.inputs());
            ins.replaceAll(x -> rewire.getOrDefault(x, x));
            String o = n.outputs().get(0);
            Quant a = n.outputs().size() == 1 ? enc.activations.get(o) : null;
            if (a == null) {
                q.nodes.add(new Graph.Node(n.op(), n.name(), List.copyOf(ins), n.outputs(), n.attrs(), n.domain()));
                continue;
            }
            String fl = o + "/float";
            q.nodes.add(new Graph.Node(n.op(), n.name(), List.copyOf(ins), List.of(fl), n.attrs(), n.domain()));
            q.shapes.put(fl, f.shapes.get(o));
            q.types.put(fl, Graph.Type.FLOAT);
            q.nodes.addAll(qdq(q, fl, o, a));
        }
        return q;
    }

    /** {@code QuantizeLinear(from) → DequantizeLinear → to}, with uint16 scale and zero point initializers. */
    private static List<Graph.Node> qdq(Graph q, String from, String to, Quant a) {
        String s = q.floats(to + "/scale", new long[] {}, () -> new float[] {(float) a.scale()});
        String zp = q.init(to + "/zero_point", Graph.Type.UINT16, new long[] {}, () -> ByteBuffer.allocate(2)
                .order(ByteOrder.LITTLE_ENDIAN).putShort((short) -a.offset()).array());
        String qn = to + "/q";
        q.shapes.put(qn, q.shapes.get(from));
        q.types.put(qn, Graph.Type.UINT16);
        q.shapes.put(to, q.shapes.get(from));
        q.types.put(to, Graph.Type.FLOAT);
        return List.of(
                new Graph.Node("QuantizeLinear", to + "/quantize", List.of(from, s, zp), List.of(qn), List.of(), ""),
                new Graph.Node("DequantizeLinear", to + "/dequantize", List.of(qn, s, zp), List.of(to), List.of(), ""));
    }

    /** Signed int8 {@code clamp(rint(w/scale), −128, 127)}, per row of axis 0 when per channel. */
    static byte[] quantizeWeights(Graph.Init init, List<Quant> pe) {
        float[] w = floats(init);
        byte[] b = new byte[w.length];
        int per = w.length / pe.size();
        for (int i = 0; i < w.length; i++) {
            double s = pe.get(pe.size() == 1 ? 0 : i / per).scale();
            b[i] = (byte) Math.max(-128, Math.min(127, Math.rint(w[i] / s)));
        }
        return b;
    }

    static float[] floats(Graph.Init init) {
        ByteBuffer bb = ByteBuffer.wrap(init.data().get()).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[bb.remaining() / 4];
        bb.asFloatBuffer().get(f);
        return f;
    }

    static void write(Graph q, Path file, Map<String, String> meta) throws IOException {
        q.write(file, file.getFileName() + ".data", VERSION, List.of(), meta);
    }
}
