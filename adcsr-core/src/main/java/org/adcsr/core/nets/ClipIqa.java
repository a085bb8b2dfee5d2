package org.adcsr.core.nets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.pooling.Pool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.engine.Scopes;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/**
 * CLIP-IQA (Wang, Chan, Loy, AAAI 2023) as pyiqa 0.1.13's default {@code clipiqa} computes it (METRICS.md §3,
 * {@code pyiqa/archs/clipiqa_arch.py} and {@code clip_model.py} at v0.1.13), in DJL, float32.
 *
 * <p>Image tower: OpenAI CLIP's ModifiedResNet (RN50: blocks 3, 4, 6, 3, width 64): a stem of three 3×3 convs (the
 * first with stride 2) each with BatchNorm and ReLU, a 2×2 average pool; bottlenecks whose stride-2 blocks average-pool
 * after the 3×3 conv and before the 1×1 downsample conv ("anti-aliased"); then attention pooling: the tokens are the
 * spatial mean followed by every position, and the output is multi-head attention (q/k/v/c projections, 32 heads for
 * RN50) of the mean token over all tokens. pyiqa runs it with {@code pos_embedding=False}: <b>no positional embedding
 * is added</b> (the learned 7×7+1 one is not used, not even resized), so any image of at least 31×31 is scored at
 * its own size, without resizing or cropping.
 *
 * <p>Text tower: CLIP's causal transformer (RN50: width 512, 8 heads, 12 layers, QuickGELU, pre-LayerNorm) on the
 * token ids of pyiqa's ten prompts ({@link #PROMPTS}, {@link #TOKENS}), the feature at each prompt's end token
 * projected by {@code text_projection}. The prompts do not depend on the image, so their normalised features are
 * computed once, when the weights are loaded.
 *
 * <p>Score: the image in [0, 1] is normalised with CLIP's mean/std; logits {@code exp(logit_scale) · cos(image,
 * prompt)}; a softmax within each of the five (positive, negative) prompt pairs; the mean over pairs of the positive
 * probability.
 *
 * <p>Weights by the names of CLIP's {@code state_dict()} ({@code visual.layer1.0.conv1.weight},
 * {@code transformer.resblocks.0.attn.in_proj_weight}, …), as {@link org.adcsr.core.io.torch.TorchCheckpoint#openTorchScript}
 * reads them from OpenAI's {@code RN50.pt}; every shape is checked against the {@link Config}.
 */
public final class ClipIqa implements AutoCloseable {

    /**
     * A CLIP ResNet configuration, as pyiqa's {@code build_model} derives it from a state dict: vision blocks per
     * stage, vision width, joint embedding size, training resolution (only the unused positional embedding's size),
     * text context length, vocabulary, text width and layers. Heads: {@code width·32/64} (vision), {@code
     * textWidth/64} (text).
     */
    public record Config(int[] layers, int width, int embedDim, int imageResolution, int contextLength, int vocabSize,
                         int textWidth, int textLayers) {
        /** OpenAI's RN50, the backbone of pyiqa's default {@code clipiqa}. */
        public static final Config RN50 = new Config(new int[] {3, 4, 6, 3}, 64, 1024, 224, 77, 49408, 512, 12);

        public Config {
            layers = layers.clone();
        }

        @Override
        public int[] layers() {
            return layers.clone();
        }

        int visionHeads() {
            return width * 32 / 64;
        }

        int textHeads() {
            return textWidth / 64;
        }
    }

    /** pyiqa 0.1.13's prompts, in pairs (positive, negative); the order of {@code CLIPIQA.prompt_pairs}. */
    public static final List<String> PROMPTS = List.of("Good image", "bad image", "Sharp image", "blurry image",
            "sharp edges", "blurry edges", "High resolution image", "low resolution image", "Noise-free image",
            "noisy image");

    /**
     * {@code clip.tokenize(PROMPTS)} (openai/CLIP's simple_tokenizer with bpe_simple_vocab_16e6, which pyiqa's
     * {@code openai-clip} dependency packages), each row up to its end token; the rest of the 77 positions are 0.
     * Written by {@code tools/eval/make_clipiqa_fixture.py} to {@code fixtures/clipiqa/tokens.txt}, which
     * {@code ClipIqaTest} compares with these.
     */
    static final int[][] TOKENS = {
        {49406, 886, 2867, 49407}, {49406, 2103, 2867, 49407},
        {49406, 8157, 2867, 49407}, {49406, 21977, 2867, 49407},
        {49406, 8157, 20938, 49407}, {49406, 21977, 20938, 49407},
        {49406, 1400, 9977, 2867, 49407}, {49406, 1042, 9977, 2867, 49407},
        {49406, 9307, 268, 1139, 2867, 49407}, {49406, 33495, 2867, 49407},
    };

    /** OpenAI CLIP's normalisation (pyiqa {@code OPENAI_CLIP_MEAN/STD}). */
    private static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    private static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};
    private static final float BN_EPS = 1e-5f, LN_EPS = 1e-5f;

    private final Config config;
    private final NDManager manager;
    private final Map<String, NDArray> w;
    /** Normalised prompt features, transposed: {@code [embedDim, 10]}. */
    private final NDArray textT;
    private final float logitScale;

    private ClipIqa(Config config, NDManager manager, Map<String, NDArray> w, NDArray textT, float logitScale) {
        this.config = config;
        this.manager = manager;
        this.w = w;
        this.textT = textT;
        this.logitScale = logitScale;
    }

    /**
     * Every tensor of pyiqa's {@code clip_model.CLIP} in this configuration, with its shape, in its
     * {@code state_dict()} order (BatchNorm's {@code num_batches_tracked} included; scalars have shape {@code []}).
     */
    public static Map<String, long[]> layout(Config c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        int tw = c.textWidth();
        s.put("positional_embedding", new long[] {c.contextLength(), tw});
        s.put("text_projection", new long[] {tw, c.embedDim()});
        s.put("logit_scale", new long[0]);
        int half = c.width() / 2;
        conv(s, "visual.conv1", half, 3, 3);
        bn(s, "visual.bn1", half);
        conv(s, "visual.conv2", half, half, 3);
        bn(s, "visual.bn2", half);
        conv(s, "visual.conv3", c.width(), half, 3);
        bn(s, "visual.bn3", c.width());
        int inplanes = c.width();
        int[] layers = c.layers();
        for (int i = 0; i < 4; i++) {
            int planes = c.width() << i;
            for (int b = 0; b < layers[i]; b++) {
                String p = "visual.layer" + (i + 1) + "." + b;
                conv(s, p + ".conv1", planes, inplanes, 1);
                bn(s, p + ".bn1", planes);
                conv(s, p + ".conv2", planes, planes, 3);
                bn(s, p + ".bn2", planes);
                conv(s, p + ".conv3", planes * 4, planes, 1);
                bn(s, p + ".bn3", planes * 4);
                if (hasDownsample(i, b, inplanes, planes)) {
                    conv(s, p + ".downsample.0", planes * 4, inplanes, 1);
                    bn(s, p + ".downsample.1", planes * 4);
                }
                inplanes = planes * 4;
            }
        }
        int e = c.width() * 32;
        int grid = c.imageResolution() / 32;
        s.put("visual.attnpool.positional_embedding", new long[] {(long) grid * grid + 1, e});
        for (String proj : new String[] {"k_proj", "q_proj", "v_proj"}) {
            s.put("visual.attnpool." + proj + ".weight", new long[] {e, e});
            s.put("visual.attnpool." + proj + ".bias", new long[] {e});
        }
        s.put("visual.attnpool.c_proj.weight", new long[] {c.embedDim(), e});
        s.put("visual.attnpool.c_proj.bias", new long[] {c.embedDim()});
        for (int l = 0; l < c.textLayers(); l++) {
            String p = "transformer.resblocks." + l;
            s.put(p + ".attn.in_proj_weight", new long[] {3L * tw, tw});
            s.put(p + ".attn.in_proj_bias", new long[] {3L * tw});
            s.put(p + ".attn.out_proj.weight", new long[] {tw, tw});
            s.put(p + ".attn.out_proj.bias", new long[] {tw});
            s.put(p + ".ln_1.weight", new long[] {tw});
            s.put(p + ".ln_1.bias", new long[] {tw});
            s.put(p + ".mlp.c_fc.weight", new long[] {4L * tw, tw});
            s.put(p + ".mlp.c_fc.bias", new long[] {4L * tw});
            s.put(p + ".mlp.c_proj.weight", new long[] {tw, 4L * tw});
            s.put(p + ".mlp.c_proj.bias", new long[] {tw});
            s.put(p + ".ln_2.weight", new long[] {tw});
            s.put(p + ".ln_2.bias", new long[] {tw});
        }
        s.put("token_embedding.weight", new long[] {c.vocabSize(), tw});
        s.put("ln_final.weight", new long[] {tw});
        s.put("ln_final.bias", new long[] {tw});
        return s;
    }

    /** CLIP's Bottleneck: a downsample branch where the stride is 2 (every stage but the first) or channels change. */
    private static boolean hasDownsample(int stage, int block, int inplanes, int planes) {
        return block == 0 && (stage > 0 || inplanes != planes * 4);
    }

    private static void conv(Map<String, long[]> s, String name, int out, int in, int k) {
        s.put(name + ".weight", new long[] {out, in, k, k});
    }

    private static void bn(Map<String, long[]> s, String name, int c) {
        for (String t : new String[] {"weight", "bias", "running_mean", "running_var"}) {
            s.put(name + "." + t, new long[] {c});
        }
        s.put(name + ".num_batches_tracked", new long[0]);
    }

    /**
     * Loads and checks every tensor of {@link #layout} but {@code num_batches_tracked} (read as float32 whatever the
     * stored type; RN50.pt holds float16), reporting all missing and mis-shaped tensors in one message, then computes
     * the prompt features and frees the text tower.
     */
    public static ClipIqa load(NDManager parent, TensorSource src, Config c) {
        Map<String, long[]> layout = layout(c);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            if (e.getKey().endsWith(".num_batches_tracked")) {
                continue;
            }
            TensorInfo info = src.info(e.getKey());
            if (info == null) {
                problems.add("missing " + e.getKey());
            } else if (!Arrays.equals(info.shape(), e.getValue())) {
                problems.add(e.getKey() + " is " + info.shapeString() + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        if (!problems.isEmpty()) {
            int n = problems.size();
            throw new BadInputException(src.path() + ": CLIP weights: "
                    + String.join("; ", problems.subList(0, Math.min(5, n))) + (n > 5 ? " (and " + (n - 5) + " more)" : ""));
        }
        NDManager m = parent.newSubManager();
        try {
            Map<String, NDArray> w = new HashMap<>();
            for (Map.Entry<String, long[]> e : layout.entrySet()) {
                String name = e.getKey();
                if (name.startsWith("visual.") && !name.endsWith(".num_batches_tracked")
                        && !name.equals("visual.attnpool.positional_embedding")) {
                    NDArray a = m.create(src.readFloats(name), new Shape(e.getValue()));
                    if (name.startsWith("visual.attnpool.") && name.endsWith(".weight")) {
                        // used as x · Wᵀ: kept transposed (a copy libtorch owns), so the input is the first operand
                        NDArray t = a.transpose().duplicate();
                        a.close();
                        a = t;
                    }
                    w.put(name, a);
                }
            }
            float logitScale = src.readFloats("logit_scale")[0];
            NDArray textT;
            try (NDManager t = m.newSubManager()) {
                textT = textFeatures(t, src, c).transpose();
                textT.attach(m);
            }
            return new ClipIqa(c, m, w, textT, logitScale);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** The normalised features {@code [10, embedDim]} of {@link #TOKENS}: pyiqa's {@code encode_text}. */
    private static NDArray textFeatures(NDManager t, TensorSource src, Config c) {
        int ctx = c.contextLength(), tw = c.textWidth(), n = TOKENS.length;
        float[] table = src.readFloats("token_embedding.weight");
        float[] pos = src.readFloats("positional_embedding");
        float[] x = new float[n * ctx * tw];
        int[] end = new int[n];
        for (int p = 0; p < n; p++) {
            int[] ids = Arrays.copyOf(TOKENS[p], ctx);                  // zero padded to the context length
            for (int j = 0; j < ctx; j++) {
                if (ids[j] > ids[end[p]]) {
                    end[p] = j;                                         // argmax: the end token, the largest id
                }
                for (int d = 0; d < tw; d++) {
                    x[(p * ctx + j) * tw + d] = table[ids[j] * tw + d] + pos[j * tw + d];
                }
            }
        }
        NDArray h = t.create(x, new Shape(n, ctx, tw));
        float[] mask = new float[ctx * ctx];                            // causal: -inf above the diagonal
        for (int i = 0; i < ctx; i++) {
            for (int j = i + 1; j < ctx; j++) {
                mask[i * ctx + j] = Float.NEGATIVE_INFINITY;
            }
        }
        NDArray causal = t.create(mask, new Shape(ctx, ctx));
        for (int l = 0; l < c.textLayers(); l++) {
            String p = "transformer.resblocks." + l;
            NDArray a = layerNorm(h, read(t, src, p + ".ln_1.weight"), read(t, src, p + ".ln_1.bias"));
            NDArray qkv = linear(a, read(t, src, p + ".attn.in_proj_weight"), read(t, src, p + ".attn.in_proj_bias"));
            NDArray q = qkv.get(":, :, 0:" + tw), k = qkv.get(":, :, " + tw + ":" + 2 * tw), v = qkv.get(":, :, " + 2 * tw + ":");
            NDArray att = attention(q, k, v, c.textHeads(), causal);
            h = h.add(linear(att, read(t, src, p + ".attn.out_proj.weight"), read(t, src, p + ".attn.out_proj.bias")));
            NDArray f = linear(layerNorm(h, read(t, src, p + ".ln_2.weight"), read(t, src, p + ".ln_2.bias")),
                    read(t, src, p + ".mlp.c_fc.weight"), read(t, src, p + ".mlp.c_fc.bias"));
            f = f.mul(Activation.sigmoid(Scalars.mul(f, 1.702)));       // QuickGELU
            h = h.add(linear(f, read(t, src, p + ".mlp.c_proj.weight"), read(t, src, p + ".mlp.c_proj.bias")));
        }
        h = layerNorm(h, read(t, src, "ln_final.weight"), read(t, src, "ln_final.bias"));
        NDList rows = new NDList();
        for (int p = 0; p < n; p++) {
            rows.add(h.get(p + ", " + end[p] + ", :").reshape(1, tw));
        }
        NDArray feats = NDArrays.concat(rows, 0).matMul(read(t, src, "text_projection"));   // [10, embedDim]
        return feats.div(feats.norm(new int[] {1}, true));
    }

    private static NDArray read(NDManager t, TensorSource src, String name) {
        return t.create(src.readFloats(name), new Shape(src.info(name).shape()));
    }

    /** {@code x · Wᵀ + b} for torch's [out, in] weight. */
    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return x.matMul(weight.transpose()).add(bias);
    }

    private static NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta) {
        Shape s = x.getShape();
        return LayerNorm.layerNorm(x, new Shape(s.get(s.dimension() - 1)), gamma, beta, LN_EPS).singletonOrThrow();
    }

    /**
     * Multi-head attention of {@code q [B, Lq, C]} over {@code k, v [B, L, C]} (already projected), as torch's
     * {@code multi_head_attention_forward}: per head, softmax(q·kᵀ/√d + mask)·v; heads merged to {@code [B, Lq, C]}.
     */
    private static NDArray attention(NDArray q, NDArray k, NDArray v, int heads, NDArray mask) {
        Shape s = q.getShape();
        long b = s.get(0), lq = s.get(1), ch = s.get(2), l = k.getShape().get(1), d = ch / heads;
        NDArray qh = Scalars.mul(q.reshape(b, lq, heads, d).transpose(0, 2, 1, 3), 1.0 / Math.sqrt(d));
        NDArray kh = k.reshape(b, l, heads, d).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(b, l, heads, d).transpose(0, 2, 1, 3);
        NDArray scores = qh.matMul(kh);
        if (mask != null) {
            scores = scores.add(mask);
        }
        return scores.softmax(-1).matMul(vh).transpose(0, 2, 1, 3).reshape(b, lq, ch);
    }

    /** The side of the last feature map for an input side {@code n}: stride-2 conv, then four 2×2 average pools. */
    static int featureSide(int n) {
        int s = (n + 1) / 2;
        for (int i = 0; i < 4; i++) {
            s /= 2;
        }
        return s;
    }

    /** Whether an image of this size can be scored (the last feature map is at least 1×1): sides of 31 and more. */
    public static boolean fits(int width, int height) {
        return featureSide(width) >= 1 && featureSide(height) >= 1;
    }

    /** CLIPIQA scores {@code [N]} of NCHW RGB images in [0, 1] (float32); differentiable in {@code x}. */
    public NDArray forward(NDArray x) {
        // every array made on the way is closed when the scores are out, those that ops put beside the weights too
        return Scopes.scoped(() -> scores(x));
    }

    private NDArray scores(NDArray x) {
        NDArray img = imageFeatures(x);                                 // [N, embedDim]
        img = img.div(img.norm(new int[] {1}, true));
        NDArray logits = Scalars.mul(img, Math.exp(logitScale)).matMul(textT);   // [N, 10]
        long n = logits.getShape().get(0);
        NDArray probs = logits.reshape(n, TOKENS.length / 2, 2).softmax(-1);
        return probs.get(":, :, 0").mean(new int[] {1});
    }

    /** The image tower's output {@code [N, embedDim]} (before normalisation), with pyiqa's {@code pos_embedding=False}. */
    public NDArray imageFeatures(NDArray x) {
        NDManager m = x.getManager();
        NDArray mean = m.create(MEAN, new Shape(1, 3, 1, 1)), std = m.create(STD, new Shape(1, 3, 1, 1));
        // each unit in a scope of its own: only one unit's intermediates are alive at a time
        NDArray x0 = x.sub(mean).div(std);
        NDArray h1 = Scopes.scoped(() -> convBn(x0, "visual.conv1", "visual.bn1", 2, 1, true));
        NDArray h2 = Scopes.scoped(() -> convBn(h1, "visual.conv2", "visual.bn2", 1, 1, true));
        NDArray h = Scopes.scoped(() -> avgPool(convBn(h2, "visual.conv3", "visual.bn3", 1, 1, true), 2));
        int[] layers = config.layers();
        int inplanes = config.width();
        for (int i = 0; i < 4; i++) {
            int planes = config.width() << i;
            for (int b = 0; b < layers[i]; b++) {
                NDArray in = h;
                String p = "visual.layer" + (i + 1) + "." + b;
                int stride = b == 0 && i > 0 ? 2 : 1;
                boolean downsample = hasDownsample(i, b, inplanes, planes);
                h = Scopes.scoped(() -> bottleneck(in, p, stride, downsample));
                inplanes = planes * 4;
            }
        }
        return attentionPool(h);
    }

    private NDArray convBn(NDArray x, String conv, String bn, int stride, int pad, boolean relu) {
        NDArray y = Convolution.conv2d(x, w.get(conv + ".weight"), null, stride, pad, pad, 1);
        y = BatchNorm.batchNorm(y, w.get(bn + ".running_mean"), w.get(bn + ".running_var"), w.get(bn + ".weight"),
                w.get(bn + ".bias"), 1, 0.1f, BN_EPS, false).singletonOrThrow();
        return relu ? Activation.relu(y) : y;
    }

    private static NDArray avgPool(NDArray x, int k) {
        return Pool.avgPool2d(x, new Shape(k, k), new Shape(k, k), new Shape(0, 0), false, true);
    }

    /** CLIP's Bottleneck: 1×1, 3×3, [avg-pool], 1×1 (×4 channels); identity or avg-pool + 1×1 + BN; add; ReLU. */
    private NDArray bottleneck(NDArray x, String p, int stride, boolean downsample) {
        NDArray out = convBn(x, p + ".conv1", p + ".bn1", 1, 0, true);
        out = convBn(out, p + ".conv2", p + ".bn2", 1, 1, true);
        if (stride > 1) {
            out = avgPool(out, stride);
        }
        out = convBn(out, p + ".conv3", p + ".bn3", 1, 0, false);
        NDArray identity = x;
        if (downsample) {
            identity = convBn(stride > 1 ? avgPool(x, stride) : x, p + ".downsample.0", p + ".downsample.1", 1, 0, false);
        }
        return Activation.relu(out.add(identity));
    }

    /**
     * AttentionPool2d with {@code pos_embedding=False}: tokens {@code [mean, x_1 … x_HW]} without any positional
     * embedding; the output is the attention of the mean token (query) over all tokens (keys, values), projected by
     * {@code c_proj}. Only the first token's output is used by CLIP, so only its query is computed.
     */
    private NDArray attentionPool(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0), c = s.get(1);
        NDArray seq = x.reshape(n, c, -1).transpose(0, 2, 1);          // [N, HW, C]
        NDArray tokens = NDArrays.concat(new NDList(seq.mean(new int[] {1}, true), seq), 1);   // [N, HW+1, C]
        String a = "visual.attnpool.";
        NDArray q = tokens.get(":, 0:1, :").matMul(w.get(a + "q_proj.weight")).add(w.get(a + "q_proj.bias"));
        NDArray k = tokens.matMul(w.get(a + "k_proj.weight")).add(w.get(a + "k_proj.bias"));
        NDArray v = tokens.matMul(w.get(a + "v_proj.weight")).add(w.get(a + "v_proj.bias"));
        NDArray o = attention(q, k, v, config.visionHeads(), null);    // [N, 1, C]
        return o.reshape(n, c).matMul(w.get(a + "c_proj.weight")).add(w.get(a + "c_proj.bias"));
    }

    /** Frees the weights. */
    @Override
    public void close() {
        manager.close();
    }
}
