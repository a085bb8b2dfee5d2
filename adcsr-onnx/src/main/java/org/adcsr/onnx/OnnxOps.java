package org.adcsr.onnx;

import java.util.List;
import java.util.function.Function;
import org.adcsr.core.model.Ops;
import org.adcsr.core.model.ShapeOps;

import static org.adcsr.onnx.Graph.attr;

/**
 * {@link Ops} that emit ONNX nodes: running {@link org.adcsr.core.model.AdcsrNetwork#forward} with these ops writes
 * the graph of exactly that forward. Shapes come from {@link ShapeOps} (which checks them), so every tensor has a
 * static shape. Initializers are named by checkpoint key; op outputs by module name ({@code unet.conv_in}), derived
 * values by their module and a suffix ({@code unet.mid_block.resnets.0.norm1/silu}).
 *
 * <p>The graph follows the HTP rules of QNN.md §2: PixelUnshuffle is {@code SpaceToDepth(2)} with the consuming
 * conv's input channels permuted; GroupNorm is {@code Reshape → InstanceNormalization → Reshape → Mul → Add}; SiLU
 * is {@code Sigmoid·x}; GELU is the erf formula; attention is {@code MatMul, Softmax(−1), MatMul} on rank-4 tensors;
 * nearest ×2 is {@code Resize(nearest, asymmetric, floor)}; linear layers are {@code MatMul} with the weight stored
 * transposed ({@code [in, out]}) plus {@code Add} of the bias. The graphs adcsr-upscale runs may differ from the
 * exported ones by {@link Rewrites} that compute the same function faster under ONNX Runtime.
 */
public final class OnnxOps implements Ops<OnnxOps.V> {
    /**
     * Rewrites for graphs that ONNX Runtime runs (never for exported ones: QNN knows only the standard forms).
     *
     * @param subPixel {@code Upsample2D} as four 2×2 sub-pixel convolutions and a {@code DepthToSpace}
     *     ({@link #upsampleConv})
     * @param fusedAttention attention as ONNX Runtime's contributed {@code com.microsoft MultiHeadAttention} (its
     *     CPU kernel is MLAS flash attention, which never holds the whole score matrix)
     */
    public record Rewrites(boolean subPixel, boolean fusedAttention) {
        /** The exported graph's standard forms. */
        public static final Rewrites NONE = new Rewrites(false, false);

        /** A label for file names: empty for {@link #NONE}. */
        public String tag() {
            return (subPixel ? "-subpixel" : "") + (fusedAttention ? "-mha" : "");
        }
    }

    /** A value of the graph: its name and static shape; {@code s2d} marks SpaceToDepth channel order. */
    public record V(String name, long[] shape, boolean s2d) {
    }

    private final Graph g;
    private final Function<String, float[]> params;
    private final Rewrites rewrites;
    private final ShapeOps shapes = new ShapeOps();
    /** Module that the last named op belonged to: unnamed ops (add, silu …) are named after it. */
    private String scope = "graph";

    /** @param params parameter values (row-major, checkpoint layout) by checkpoint key, read when the model is written */
    public OnnxOps(Graph g, Function<String, float[]> params) {
        this(g, params, Rewrites.NONE);
    }

    /** @param params parameter values (row-major, checkpoint layout) by checkpoint key, read when the model is written */
    public OnnxOps(Graph g, Function<String, float[]> params, Rewrites rewrites) {
        this.g = g;
        this.params = params;
        this.rewrites = rewrites;
    }

    public ShapeOps shapeOps() {
        return shapes;
    }

    private void enter(String module) {
        int dot = module.lastIndexOf('.');
        scope = dot < 0 ? module : module.substring(0, dot);
    }

    private V v(String name, long[] shape) {
        return new V(name, shape, false);
    }

    private String internal(String name) {
        g.internal.add(name);
        return name;
    }

    @Override
    public int channels(V x) {
        return shapes.channels(x.shape);
    }

    @Override
    public V conv2d(V x, String name, int out, int kernel, int stride, int padTop, int padBottom, int padLeft,
            int padRight, boolean bias) {
        long[] y = shapes.conv2d(x.shape, name, out, kernel, stride, padTop, padBottom, padLeft, padRight, bias);
        enter(name);
        int in = (int) x.shape[1];
        String w = g.floats(name + ".weight", new long[] {out, in, kernel, kernel}, () -> {
            float[] w3 = params.apply(name + ".weight");
            return x.s2d ? permuteS2d(w3, out, in, kernel) : w3;
        });
        List<String> inputs = bias
                ? List.of(x.name, w, g.floats(name + ".bias", new long[] {out}, () -> params.apply(name + ".bias")))
                : List.of(x.name, w);
        String o = g.node("Conv", name, y, inputs, attr("kernel_shape", kernel, kernel),
                attr("strides", stride, stride), attr("pads", padTop, padLeft, padBottom, padRight),
                attr("dilations", 1L, 1L), attr("group", 1L));
        return v(o, y);
    }

    /**
     * Input channels of a conv after PixelUnshuffle, reordered for SpaceToDepth: SpaceToDepth channel
     * {@code (i·2+j)·C + c} is PixelUnshuffle channel {@code c·4 + i·2 + j}.
     */
    public static float[] permuteS2d(float[] w, int out, int in, int k) {
        int c = in / 4;
        int kk = k * k;
        float[] r = new float[w.length];
        for (int o = 0; o < out; o++) {
            for (int ch = 0; ch < c; ch++) {
                for (int ij = 0; ij < 4; ij++) {
                    System.arraycopy(w, (o * in + ch * 4 + ij) * kk, r, (o * in + ij * c + ch) * kk, kk);
                }
            }
        }
        return r;
    }

    @Override
    public V linear(V x, String name, int out, boolean bias) {
        long[] y = shapes.linear(x.shape, name, out, bias);
        enter(name);
        int in = (int) x.shape[x.shape.length - 1];
        String w = g.floats(name + ".weight", new long[] {in, out}, () -> transpose(params.apply(name + ".weight"),
                out, in));
        if (!bias) {
            return v(g.node("MatMul", name, y, List.of(x.name, w)), y);
        }
        String m = internal(g.node("MatMul", name + "/matmul", y, List.of(x.name, w)));
        String b = g.floats(name + ".bias", new long[] {out}, () -> params.apply(name + ".bias"));
        return v(g.node("Add", name, y, List.of(m, b)), y);
    }

    public static float[] transpose(float[] w, int rows, int cols) {
        float[] t = new float[w.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = w[r * cols + c];
            }
        }
        return t;
    }

    @Override
    public V groupNorm(V x, String name, int groups, double eps) {
        long[] y = shapes.groupNorm(x.shape, name, groups, eps);
        enter(name);
        long[] s = x.shape;
        long c = s[1];
        long rest = c / groups * s[2] * s[3];
        String r1 = internal(g.node("Reshape", name + "/grouped", new long[] {s[0], groups, rest},
                List.of(x.name, g.longs("shape." + s[0] + "x" + groups + "x" + rest, s[0], groups, rest))));
        String ones = g.floats("const.ones_" + groups, new long[] {groups}, () -> fill(groups, 1f));
        String zeros = g.floats("const.zeros_" + groups, new long[] {groups}, () -> fill(groups, 0f));
        String in = internal(g.node("InstanceNormalization", name + "/instance_norm", new long[] {s[0], groups, rest},
                List.of(r1, ones, zeros), attr("epsilon", (float) eps)));
        String r2 = internal(g.node("Reshape", name + "/ungrouped", y,
                List.of(in, g.longs("shape." + dims(s), s))));
        String w = g.floats(name + ".weight", new long[] {c, 1, 1}, () -> params.apply(name + ".weight"));
        String b = g.floats(name + ".bias", new long[] {c, 1, 1}, () -> params.apply(name + ".bias"));
        String m = internal(g.node("Mul", name + "/scaled", y, List.of(r2, w)));
        return v(g.node("Add", name, y, List.of(m, b)), y);
    }

    private static float[] fill(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    private static String dims(long[] s) {
        StringBuilder b = new StringBuilder();
        for (long d : s) {
            b.append(b.length() == 0 ? "" : "x").append(d);
        }
        return b.toString();
    }

    @Override
    public V layerNorm(V x, String name, double eps) {
        long[] y = shapes.layerNorm(x.shape, name, eps);
        enter(name);
        long c = x.shape[x.shape.length - 1];
        String w = g.floats(name + ".weight", new long[] {c}, () -> params.apply(name + ".weight"));
        String b = g.floats(name + ".bias", new long[] {c}, () -> params.apply(name + ".bias"));
        return v(g.node("LayerNormalization", name, y, List.of(x.name, w, b), attr("axis", -1L),
                attr("epsilon", (float) eps)), y);
    }

    @Override
    public V silu(V x) {
        long[] y = shapes.silu(x.shape);
        String sig = g.node("Sigmoid", x.name + "/sigmoid", y, List.of(x.name));
        return v(g.node("Mul", x.name + "/silu", y, List.of(x.name, sig)), y);
    }

    @Override
    public V geglu(V x) {
        long[] y = shapes.geglu(x.shape);
        int axis = x.shape.length - 1;
        long half = y[axis];
        String a = g.unique(x.name + "/geglu_a");
        String gate = g.unique(x.name + "/geglu_gate");
        g.nodes.add(new Graph.Node("Split", x.name + "/geglu_split", List.of(x.name,
                g.longs("const.split_" + half + "_" + half, half, half)), List.of(a, gate),
                List.of(attr("axis", (long) axis)), ""));
        for (String o : List.of(a, gate)) {
            g.shapes.put(o, y);
            g.types.put(o, Graph.Type.FLOAT);
            internal(o);
        }
        // GELU(g) = g · 0.5 · (1 + erf(g / √2)), the pattern the converter turns into Gelu
        String sqrt2 = g.floats("const.sqrt2", new long[] {}, () -> new float[] {(float) Math.sqrt(2.0)});
        String one = g.floats("const.one", new long[] {}, () -> new float[] {1f});
        String halfC = g.floats("const.half", new long[] {}, () -> new float[] {0.5f});
        String d = internal(g.node("Div", x.name + "/gelu_div", y, List.of(gate, sqrt2)));
        String e = internal(g.node("Erf", x.name + "/gelu_erf", y, List.of(d)));
        String p = internal(g.node("Add", x.name + "/gelu_add", y, List.of(e, one)));
        String m = internal(g.node("Mul", x.name + "/gelu_mul", y, List.of(gate, p)));
        String gelu = g.node("Mul", x.name + "/gelu", y, List.of(m, halfC));
        return v(g.node("Mul", x.name + "/geglu", y, List.of(a, gelu)), y);
    }

    @Override
    public V add(V a, V b) {
        long[] y = shapes.add(a.shape, b.shape);
        String bn = b.name;
        if (b.shape.length < a.shape.length) { // [B, C] per channel: as [B, C, 1, 1]
            long[] s = {b.shape[0], b.shape[1], 1, 1};
            bn = g.node("Reshape", b.name + "/per_channel", s, List.of(b.name, g.longs("shape." + dims(s), s)));
        }
        return v(g.node("Add", scope + "/add", y, List.of(a.name, bn)), y);
    }

    @Override
    public V scale(V x, double s) {
        long[] y = shapes.scale(x.shape, s);
        String c = g.floats("const.scale_" + Double.toString(s).replace('.', '_'), new long[] {}, () -> new float[] {(float) s});
        return v(g.node("Mul", x.name + "/scaled", y, List.of(x.name, c)), y);
    }

    @Override
    public V concatChannels(V a, V b) {
        long[] y = shapes.concatChannels(a.shape, b.shape);
        return v(g.node("Concat", scope + "/concat", y, List.of(a.name, b.name), attr("axis", 1L)), y);
    }

    @Override
    public V upsampleNearest2x(V x) {
        long[] y = shapes.upsampleNearest2x(x.shape);
        String scales = g.floats("const.scales_1x1x2x2", new long[] {4}, () -> new float[] {1f, 1f, 2f, 2f});
        return v(g.node("Resize", x.name + "/upsample", y, List.of(x.name, "", scales), attr("mode", "nearest"),
                attr("coordinate_transformation_mode", "asymmetric"), attr("nearest_mode", "floor")), y);
    }

    /**
     * With {@link Rewrites#subPixel}, nearest ×2 then a 3×3 conv as four 2×2 convolutions of the input, one per
     * output phase, interleaved by {@code DepthToSpace}: the same function with 16 instead of 36 multiply-adds per input pixel and
     * output channel, and no ×2 copy of the input. Output pixel {@code (2i+a, 2j+b)} sees input rows {@code i−1, i}
     * when {@code a = 0} (kernel rows {@code 0} and {@code 1+2}) and {@code i, i+1} when {@code a = 1} (rows
     * {@code 0+1} and {@code 2}); columns alike. The phase kernels are computed in the graph from the stored 3×3
     * weight (ONNX Runtime folds them once, at session start), so the weights and their cache are unchanged; only
     * the summation order differs from the plain form (float32 rounding).
     */
    @Override
    public V upsampleConv(V x, String name, int out) {
        if (!rewrites.subPixel()) {
            return Ops.super.upsampleConv(x, name, out);
        }
        long[] y = shapes.conv2d(shapes.upsampleNearest2x(x.shape), name, out, 3, 1, 1, 1, 1, 1, true);
        enter(name);
        int in = (int) x.shape[1];
        String w = g.floats(name + ".weight", new long[] {out, in, 3, 3}, () -> params.apply(name + ".weight"));
        String b = g.floats(name + ".bias", new long[] {out}, () -> params.apply(name + ".bias"));
        String[] rows = foldTaps(w, name + "/rows", new long[] {out, in, 3, 3}, 2);
        long[] phase = {x.shape[0], out, x.shape[2], x.shape[3]};
        String[] phases = new String[4];
        for (int a = 0; a < 2; a++) {
            String[] k = foldTaps(rows[a], name + "/rows" + a + "_cols", new long[] {out, in, 2, 3}, 3);
            for (int c = 0; c < 2; c++) {
                phases[a * 2 + c] = internal(g.node("Conv", name + "/phase" + a + c, phase,
                        List.of(x.name, k[c], b), attr("kernel_shape", 2L, 2L), attr("strides", 1L, 1L),
                        attr("pads", 1L - a, 1L - c, a, c), attr("dilations", 1L, 1L), attr("group", 1L)));
            }
        }
        String all = internal(g.node("Concat", name + "/phases", new long[] {phase[0], 4L * out, phase[2], phase[3]},
                List.of(phases), attr("axis", 1L)));
        return v(g.node("DepthToSpace", name, y, List.of(all), attr("blocksize", 2L), attr("mode", "DCR")), y);
    }

    /**
     * The two 2-tap kernels of a 3-tap axis of {@code w}: {@code [t0, t1+t2]} (phase 0) and {@code [t0+t1, t2]}
     * (phase 1).
     */
    private String[] foldTaps(String w, String prefix, long[] shape, int axis) {
        String[] t = new String[3];
        long[] tap = shape.clone();
        tap[axis] = 1;
        String axes = g.longs("const.axis_" + axis, axis);
        for (int i = 0; i < 3; i++) {
            t[i] = internal(g.node("Slice", prefix + "_tap" + i, tap, List.of(w, g.longs("const.index_" + i, i),
                    g.longs("const.index_" + (i + 1), i + 1), axes)));
        }
        long[] two = shape.clone();
        two[axis] = 2;
        String s12 = internal(g.node("Add", prefix + "_sum12", tap, List.of(t[1], t[2])));
        String s01 = internal(g.node("Add", prefix + "_sum01", tap, List.of(t[0], t[1])));
        return new String[] {
            internal(g.node("Concat", prefix + "0", two, List.of(t[0], s12), attr("axis", (long) axis))),
            internal(g.node("Concat", prefix + "1", two, List.of(s01, t[2]), attr("axis", (long) axis)))};
    }

    @Override
    public V pixelUnshuffle2(V x) {
        long[] y = shapes.pixelUnshuffle2(x.shape);
        String o = g.node("SpaceToDepth", x.name + "/space_to_depth", y, List.of(x.name), attr("blocksize", 2L));
        return new V(o, y, true);
    }

    @Override
    public V toTokens(V x) {
        long[] y = shapes.toTokens(x.shape);
        long[] s = x.shape;
        long[] flat = {s[0], s[1], s[2] * s[3]};
        String r = g.node("Reshape", x.name + "/flat", flat, List.of(x.name, g.longs("shape." + dims(flat), flat)));
        return v(g.node("Transpose", x.name + "/tokens", y, List.of(r), attr("perm", 0L, 2L, 1L)), y);
    }

    @Override
    public V fromTokens(V t, V like) {
        long[] y = shapes.fromTokens(t.shape, like.shape);
        long[] tr = {t.shape[0], t.shape[2], t.shape[1]};
        String r = g.node("Transpose", t.name + "/channels_first", tr, List.of(t.name), attr("perm", 0L, 2L, 1L));
        return v(g.node("Reshape", t.name + "/nchw", y, List.of(r, g.longs("shape." + dims(y), y))), y);
    }

    @Override
    public V attention(String name, V q, V k, V v, int heads) {
        long[] y = shapes.attention(name, q.shape, k.shape, v.shape, heads);
        enter(name + ".core");
        long b = q.shape[0];
        long n = q.shape[1];
        long c = q.shape[2];
        long m = k.shape[1];
        long d = c / heads;
        if (rewrites.fusedAttention()) {
            // q, k, v [B, N, C] as they are; its scale defaults to 1/sqrt(C/heads), the same as below
            return v(g.node(Graph.MICROSOFT, "MultiHeadAttention", name + "/mha", y, List.of(q.name, k.name, v.name),
                    attr("num_heads", (long) heads)), y);
        }
        String scale = g.floats("const.attn_scale_" + d, new long[] {}, () -> new float[] {(float) (1.0 / Math.sqrt(d))});
        String qh;
        String kt;
        String vh;
        long[] qs = {b, heads, n, d};
        long[] ks = {b, heads, d, m};
        if (heads == 1) {
            qs = new long[] {b, n, d};
            ks = new long[] {b, d, m};
            qh = q.name;
            kt = g.node("Transpose", name + "/k_t", ks, List.of(k.name), attr("perm", 0L, 2L, 1L));
            vh = v.name;
        } else {
            String split = g.longs("shape." + dims(new long[] {b, n, heads, d}), b, n, heads, d);
            long[] sp = {b, n, heads, d};
            String kvSplit = g.longs("shape." + dims(new long[] {b, m, heads, d}), b, m, heads, d);
            long[] kvs = {b, m, heads, d};
            qh = g.node("Transpose", name + "/q_heads", qs, List.of(
                    g.node("Reshape", name + "/q_split", sp, List.of(q.name, split))), attr("perm", 0L, 2L, 1L, 3L));
            kt = g.node("Transpose", name + "/k_heads_t", ks, List.of(
                    g.node("Reshape", name + "/k_split", kvs, List.of(k.name, kvSplit))), attr("perm", 0L, 2L, 3L, 1L));
            vh = g.node("Transpose", name + "/v_heads", new long[] {b, heads, m, d}, List.of(
                    g.node("Reshape", name + "/v_split", kvs, List.of(v.name, kvSplit))), attr("perm", 0L, 2L, 1L, 3L));
        }
        long[] ss = heads == 1 ? new long[] {b, n, m} : new long[] {b, heads, n, m};
        String qsd = g.node("Mul", name + "/q_scaled", qs, List.of(qh, scale));
        String scores = g.node("MatMul", name + "/scores", ss, List.of(qsd, kt));
        String p = g.node("Softmax", name + "/softmax", ss, List.of(scores), attr("axis", -1L));
        String o = g.node("MatMul", name + "/attn", qs, List.of(p, vh));
        if (heads == 1) {
            return v(o, y);
        }
        long[] merged = {b, n, heads, d};
        String t = g.node("Transpose", name + "/merge_t", merged, List.of(o), attr("perm", 0L, 2L, 1L, 3L));
        return v(g.node("Reshape", name + "/merged", y, List.of(t, g.longs("shape." + dims(y), y))), y);
    }
}
