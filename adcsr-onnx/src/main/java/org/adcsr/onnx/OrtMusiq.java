package org.adcsr.onnx;

import static org.adcsr.onnx.Graph.attr;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;
import onnx.Onnx.ModelProto;
import org.adcsr.core.engine.EngineFaultException;
import org.adcsr.core.nets.Musiq;

/**
 * MUSIQ's network run by ONNX Runtime: the same function as {@link Musiq}'s DJL forward (stem, embedding,
 * transformer, head; its javadoc has the math), from the token sequence {@link Musiq#tokens(float[], int, int,
 * Musiq.Config)} makes, one image at a time. One graph serves every image size: the sequence length is a dimension left unknown until run time, so one
 * session is built (at load) and shared by every calling thread. The weights ({@link Musiq#weights}: StdConv weights
 * already standardised) are held inline in the graph, linear weights transposed to {@code [in, out]}.
 *
 * <p>Why: on this machine (AMD EPYC, AVX-512) libtorch's matrix products through MKL run at 40–65 GFLOP/s on one core
 * where ONNX Runtime's reach about 140 (README, adcsr-eval, speed), and MUSIQ's work is mostly matrix products.
 */
public final class OrtMusiq implements AutoCloseable {
    static final String PATCHES = "patches", POSITIONS = "positions", SCALES = "scales", KEEP = "keep", FILL = "fill";
    static final String SCORE = "score";
    private static final int ROOT = 64, BLOCK_OUT = 256, GROUPS = 32;
    private static final float ROOT_GN_EPS = 1e-6f, BLOCK_GN_EPS = 1e-4f, LN_EPS = 1e-6f;
    private static final String TE = "transformer_encoder.";

    private final Musiq.Config config;
    private final OrtEnvironment env;
    private final OrtSession session;

    private OrtMusiq(Musiq.Config config, OrtEnvironment env, OrtSession session) {
        this.config = config;
        this.env = env;
        this.session = session;
    }

    /**
     * The session for these weights ({@link Musiq#weights}), ONNX Runtime's intra-op threads per call.
     *
     * @throws IllegalStateException if ONNX Runtime refuses the graph
     */
    public static OrtMusiq create(Musiq.Config config, Map<String, float[]> weights, int threads) {
        ModelProto model;
        try {
            model = build(config, weights).withInitializers("adcsr-eval", OnnxExport.FLOAT, Map.of(), init -> null);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            return new OrtMusiq(config, env, env.createSession(model.toByteArray(), o));
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not build the MUSIQ session: " + e.getMessage(), e);
        }
    }

    public Musiq.Config config() {
        return config;
    }

    /**
     * The score of one image's tokens ({@link Musiq#tokens(float[], int, int, Musiq.Config)}).
     *
     * @throws EngineFaultException if ONNX Runtime returns NaN or infinity
     */
    public double score(Musiq.PatchTokens tokens) {
        int len = tokens.length(), p = config.patchSize();
        long t = len + 1;
        float[][] masks = Musiq.attentionMasks(tokens.masks());
        try (OnnxTensor patches = OnnxTensor.createTensor(env, FloatBuffer.wrap(tokens.patches()),
                        new long[] {len, 3, p, p});
                OnnxTensor positions = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(tokens.positions())),
                        new long[] {len});
                OnnxTensor scales = OnnxTensor.createTensor(env, LongBuffer.wrap(longs(tokens.scaleIds())),
                        new long[] {len});
                OnnxTensor keep = OnnxTensor.createTensor(env, FloatBuffer.wrap(masks[0]), new long[] {t, t});
                OnnxTensor fill = OnnxTensor.createTensor(env, FloatBuffer.wrap(masks[1]), new long[] {t, t});
                OrtSession.Result r = session.run(Map.of(PATCHES, patches, POSITIONS, positions, SCALES, scales,
                        KEEP, keep, FILL, fill))) {
            float s = ((OnnxTensor) r.get(SCORE).orElseThrow()).getFloatBuffer().get(0);
            if (!Float.isFinite(s)) {
                throw new EngineFaultException("MUSIQ gave NaN or infinity (float32, ONNX Runtime) from a finite"
                        + " image and weights: an engine fault, not a bad input");
            }
            return s;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on MUSIQ's " + len + " tokens: " + e.getMessage(), e);
        }
    }

    private static long[] longs(int[] v) {
        long[] l = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            l[i] = v[i];
        }
        return l;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            // closing frees native memory; nothing to recover
        }
    }

    // ---- the graph: Musiq's forward, op for op

    /** MUSIQ's graph for one image: inputs {@value #PATCHES} {@code [L, 3, P, P]}, … ; output {@value #SCORE} {@code [1]}. */
    static Graph build(Musiq.Config c, Map<String, float[]> w) {
        return new Builder(c, w).graph();
    }

    private static final class Builder {
        final Musiq.Config c;
        final Map<String, float[]> w;
        final Map<String, long[]> shapes;
        final Graph g = new Graph();
        static final long U = -1;   // the unknown sequence length (L or L + 1)

        Builder(Musiq.Config c, Map<String, float[]> w) {
            this.c = c;
            this.w = w;
            this.shapes = Musiq.shapes(c);
        }

        Graph graph() {
            int p = c.patchSize(), d = c.hiddenSize();
            g.input(PATCHES, new long[] {U, 3, p, p});
            g.input(POSITIONS, new long[] {U}, Graph.Type.INT64);
            g.input(SCALES, new long[] {U}, Graph.Type.INT64);
            g.input(KEEP, new long[] {U, U});
            g.input(FILL, new long[] {U, U});
            String stem = stem(PATCHES, p);
            int t = ceilDiv(ceilDiv(p, 2), 2);
            String flat = g.node("Transpose", "embedding/nhwc", new long[] {U, t, t, BLOCK_OUT}, List.of(stem),
                    attr("perm", 0L, 2L, 3L, 1L));                      // TensorFlow's (y, x, channel) order
            flat = reshape(flat, "embedding/flat", -1, (long) BLOCK_OUT * t * t);
            // tokens as [L, D], the batch of one implied: with [1, L, D] and L unknown, ONNX Runtime 1.29's MatMul+Add
            // fusion reshaped the embedding's input to [1, 16384] and the run failed
            String e = linear(flat, "embedding", new long[] {U, d});
            String pos = g.node("Gather", "posembed", new long[] {U, d},
                    List.of(param(TE + "posembed_input.position_emb"), POSITIONS), attr("axis", 0L));
            String sc = g.node("Gather", "scaleembed", new long[] {U, d},
                    List.of(param(TE + "scaleembed_input.scale_emb"), SCALES), attr("axis", 0L));
            e = g.node("Add", "embedding/pos", new long[] {U, d}, List.of(e, pos));
            e = g.node("Add", "embedding/scale", new long[] {U, d}, List.of(e, sc));
            String h = g.node("Concat", "tokens", new long[] {U, d}, List.of(reshape(param(TE + "cls"), "cls", 1, d),
                    e), attr("axis", 0L));
            for (int l = 0; l < c.numLayers(); l++) {
                String b = TE + "transformer.encoderblock_" + l + ".";
                String a = attention(layerNorm(h, b + "norm1"), b + "attention.");
                String h1 = g.node("Add", b + "residual1", new long[] {U, d}, List.of(h, a));
                String f = gelu(linear(layerNorm(h1, b + "norm2"), b + "mlp.fc1", new long[] {U, c.mlpDim()}));
                h = g.node("Add", b + "residual2", new long[] {U, d}, List.of(h1,
                        linear(f, b + "mlp.fc2", new long[] {U, d})));
            }
            String cls = g.node("Gather", "cls_out", new long[] {1, d},
                    List.of(layerNorm(h, TE + "encoder_norm"), g.longs("const.zero", 0L)), attr("axis", 0L));
            String q = linear(cls, "head", new long[] {1, c.numClass()});
            String score;
            if (c.numClass() == 1) {
                score = g.node("Reshape", SCORE, new long[] {1}, List.of(q, g.longs("const.shape_1", 1L)));
            } else {                                                    // Σ k·softmax_k, k = 1…n
                float[] ks = new float[c.numClass()];
                for (int i = 0; i < ks.length; i++) {
                    ks[i] = i + 1;
                }
                String sm = g.node("Softmax", "head/softmax", new long[] {1, c.numClass()}, List.of(q),
                        attr("axis", -1L));
                String k = g.floats("const.classes", new long[] {c.numClass()}, () -> ks);
                String m = g.node("Mul", "head/weighted", new long[] {1, c.numClass()}, List.of(sm, k));
                score = g.node("ReduceSum", SCORE, new long[] {1}, List.of(m, g.longs("const.axis_1", 1L)),
                        attr("keepdims", 0L));
            }
            g.outputs.add(score);
            return g;
        }

        String param(String name) {
            long[] s = shapes.get(name);
            float[] v = w.get(name);
            return g.floats(name, s, () -> v);
        }

        /** A linear layer's weight {@code [out, in]} as {@code [in, out]}, for MatMul. */
        String transposed(String name) {
            long[] s = shapes.get(name);
            int out = (int) s[0], in = (int) s[1];
            float[] v = w.get(name);
            return g.floats(name + "/t", new long[] {in, out}, () -> {
                float[] t = new float[v.length];
                for (int o = 0; o < out; o++) {
                    for (int i = 0; i < in; i++) {
                        t[i * out + o] = v[o * in + i];
                    }
                }
                return t;
            });
        }

        String linear(String x, String name, long[] y) {
            String m = g.node("MatMul", name + "/matmul", y, List.of(x, transposed(name + ".weight")));
            return g.node("Add", name, y, List.of(m, param(name + ".bias")));
        }

        String reshape(String x, String name, long... shape) {
            long[] known = shape.clone();
            for (int i = 0; i < known.length; i++) {
                known[i] = known[i] <= 0 ? U : known[i];            // −1 inferred, 0 copied: unknown here
            }
            return g.node("Reshape", name, known, List.of(x, g.longs("const.shape_" + name, shape)));
        }

        String layerNorm(String x, String name) {
            return g.node("LayerNormalization", name, g.shapes.get(x), List.of(x, param(name + ".weight"),
                    param(name + ".bias")), attr("axis", -1L), attr("epsilon", LN_EPS));
        }

        /** Exact GELU, {@code x·0.5·(1 + erf(x/√2))} (the pattern ONNX Runtime fuses into its Gelu). */
        String gelu(String x) {
            long[] y = g.shapes.get(x);
            String sqrt2 = g.floats("const.sqrt2", new long[] {}, () -> new float[] {(float) Math.sqrt(2.0)});
            String one = g.floats("const.one", new long[] {}, () -> new float[] {1f});
            String half = g.floats("const.half", new long[] {}, () -> new float[] {0.5f});
            String e = g.node("Erf", x + "/erf", y, List.of(g.node("Div", x + "/div", y, List.of(x, sqrt2))));
            String m = g.node("Mul", x + "/mul", y, List.of(x, g.node("Add", x + "/add", y, List.of(e, one))));
            return g.node("Mul", x + "/gelu", y, List.of(m, half));
        }

        /** softmax((q·kᵀ)·d^−½ · keep + fill)·v, then {@code out}. */
        String attention(String x, String p) {
            int heads = c.numHeads(), d = c.hiddenSize(), dh = d / heads;
            String q = g.node("Transpose", p + "q_heads", new long[] {heads, U, dh},
                    List.of(reshape(linear(x, p + "query", new long[] {U, d}), p + "q_split", -1, heads, dh)),
                    attr("perm", 1L, 0L, 2L));
            String k = g.node("Transpose", p + "k_heads", new long[] {heads, dh, U},
                    List.of(reshape(linear(x, p + "key", new long[] {U, d}), p + "k_split", -1, heads, dh)),
                    attr("perm", 1L, 2L, 0L));
            String v = g.node("Transpose", p + "v_heads", new long[] {heads, U, dh},
                    List.of(reshape(linear(x, p + "value", new long[] {U, d}), p + "v_split", -1, heads, dh)),
                    attr("perm", 1L, 0L, 2L));
            long[] ss = {heads, U, U};
            float scale = (float) Math.pow(dh, -0.5);
            String sc = g.floats("const.scale_" + dh, new long[] {}, () -> new float[] {scale});
            String s = g.node("MatMul", p + "scores", ss, List.of(q, k));
            s = g.node("Mul", p + "scaled", ss, List.of(s, sc));
            s = g.node("Mul", p + "kept", ss, List.of(s, KEEP));
            s = g.node("Add", p + "masked", ss, List.of(s, FILL));
            s = g.node("Softmax", p + "softmax", ss, List.of(s), attr("axis", -1L));
            String o = g.node("MatMul", p + "context", new long[] {heads, U, dh}, List.of(s, v));
            o = g.node("Transpose", p + "context_t", new long[] {U, heads, dh}, List.of(o), attr("perm", 1L, 0L, 2L));
            return linear(reshape(o, p + "merge", -1, d), p + "out", new long[] {U, d});
        }

        /** conv_root, gn_root, ReLU, "same" max pool, block1: {@code [L, 3, P, P]} to {@code [L, 256, P/4, P/4]}. */
        String stem(String x, int p) {
            int s1 = ceilDiv(p, 2), s2 = ceilDiv(s1, 2);
            String r = g.node("Relu", "root/relu", new long[] {U, ROOT, s1, s1},
                    List.of(groupNorm(conv(x, "conv_root.weight", p, 7, 2), "gn_root", ROOT_GN_EPS)));
            int ph = Musiq.samePadding(s1, 3, 2);
            String padded = g.node("Pad", "root/pad", new long[] {U, ROOT, s1 + ph, s1 + ph},
                    List.of(r, g.longs("const.pool_pads", 0, 0, ph / 2, ph / 2, 0, 0, ph - ph / 2, ph - ph / 2)));
            String y = g.node("MaxPool", "root/pool", new long[] {U, ROOT, s2, s2}, List.of(padded),
                    attr("kernel_shape", 3L, 3L), attr("strides", 2L, 2L));
            String b = "block1.";
            String identity = groupNorm(conv(y, b + "conv_proj.weight", s2, 1, 1), b + "gn_proj", BLOCK_GN_EPS);
            String o1 = g.node("Relu", b + "relu1", new long[] {U, ROOT, s2, s2},
                    List.of(groupNorm(conv(y, b + "conv1.weight", s2, 1, 1), b + "gn1", BLOCK_GN_EPS)));
            String o2 = g.node("Relu", b + "relu2", new long[] {U, ROOT, s2, s2},
                    List.of(groupNorm(conv(o1, b + "conv2.weight", s2, 3, 1), b + "gn2", BLOCK_GN_EPS)));
            String o3 = groupNorm(conv(o2, b + "conv3.weight", s2, 1, 1), b + "gn3", BLOCK_GN_EPS);
            long[] out = {U, BLOCK_OUT, s2, s2};
            return g.node("Relu", b + "relu3", out, List.of(g.node("Add", b + "sum", out, List.of(o3, identity))));
        }

        /** StdConv with TensorFlow "SAME" zero padding ({@code pad//2} before, the rest after), no bias. */
        String conv(String x, String weight, int side, int k, int stride) {
            long[] ws = shapes.get(weight);
            int pad = Musiq.samePadding(side, k, stride), before = pad / 2, after = pad - before;
            int out = ceilDiv(side, stride);
            return g.node("Conv", weight.replace(".weight", ""), new long[] {U, ws[0], out, out},
                    List.of(x, param(weight)), attr("kernel_shape", (long) k, k), attr("strides", (long) stride,
                            stride), attr("pads", (long) before, before, after, after));
        }

        /**
         * GroupNorm(32): each group normalised over its channels and pixels (as InstanceNormalization of the
         * {@code [L, 32, C/32·H·W]} view, which ONNX Runtime runs several times faster than LayerNormalization of
         * it), then the per-channel affine.
         */
        String groupNorm(String x, String name, float eps) {
            long[] s = g.shapes.get(x);
            long ch = s[1], per = ch / GROUPS * s[2] * s[3];
            String grouped = reshape(x, name + "/groups", 0, GROUPS, per);
            float[] ones = new float[GROUPS];
            java.util.Arrays.fill(ones, 1f);
            String one = g.floats("const.ones_" + GROUPS, new long[] {GROUPS}, () -> ones);
            String zero = g.floats("const.zeros_" + GROUPS, new long[] {GROUPS}, () -> new float[GROUPS]);
            String n = g.node("InstanceNormalization", name + "/norm", new long[] {U, GROUPS, per},
                    List.of(grouped, one, zero), attr("epsilon", eps));
            n = reshape(n, name + "/ungroup", -1, ch, s[2], s[3]);
            String gamma = g.floats(name + ".weight", new long[] {ch, 1, 1}, () -> w.get(name + ".weight"));
            String beta = g.floats(name + ".bias", new long[] {ch, 1, 1}, () -> w.get(name + ".bias"));
            return g.node("Add", name, s, List.of(g.node("Mul", name + "/scaled", s, List.of(n, gamma)), beta));
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
