package org.adcsr.onnx;

import com.google.protobuf.ByteString;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.StringStringEntryProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;

/**
 * An ONNX graph under construction: nodes in topological order, initializers whose data is produced on demand (so a
 * 1.8 GB model is written one tensor at a time), and the shape of every tensor (static, but for dimensions given as
 * −1: unknown until run time). {@link #write} turns it into a {@link ModelProto} with the large initializers in an
 * external data file.
 */
public final class Graph {
    /** ONNX element types used here. */
    public enum Type {
        FLOAT(TensorProto.DataType.FLOAT_VALUE, 4), INT64(TensorProto.DataType.INT64_VALUE, 8),
        INT8(TensorProto.DataType.INT8_VALUE, 1), UINT16(TensorProto.DataType.UINT16_VALUE, 2);

        public final int onnx;
        public final int bytes;

        Type(int onnx, int bytes) {
            this.onnx = onnx;
            this.bytes = bytes;
        }
    }

    /** A node; attributes are already protos. */
    public record Node(String op, String name, List<String> inputs, List<String> outputs, List<AttributeProto> attrs,
            String domain) {
    }

    /** An initializer: little-endian bytes produced on demand. */
    public record Init(String name, Type type, long[] shape, Supplier<byte[]> data) {
        public long bytes() {
            long n = type.bytes;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** ONNX Runtime's contributed operators ({@code MultiHeadAttention}), version 1 of their set. */
    public static final String MICROSOFT = "com.microsoft";

    /** Initializers at least this large go to the external data file. */
    public static final long EXTERNAL_MIN_BYTES = 1024;

    public final List<Node> nodes = new ArrayList<>();
    public final Map<String, Init> inits = new LinkedHashMap<>();
    /** Shapes of every value (inputs, node outputs); all static. */
    public final Map<String, long[]> shapes = new LinkedHashMap<>();
    public final Map<String, Type> types = new LinkedHashMap<>();
    public final List<String> inputs = new ArrayList<>();
    public final List<String> outputs = new ArrayList<>();
    /** Node outputs that sit inside a pattern the converter fuses (GroupNorm, GELU): never encoded. */
    public final Set<String> internal = new HashSet<>();
    private final Set<String> names = new HashSet<>();

    public String unique(String name) {
        String n = name;
        for (int i = 1; names.contains(n) || inits.containsKey(n); i++) {
            n = name + "_" + i;
        }
        names.add(n);
        return n;
    }

    public void input(String name, long[] shape) {
        input(name, shape, Type.FLOAT);
    }

    /** A graph input of this type; a dimension of −1 is left unknown (given at run time). */
    public void input(String name, long[] shape, Type type) {
        names.add(name);
        inputs.add(name);
        shapes.put(name, shape);
        types.put(name, type);
    }

    /** Adds a node with one output named {@code out} (made unique), of the given shape; returns the output name. */
    public String node(String op, String out, long[] shape, List<String> in, AttributeProto... attrs) {
        return node("", op, out, shape, in, attrs);
    }

    /** {@link #node(String, String, long[], List, AttributeProto...)} of an operator set other than ONNX's own. */
    public String node(String domain, String op, String out, long[] shape, List<String> in, AttributeProto... attrs) {
        String o = unique(out);
        nodes.add(new Node(op, o, List.copyOf(in), List.of(o), List.of(attrs), domain));
        shapes.put(o, shape);
        types.put(o, Type.FLOAT);
        return o;
    }

    public String init(String name, Type type, long[] shape, Supplier<byte[]> data) {
        if (inits.containsKey(name)) {
            return name;
        }
        inits.put(name, new Init(name, type, shape.clone(), data));
        names.add(name);
        return name;
    }

    public String floats(String name, long[] shape, Supplier<float[]> data) {
        return init(name, Type.FLOAT, shape, () -> le(data.get()));
    }

    public String longs(String name, long... values) {
        return init(name, Type.INT64, new long[] {values.length}, () -> {
            ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) {
                b.putLong(v);
            }
            return b.array();
        });
    }

    public static byte[] le(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    public static AttributeProto attr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    public static AttributeProto attr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    public static AttributeProto attr(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(ByteString.copyFromUtf8(v)).build();
    }

    public static AttributeProto attr(String name, long... v) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) {
            b.addInts(x);
        }
        return b.build();
    }

    public static ValueInfoProto valueInfo(String name, int elemType, long[] shape) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : shape) {
            s.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder() : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    /** Opset and IR version of a written model. */
    public record Version(long ir, long opset) {
    }

    /**
     * Writes the model to {@code onnxFile}, initializers of at least {@link #EXTERNAL_MIN_BYTES} to {@code dataFile}
     * in the same directory (64-byte aligned), and returns the proto (without the external bytes).
     *
     * @param extraOutputs values to list as graph outputs besides the real ones (calibration variants)
     */
    public ModelProto write(Path onnxFile, String dataFile, Version v, List<String> extraOutputs,
            Map<String, String> metadata) throws IOException {
        Path data = onnxFile.resolveSibling(dataFile);
        ModelProto model;
        try (OutputStream os = dataFile == null ? null
                : new BufferedOutputStream(Files.newOutputStream(data), 1 << 20)) {
            long[] offset = {0};
            model = proto("adcsr-export-qnn", v, extraOutputs, metadata, (init, t) -> {
                byte[] bytes = bytesOf(init);
                if (os != null && bytes.length >= EXTERNAL_MIN_BYTES) {
                    long pad = (64 - offset[0] % 64) % 64;
                    os.write(new byte[(int) pad]);
                    offset[0] += pad;
                    os.write(bytes);
                    t.setDataLocation(TensorProto.DataLocation.EXTERNAL)
                            .addExternalData(kv("location", dataFile))
                            .addExternalData(kv("offset", Long.toString(offset[0])))
                            .addExternalData(kv("length", Long.toString(bytes.length)));
                    offset[0] += bytes.length;
                } else {
                    t.setRawData(ByteString.copyFrom(bytes));
                }
            });
        }
        try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(onnxFile))) {
            model.writeTo(os);
        }
        return model;
    }

    /**
     * The model with some initializers given as ready protos (for example external-data references into a file
     * written before): {@code given} returns the proto for an initializer of the same name, type and shape, or null
     * to write that initializer's data inline.
     */
    public ModelProto withInitializers(String producer, Version v, Map<String, String> metadata,
            java.util.function.Function<Init, TensorProto> given) throws IOException {
        return proto(producer, v, List.of(), metadata, (init, t) -> {
            TensorProto p = given.apply(init);
            if (p == null) {
                t.setRawData(ByteString.copyFrom(bytesOf(init)));
            } else if (!p.getName().equals(init.name) || p.getDataType() != init.type.onnx
                    || !Arrays.equals(p.getDimsList().stream().mapToLong(Long::longValue).toArray(), init.shape)) {
                throw new IllegalStateException(init.name + ": the given initializer " + p.getName() + " "
                        + p.getDimsList() + " does not match " + Arrays.toString(init.shape));
            } else {
                t.clear().mergeFrom(p);
            }
        });
    }

    /** An initializer's bytes, checked against its shape. */
    private static byte[] bytesOf(Init init) {
        byte[] bytes = init.data.get();
        if (bytes.length != init.bytes()) {
            throw new IllegalStateException(init.name + ": " + bytes.length + " bytes for shape "
                    + Arrays.toString(init.shape));
        }
        return bytes;
    }

    /** Where an initializer's data goes: {@code t} has its name, type and dims already. */
    private interface InitData {
        void fill(Init init, TensorProto.Builder t) throws IOException;
    }

    private ModelProto proto(String producer, Version v, List<String> extraOutputs, Map<String, String> metadata,
            InitData data)
            throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().setName("adcsr");
        for (String in : inputs) {
            g.addInput(valueInfo(in, types.get(in).onnx, shapes.get(in)));
        }
        List<String> outs = new ArrayList<>(outputs);
        extraOutputs.stream().filter(o -> !outputs.contains(o)).forEach(outs::add);
        for (String out : outs) {
            g.addOutput(valueInfo(out, types.get(out).onnx, shapes.get(out)));
        }
        for (Node n : nodes) {
            NodeProto.Builder nb = NodeProto.newBuilder().setOpType(n.op).setName(n.name).addAllInput(n.inputs)
                    .addAllOutput(n.outputs).addAllAttribute(n.attrs);
            if (!n.domain.isEmpty()) {
                nb.setDomain(n.domain);
            }
            g.addNode(nb);
            for (String o : n.outputs) {
                if (!outs.contains(o)) {
                    g.addValueInfo(valueInfo(o, types.get(o).onnx, shapes.get(o)));
                }
            }
        }
        for (Init init : inits.values()) {
            TensorProto.Builder t = TensorProto.newBuilder().setName(init.name).setDataType(init.type.onnx);
            for (long d : init.shape) {
                t.addDims(d);
            }
            data.fill(init, t);
            g.addInitializer(t);
        }
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(v.ir).setProducerName(producer)
                .setProducerVersion(version()).setGraph(g)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(v.opset));
        nodes.stream().map(Node::domain).filter(d -> !d.isEmpty()).distinct().sorted()
                .forEach(d -> m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(d).setVersion(1)));
        metadata.forEach((k, val) -> m.addMetadataProps(kv(k, val)));
        return m.build();
    }

    /**
     * A copy of a written model that also (or, with {@code only}, only) lists {@code extra} values as graph outputs (ONNX Runtime returns any
     * declared output), sharing the external data file: the calibration variant.
     */
    public ModelProto withOutputs(ModelProto base, List<String> extra, boolean only) {
        GraphProto.Builder gb = base.getGraph().toBuilder();
        Set<String> add = new HashSet<>(extra);
        if (only) {
            for (ValueInfoProto o : base.getGraph().getOutputList()) {
                if (!add.contains(o.getName())) {
                    gb.addValueInfo(o);
                }
            }
            gb.clearOutput();
        } else {
            base.getGraph().getOutputList().forEach(o -> add.remove(o.getName()));
        }
        List<ValueInfoProto> keep = new ArrayList<>();
        for (ValueInfoProto vi : gb.getValueInfoList()) {
            if (!add.contains(vi.getName())) {
                keep.add(vi);
            }
        }
        gb.clearValueInfo().addAllValueInfo(keep);
        for (String e : extra) {
            if (add.contains(e)) {
                gb.addOutput(valueInfo(e, types.get(e).onnx, shapes.get(e)));
            }
        }
        return base.toBuilder().setGraph(gb).build();
    }

    public static StringStringEntryProto kv(String k, String v) {
        return StringStringEntryProto.newBuilder().setKey(k).setValue(v).build();
    }

    public static String version() {
        String v = Graph.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** Nodes reading each value. */
    public Map<String, List<Node>> consumers() {
        Map<String, List<Node>> c = new LinkedHashMap<>();
        for (Node n : nodes) {
            for (String in : n.inputs) {
                c.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        return c;
    }
}
