package org.adcsr.core.nets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.LayerNorm;
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
 * MANIQA (Yang et al., CVPRW 2022) as pyiqa 0.1.13's {@code maniqa-pipal} computes it (METRICS.md §3,
 * {@code pyiqa/archs/maniqa_arch.py} and {@code maniqa_swin.py} at v0.1.13), in DJL, float32.
 *
 * <p>Input: RGB in [0, 1], normalised with mean 0.5 / std 0.5 (pyiqa's {@code IMAGENET_INCEPTION_MEAN/STD}). Then
 * pyiqa's eval-mode {@code uniform_crop(x, 224, 20)}: an image whose shorter side is at most 224 is first enlarged by
 * bilinear interpolation ({@code F.interpolate}, {@code align_corners=False}) with the scale factor 225 / shorter side
 * ({@link #upscaledSize}, {@link #upscale}); then 20 crops of 224×224 at deterministic positions: the first 20 of a
 * 5×5 grid, row by row, with steps {@code (H − 224) div 4} and {@code (W − 224) div 4} ({@link #cropOrigins}). No
 * randomness is involved in evaluation ({@code random_crop} is pyiqa's training path only).
 *
 * <p>Per crop: timm's {@code vit_base_patch8_224} (patch 8, class token, learned position embedding, 12 pre-norm
 * blocks, LayerNorm ε 10⁻⁶, exact GELU); the outputs of blocks 6, 7, 8 and 9 (forward hooks on every block, indices
 * into the list), class token dropped, concatenated along channels ({@code 4·768}, 784 tokens); two transposed
 * attention blocks (TABlock: attention across channels, keys of length 784, {@code 784^−½}, the output
 * {@code transpose(1,2).reshape(B, C, N)}, which reorders elements, plus the input); a 1×1 conv to 768; a "scale Swin"
 * ({@code x + 0.13·layer(x)} per layer; each layer two Swin blocks of 4 heads on the 28×28 grid, window 4, the second
 * shifted by 2 with the stored attention mask, relative position bias from the stored table and index; then a 3×3
 * conv and ReLU); two more TABlocks; a 1×1 conv to 384; a second scale Swin at 384; then per token a score
 * {@code ReLU(fc(ReLU(fc(x))))} and a weight {@code sigmoid(fc(ReLU(fc(x))))}.
 *
 * <p>Output: {@code Σ w·s / (Σ w + 10⁻⁸)} over all 20 × 784 tokens of all crops together (pyiqa reshapes the crop
 * batch to {@code [1, 20·784]} before the weighted sum), not the mean of per-crop scores.
 *
 * <p>Weights by the names of pyiqa's {@code MANIQA.state_dict()} ({@code vit.blocks.0.attn.qkv.weight},
 * {@code tablock1.0.c_q.weight}, {@code swintransformer1.layers.0.blocks.1.attn_mask}, …), every shape checked
 * against the {@link Config}. The ViT's blocks 10 and 11, final norm and head, and the Swins' {@code downsample}
 * convs are in the file (pyiqa loads them strictly) but do not influence the score; they are checked, not loaded.
 * The buffers {@code relative_position_index} and {@code attn_mask} are used as stored, as pyiqa's
 * {@code load_state_dict} does.
 */
public final class Maniqa implements AutoCloseable {

    /**
     * The widths of a MANIQA: ViT width (= MANIQA's {@code embed_dim}), heads, depth and classes of its head; the
     * Swins' MLP width; the residual scale of the Swins.
     */
    public record Config(int vitWidth, int vitHeads, int vitDepth, int vitClasses, int dimMlp, double scale) {
        /** pyiqa's {@code maniqa-pipal}: ViT-B/8 (768, 12 heads, 12 blocks, 1000 classes), dim_mlp 768, scale 0.13. */
        public static final Config PIPAL = new Config(768, 12, 12, 1000, 768, 0.13);

        public Config {
            if (vitDepth <= HOOKED[HOOKED.length - 1] || vitWidth % vitHeads != 0 || vitWidth % 2 != 0
                    || (vitWidth / 2) % SWIN_HEADS != 0) {
                throw new IllegalArgumentException("not a MANIQA configuration: " + vitWidth + "/" + vitHeads + "/"
                        + vitDepth);
            }
        }
    }

    /** Crop side, patch side, token grid side, tokens per crop, crops (pyiqa's {@code test_sample}). */
    public static final int CROP = 224, PATCH = 8, GRID = CROP / PATCH, TOKENS = GRID * GRID, CROPS = 20;
    /** The ViT blocks whose outputs are concatenated (pyiqa's {@code extract_feature}). */
    static final int[] HOOKED = {6, 7, 8, 9};
    static final int WINDOW = 4, SHIFT = WINDOW / 2, SWIN_HEADS = 4, SWIN_LAYERS = 2, SWIN_DEPTH = 2, NUM_TAB = 2;
    private static final int WINDOWS = (GRID / WINDOW) * (GRID / WINDOW), WIN_TOKENS = WINDOW * WINDOW;
    private static final int TABLE = (2 * WINDOW - 1) * (2 * WINDOW - 1);
    private static final float VIT_LN_EPS = 1e-6f, SWIN_LN_EPS = 1e-5f;

    private final Config config;
    private final NDManager manager;
    private final Map<String, NDArray> w;

    private Maniqa(Config config, NDManager manager, Map<String, NDArray> w) {
        this.config = config;
        this.manager = manager;
        this.w = w;
    }

    /** Every tensor of pyiqa's {@code MANIQA} in this configuration, with its shape, in {@code state_dict()} order. */
    public static Map<String, long[]> layout(Config c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        int d = c.vitWidth();
        s.put("vit.cls_token", new long[] {1, 1, d});
        s.put("vit.pos_embed", new long[] {1, TOKENS + 1, d});
        s.put("vit.patch_embed.proj.weight", new long[] {d, 3, PATCH, PATCH});
        s.put("vit.patch_embed.proj.bias", new long[] {d});
        for (int b = 0; b < c.vitDepth(); b++) {
            String p = "vit.blocks." + b;
            vector(s, p + ".norm1", d);
            linear(s, p + ".attn.qkv", 3 * d, d);
            linear(s, p + ".attn.proj", d, d);
            vector(s, p + ".norm2", d);
            linear(s, p + ".mlp.fc1", 4 * d, d);
            linear(s, p + ".mlp.fc2", d, 4 * d);
        }
        vector(s, "vit.norm", d);
        linear(s, "vit.head", c.vitClasses(), d);
        tablocks(s, "tablock1");
        s.put("conv1.weight", new long[] {d, 4L * d, 1, 1});
        s.put("conv1.bias", new long[] {d});
        swin(s, "swintransformer1", d, c.dimMlp());
        tablocks(s, "tablock2");
        s.put("conv2.weight", new long[] {d / 2, d, 1, 1});
        s.put("conv2.bias", new long[] {d / 2});
        swin(s, "swintransformer2", d / 2, c.dimMlp());
        for (String head : new String[] {"fc_score", "fc_weight"}) {
            linear(s, head + ".0", d / 2, d / 2);
            linear(s, head + ".3", 1, d / 2);
        }
        return s;
    }

    private static void vector(Map<String, long[]> s, String name, int n) {
        s.put(name + ".weight", new long[] {n});
        s.put(name + ".bias", new long[] {n});
    }

    private static void linear(Map<String, long[]> s, String name, int out, int in) {
        s.put(name + ".weight", new long[] {out, in});
        s.put(name + ".bias", new long[] {out});
    }

    private static void tablocks(Map<String, long[]> s, String prefix) {
        for (int t = 0; t < NUM_TAB; t++) {
            for (String proj : new String[] {"c_q", "c_k", "c_v"}) {
                linear(s, prefix + "." + t + "." + proj, TOKENS, TOKENS);
            }
        }
    }

    private static void swin(Map<String, long[]> s, String prefix, int dim, int mlp) {
        s.put(prefix + ".downsample.weight", new long[] {dim, dim, 3, 3});
        s.put(prefix + ".downsample.bias", new long[] {dim});
        for (int l = 0; l < SWIN_LAYERS; l++) {
            String lp = prefix + ".layers." + l;
            s.put(lp + ".conv.weight", new long[] {dim, dim, 3, 3});
            s.put(lp + ".conv.bias", new long[] {dim});
            for (int b = 0; b < SWIN_DEPTH; b++) {
                String p = lp + ".blocks." + b;
                if (shifted(b)) {
                    s.put(p + ".attn_mask", new long[] {WINDOWS, WIN_TOKENS, WIN_TOKENS});
                }
                vector(s, p + ".norm1", dim);
                s.put(p + ".attn.relative_position_bias_table", new long[] {TABLE, SWIN_HEADS});
                s.put(p + ".attn.relative_position_index", new long[] {WIN_TOKENS, WIN_TOKENS});
                linear(s, p + ".attn.qkv", 3 * dim, dim);
                linear(s, p + ".attn.proj", dim, dim);
                vector(s, p + ".norm2", dim);
                linear(s, p + ".mlp.fc1", mlp, dim);
                linear(s, p + ".mlp.fc2", dim, mlp);
            }
        }
    }

    /** maniqa_swin's BasicLayer: odd blocks are shifted by window/2 (the 28×28 grid is larger than the window). */
    private static boolean shifted(int block) {
        return block % 2 == 1;
    }

    /** Whether the tensor does not influence the score (checked, not loaded). */
    private static boolean unused(String name, Config c) {
        if (name.startsWith("vit.blocks.")) {
            int b = Integer.parseInt(name.substring("vit.blocks.".length(), name.indexOf('.', "vit.blocks.".length())));
            return b > HOOKED[HOOKED.length - 1];
        }
        return name.startsWith("vit.norm.") || name.startsWith("vit.head.") || name.contains(".downsample.");
    }

    /**
     * The {@code relative_position_index} buffer of maniqa_swin's WindowAttention for a 4×4 window: for tokens i, j
     * (row-major in the window), {@code (Δrow + 3)·7 + (Δcol + 3)}. Only {@link GeneratedWeights} uses it; the network
     * uses the stored buffer.
     */
    static float[] relativePositionIndex() {
        float[] idx = new float[WIN_TOKENS * WIN_TOKENS];
        for (int i = 0; i < WIN_TOKENS; i++) {
            for (int j = 0; j < WIN_TOKENS; j++) {
                int dr = i / WINDOW - j / WINDOW + WINDOW - 1, dc = i % WINDOW - j % WINDOW + WINDOW - 1;
                idx[i * WIN_TOKENS + j] = dr * (2 * WINDOW - 1) + dc;
            }
        }
        return idx;
    }

    /**
     * The {@code attn_mask} buffer of a shifted SwinBlock on the 28×28 grid: regions {@code [0, 24)}, {@code [24, 26)},
     * {@code [26, 28)} per axis numbered row-major; −100 between tokens of a window in different regions, else 0.
     * Only {@link GeneratedWeights} uses it; the network uses the stored buffer.
     */
    static float[] shiftMask() {
        int[] region = new int[GRID * GRID];
        for (int y = 0; y < GRID; y++) {
            for (int x = 0; x < GRID; x++) {
                region[y * GRID + x] = band(y) * 3 + band(x);
            }
        }
        int per = GRID / WINDOW;
        float[] m = new float[WINDOWS * WIN_TOKENS * WIN_TOKENS];
        for (int wi = 0; wi < WINDOWS; wi++) {
            int y0 = (wi / per) * WINDOW, x0 = (wi % per) * WINDOW;
            for (int i = 0; i < WIN_TOKENS; i++) {
                for (int j = 0; j < WIN_TOKENS; j++) {
                    int ri = region[(y0 + i / WINDOW) * GRID + x0 + i % WINDOW];
                    int rj = region[(y0 + j / WINDOW) * GRID + x0 + j % WINDOW];
                    m[(wi * WIN_TOKENS + i) * WIN_TOKENS + j] = ri == rj ? 0f : -100f;
                }
            }
        }
        return m;
    }

    private static int band(int v) {
        return v < GRID - WINDOW ? 0 : v < GRID - SHIFT ? 1 : 2;
    }

    /**
     * Loads and checks every tensor of {@link #layout}, reporting all missing and mis-shaped tensors (and relative
     * position indices out of the table) in one message.
     */
    public static Maniqa load(NDManager parent, TensorSource src, Config c) {
        Map<String, long[]> layout = layout(c);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            TensorInfo info = src.info(e.getKey());
            if (info == null) {
                problems.add("missing " + e.getKey());
            } else if (!Arrays.equals(info.shape(), e.getValue())) {
                problems.add(e.getKey() + " is " + info.shapeString() + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        if (problems.isEmpty()) {
            for (String name : layout.keySet()) {
                if (name.endsWith(".relative_position_index")) {
                    for (float v : src.readFloats(name)) {
                        if (!(v >= 0 && v < TABLE && v == Math.rint(v))) {
                            problems.add(name + " holds " + v + ", not an index into the " + TABLE + "-row table");
                            break;
                        }
                    }
                }
            }
        }
        if (!problems.isEmpty()) {
            int n = problems.size();
            throw new BadInputException(src.path() + ": MANIQA weights: "
                    + String.join("; ", problems.subList(0, Math.min(5, n))) + (n > 5 ? " (and " + (n - 5) + " more)" : ""));
        }
        NDManager m = parent.newSubManager();
        try {
            Map<String, NDArray> w = new HashMap<>();
            for (Map.Entry<String, long[]> e : layout.entrySet()) {
                String name = e.getKey();
                if (unused(name, c) || name.endsWith(".relative_position_index")) {
                    continue;
                }
                if (name.endsWith(".relative_position_bias_table")) {
                    String p = name.substring(0, name.length() - "relative_position_bias_table".length());
                    w.put(p + "bias", m.create(relativeBias(src.readFloats(name),
                            src.readFloats(p + "relative_position_index")), new Shape(1, SWIN_HEADS, WIN_TOKENS, WIN_TOKENS)));
                    continue;
                }
                NDArray a = m.create(src.readFloats(name), new Shape(e.getValue()));
                if (name.endsWith(".attn_mask")) {
                    a = a.reshape(1, WINDOWS, 1, WIN_TOKENS, WIN_TOKENS);
                } else if (e.getValue().length == 2) {
                    // linear weights are used as x · Wᵀ: kept transposed (a copy libtorch owns)
                    NDArray t = a.transpose().duplicate();
                    a.close();
                    a = t;
                }
                w.put(name, a);
            }
            return new Maniqa(c, m, w);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** {@code table[index.view(-1)].view(16, 16, heads).permute(2, 0, 1)}: {@code [heads, 16, 16]}. */
    private static float[] relativeBias(float[] table, float[] index) {
        float[] b = new float[SWIN_HEADS * WIN_TOKENS * WIN_TOKENS];
        for (int h = 0; h < SWIN_HEADS; h++) {
            for (int ij = 0; ij < WIN_TOKENS * WIN_TOKENS; ij++) {
                b[h * WIN_TOKENS * WIN_TOKENS + ij] = table[(int) index[ij] * SWIN_HEADS + h];
            }
        }
        return b;
    }

    /**
     * The size {@code [H, W]} uniform_crop scores an {@code h × w} image at: unchanged when the shorter side exceeds
     * 224, else both sides times {@code 225 / shorter side}, rounded down (torch's interpolate in double).
     */
    public static int[] upscaledSize(int h, int w) {
        if (Math.min(h, w) > CROP) {
            return new int[] {h, w};
        }
        double f = scaleFactor(h, w);
        return new int[] {(int) Math.floor(h * f), (int) Math.floor(w * f)};
    }

    private static double scaleFactor(int h, int w) {
        return (CROP + 1) / (double) Math.min(h, w);
    }

    /**
     * {@code F.interpolate(x, scale_factor=225/min(h, w), mode="bilinear")} of one {@code [C, h, w]} image (C order),
     * as torch computes it when given the scale factor: output sides {@link #upscaledSize}; source coordinate
     * {@code (d + 0.5) / factor − 0.5}, clamped at 0; the neighbour index clamped at the last row/column.
     */
    public static float[] upscale(float[] x, int channels, int h, int w) {
        int[] size = upscaledSize(h, w);
        int oh = size[0], ow = size[1];
        double inv = 1.0 / scaleFactor(h, w);
        int[] y0 = new int[oh], y1 = new int[oh], x0 = new int[ow], x1 = new int[ow];
        double[] ly = new double[oh], lx = new double[ow];
        source(inv, h, y0, y1, ly);
        source(inv, w, x0, x1, lx);
        float[] out = new float[channels * oh * ow];
        for (int c = 0; c < channels; c++) {
            int base = c * h * w;
            for (int i = 0; i < oh; i++) {
                int r0 = base + y0[i] * w, r1 = base + y1[i] * w;
                for (int j = 0; j < ow; j++) {
                    double top = (1 - lx[j]) * x[r0 + x0[j]] + lx[j] * x[r0 + x1[j]];
                    double bottom = (1 - lx[j]) * x[r1 + x0[j]] + lx[j] * x[r1 + x1[j]];
                    out[(c * oh + i) * ow + j] = (float) ((1 - ly[i]) * top + ly[i] * bottom);
                }
            }
        }
        return out;
    }

    private static void source(double inv, int in, int[] i0, int[] i1, double[] lambda) {
        for (int d = 0; d < i0.length; d++) {
            double s = Math.max(inv * (d + 0.5) - 0.5, 0);
            i0[d] = (int) s;
            i1[d] = i0[d] + (i0[d] < in - 1 ? 1 : 0);
            lambda[d] = s - i0[d];
        }
    }

    /**
     * uniform_crop's 20 crop origins {@code {top, left}} in an {@code H × W} image (sides at least 224): steps
     * {@code (H − 224) div 4} and {@code (W − 224) div 4} (⌊√20⌋ = 4), the positions {@code (i·stepH, j·stepW)} for
     * i, j in 0..4 (⌈√20⌉ = 5) row by row, the first 20 kept (so the last row, i = 4, is never used).
     */
    public static int[][] cropOrigins(int h, int w) {
        int root = (int) Math.sqrt(CROPS), side = (int) Math.ceil(Math.sqrt(CROPS));
        int stepH = (h - CROP) / root, stepW = (w - CROP) / root;
        int[][] o = new int[CROPS][];
        for (int k = 0; k < CROPS; k++) {
            o[k] = new int[] {(k / side) * stepH, (k % side) * stepW};
        }
        return o;
    }

    /**
     * The MANIQA score of one {@code [1, 3, H, W]} RGB image in [0, 1] (float32, any size: smaller ones are enlarged
     * as {@link #upscale} says): normalise, upscale, crop, run every crop, weighted mean over all tokens of all crops.
     */
    public double score(NDArray x) {
        // every array made on the way is closed when the score is out, those that ops put beside the weights too
        try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
            return scoreOf(x);
        }
    }

    private double scoreOf(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(0) != 1 || s.get(1) != 3) {
            throw new IllegalArgumentException("MANIQA scores one RGB image [1, 3, H, W], not " + s);
        }
        int h = (int) s.get(2), wd = (int) s.get(3);
        NDManager m = x.getManager();
        float[] v;
        try (NDArray mean = Scalars.scalar(x, 0.5); NDArray centred = x.sub(mean); NDArray n = Scalars.div(centred, 0.5)) {
            v = n.toFloatArray();                                              // (x − mean) / std, mean = std = 0.5
        }
        if (Math.min(h, wd) <= CROP) {
            v = upscale(v, 3, h, wd);
            int[] size = upscaledSize(h, wd);
            h = size[0];
            wd = size[1];
        }
        double num = 0, den = 0;
        try (NDManager sub = m.newSubManager()) {
            NDArray img = sub.create(v, new Shape(1, 3, h, wd));
            for (int[] o : cropOrigins(h, wd)) {
                try (NDManager c = sub.newSubManager()) {
                    NDArray crop = img.get(":, :, " + o[0] + ":" + (o[0] + CROP) + ", " + o[1] + ":" + (o[1] + CROP));
                    crop.attach(c);
                    NDArray[] sw = patchScores(crop);
                    num += sw[0].mul(sw[1]).sum().getFloat();
                    den += sw[1].sum().getFloat();
                }
            }
        }
        return num / (den + 1e-8);
    }

    /** Per-token score and weight {@code [B, 784]} of {@code [B, 3, 224, 224]} normalised crops. */
    NDArray[] patchScores(NDArray crops) {
        long b = crops.getShape().get(0);
        int d = config.vitWidth();
        NDArray x = vitFeatures(crops);                                        // [B, 784, 4d]
        x = x.transpose(0, 2, 1);                                              // b (h w) c -> b c (h w)
        for (int t = 0; t < NUM_TAB; t++) {
            x = tablock(x, "tablock1." + t);
        }
        x = conv(x.reshape(b, 4L * d, GRID, GRID), "conv1", 0);
        x = scaleSwin(x, "swintransformer1", d);
        x = x.reshape(b, d, TOKENS);
        for (int t = 0; t < NUM_TAB; t++) {
            x = tablock(x, "tablock2." + t);
        }
        x = conv(x.reshape(b, d, GRID, GRID), "conv2", 0);
        x = scaleSwin(x, "swintransformer2", d / 2);
        x = x.reshape(b, d / 2, TOKENS).transpose(0, 2, 1);                    // b c h w -> b (h w) c
        NDArray score = Activation.relu(linear(Activation.relu(linear(x, "fc_score.0")), "fc_score.3"));
        NDArray weight = Activation.sigmoid(linear(Activation.relu(linear(x, "fc_weight.0")), "fc_weight.3"));
        return new NDArray[] {score.reshape(b, TOKENS), weight.reshape(b, TOKENS)};
    }

    /** The ViT's blocks 6 to 9, class token dropped, concatenated along channels: {@code [B, 784, 4·width]}. */
    private NDArray vitFeatures(NDArray x) {
        long b = x.getShape().get(0);
        int d = config.vitWidth();
        NDArray h = conv(x, "vit.patch_embed.proj", 0).reshape(b, d, TOKENS).transpose(0, 2, 1);
        NDArray cls = w.get("vit.cls_token").broadcast(new Shape(b, 1, d));
        cls.attach(h.getManager());                                            // not the weights' manager
        h = NDArrays.concat(new NDList(cls, h), 1).add(w.get("vit.pos_embed"));
        NDList hooked = new NDList();
        for (int i = 0; i <= HOOKED[HOOKED.length - 1]; i++) {
            String p = "vit.blocks." + i;
            NDArray in = h;
            h = Scopes.scoped(() -> {                  // one block's intermediates alive at a time
                NDArray a = layerNorm(in, p + ".norm1", VIT_LN_EPS);
                NDArray h1 = in.add(linear(attention(linear(a, p + ".attn.qkv"), config.vitHeads(), null, null),
                        p + ".attn.proj"));
                NDArray f = Activation.gelu(linear(layerNorm(h1, p + ".norm2", VIT_LN_EPS), p + ".mlp.fc1"));
                return h1.add(linear(f, p + ".mlp.fc2"));
            });
            if (Arrays.binarySearch(HOOKED, i) >= 0) {
                hooked.add(h.get(":, 1:, :"));
            }
        }
        return NDArrays.concat(hooked, 2);
    }

    /**
     * Multi-head self-attention from a packed {@code qkv [B, L, 3C]} (timm's and Swin's reshape to
     * {@code [B, L, 3, heads, d]}): per head softmax((q·d^−½)·kᵀ + bias [+ mask])·v, heads merged to {@code [B, L, C]}.
     * {@code mask}, when given, is {@code [1, nW, 1, L, L]} and B a multiple of nW, window-minor.
     */
    private static NDArray attention(NDArray qkv, int heads, NDArray bias, NDArray mask) {
        Shape s = qkv.getShape();
        long b = s.get(0), l = s.get(1), c = s.get(2) / 3, d = c / heads;
        NDArray t = qkv.reshape(b, l, 3, heads, d).transpose(2, 0, 3, 1, 4);  // [3, B, heads, L, d]
        NDArray q = Scalars.mul(t.get(0), Math.pow(d, -0.5)), k = t.get(1), v = t.get(2);
        NDArray att = q.matMul(k.transpose(0, 1, 3, 2));
        if (bias != null) {
            att = att.add(bias);
        }
        if (mask != null) {
            long nw = mask.getShape().get(1);
            att = att.reshape(b / nw, nw, heads, l, l).add(mask).reshape(b, heads, l, l);
        }
        return att.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, l, c);
    }

    /** TABlock: attention across the C rows of {@code x [B, C, N]}; {@code (attn·v).transpose(1,2).reshape(B,C,N) + x}. */
    private NDArray tablock(NDArray x, String p) {
        Shape s = x.getShape();
        NDArray q = linear(x, p + ".c_q"), k = linear(x, p + ".c_k"), v = linear(x, p + ".c_v");
        NDArray att = Scalars.mul(q.matMul(k.transpose(0, 2, 1)), Math.pow(TOKENS, -0.5)).softmax(-1);
        return att.matMul(v).transpose(0, 2, 1).reshape(s).add(x);
    }

    /** maniqa_swin's SwinTransformer on {@code [B, C, 28, 28]}: per layer {@code x + scale·layer(x)}. */
    private NDArray scaleSwin(NDArray x, String p, int dim) {
        long b = x.getShape().get(0);
        NDArray h = x.reshape(b, dim, TOKENS).transpose(0, 2, 1);              // b c h w -> b (h w) c
        for (int l = 0; l < SWIN_LAYERS; l++) {
            String lp = p + ".layers." + l;
            NDArray y = h;
            for (int blk = 0; blk < SWIN_DEPTH; blk++) {
                y = swinBlock(y, lp + ".blocks." + blk, shifted(blk));
            }
            NDArray img = y.transpose(0, 2, 1).reshape(b, dim, GRID, GRID);
            y = Activation.relu(conv(img, lp + ".conv", 1)).reshape(b, dim, TOKENS).transpose(0, 2, 1);
            h = Scalars.mul(y, config.scale()).add(h);
        }
        return h.transpose(0, 2, 1).reshape(b, dim, GRID, GRID);
    }

    /** SwinBlock on {@code [B, 784, C]}: (shifted) window attention with relative position bias, then the MLP. */
    private NDArray swinBlock(NDArray x, String p, boolean shift) {
        Shape s = x.getShape();
        long b = s.get(0), c = s.get(2);
        int per = GRID / WINDOW;
        NDArray h = layerNorm(x, p + ".norm1", SWIN_LN_EPS).reshape(b, GRID, GRID, c);
        if (shift) {
            h = roll(roll(h, SHIFT, 1), SHIFT, 2);                             // torch.roll by −2 on H and W
        }
        NDArray win = h.reshape(b, per, WINDOW, per, WINDOW, c).transpose(0, 1, 3, 2, 4, 5)
                .reshape(b * WINDOWS, WIN_TOKENS, c);
        NDArray att = linear(attention(linear(win, p + ".attn.qkv"), SWIN_HEADS, w.get(p + ".attn.bias"),
                shift ? w.get(p + ".attn_mask") : null), p + ".attn.proj");
        h = att.reshape(b, per, per, WINDOW, WINDOW, c).transpose(0, 1, 3, 2, 4, 5).reshape(b, GRID, GRID, c);
        if (shift) {
            h = roll(roll(h, GRID - SHIFT, 1), GRID - SHIFT, 2);               // and back by +2
        }
        NDArray y = x.add(h.reshape(b, TOKENS, c));
        NDArray f = Activation.gelu(linear(layerNorm(y, p + ".norm2", SWIN_LN_EPS), p + ".mlp.fc1"));
        return y.add(linear(f, p + ".mlp.fc2"));
    }

    /** {@code torch.roll(x, −k, axis)} on the 28-long axis 1 or 2 of a {@code [B, 28, 28, C]} array. */
    private static NDArray roll(NDArray x, int k, int axis) {
        String head = axis == 1 ? ":, " : ":, :, ";
        return NDArrays.concat(new NDList(x.get(head + k + ":"), x.get(head + "0:" + k)), axis);
    }

    /** {@code x · Wᵀ + b} with the stored (transposed) weight of {@code name}. */
    private NDArray linear(NDArray x, String name) {
        return x.matMul(w.get(name + ".weight")).add(w.get(name + ".bias"));
    }

    private NDArray conv(NDArray x, String name, int pad) {
        NDArray weight = w.get(name + ".weight");
        int stride = name.equals("vit.patch_embed.proj") ? PATCH : 1;
        return Convolution.conv2d(x, weight, w.get(name + ".bias"), stride, pad, pad, 1);
    }

    private NDArray layerNorm(NDArray x, String name, float eps) {
        Shape s = x.getShape();
        return LayerNorm.layerNorm(x, new Shape(s.get(s.dimension() - 1)), w.get(name + ".weight"),
                w.get(name + ".bias"), eps).singletonOrThrow();
    }

    /** Frees the weights. */
    @Override
    public void close() {
        manager.close();
    }
}
