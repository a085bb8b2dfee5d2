package org.adcsr.core.nets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
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
 * MUSIQ (Ke et al., ICCV 2021) as pyiqa 0.1.13's default {@code musiq} computes it (METRICS.md, {@code
 * pyiqa/archs/musiq_arch.py} and {@code pyiqa/data/multiscale_trans_util.py} at v0.1.13: {@code MUSIQ(pretrained=
 * 'koniq10k')}, run in eval mode), in DJL, float32.
 *
 * <p>Input: RGB in [0, 1], mapped to [−1, 1] ({@code (x − 0.5)·2}). Multi-scale representation, each scale cut into
 * P×P patches (P = 32, stride P) in row-major order:
 * <ol>
 *   <li>for each longer-side length L of {224, 384} (sorted; scale ids 0, 1): the image resized with its aspect ratio
 *       kept, {@code ratio = L / max(h, w)}, sides {@code round(h·ratio)} and {@code round(w·ratio)} (Python's
 *       {@code round}: half to even; 47·224/64 = 164.5 gives 164), by torch's {@code F.interpolate(mode='bicubic',
 *       align_corners=False)} without antialiasing (a = −0.75, source index {@code (i + 0.5)·in/out − 0.5}, border
 *       samples clamped; also when shrinking); its patches padded with zero patches to {@code ceil(L/P)²} (49, 144)
 *       or cut to that many;</li>
 *   <li>the original image (scale id 2), all its patches, no sequence padding.</li>
 * </ol>
 * A scale of h×w gives {@code ceil(h/P)·ceil(w/P)} patches after TensorFlow-"SAME" zero padding of the image to
 * multiples of P ({@code pad//2} before, the rest after, in the [−1, 1] domain, so mid-gray). Each patch carries a
 * hashed spatial position: the {@code ceil(h/P)} rows and {@code ceil(w/P)} columns are mapped onto a 10×10 grid by
 * torch's legacy {@code 'nearest'} interpolation of {@code arange(10)} ({@code floor(i·(float) 10/count)} in float32,
 * at most 9), position {@code row·10 + col}; a scale id; and a mask (0 for padding patches, whose position and scale
 * are 0).
 *
 * <p>Network: every patch through a ResNet stem: {@code conv_root} (7×7, stride 2, weight-standardised: {@code (w −
 * mean)/(std + 1e-5)} over each output filter, std unbiased, "same" zero padding 2/3), GroupNorm(32, eps 1e-6), ReLU,
 * zero padding 0/1, 3×3 max pool stride 2, one bottleneck (1×1, 3×3, 1×1 StdConvs to 64, 64, 256 channels, each with
 * GroupNorm(32, eps 1e-4); a 1×1 StdConv + GroupNorm projection; ReLU of the sum); the 8×8×256 map flattened in
 * (y, x, channel) order and projected ({@code embedding}) to the hidden size; plus the hashed spatial embedding
 * ({@code position_emb[position]}), plus the scale embedding ({@code scale_emb[scale]}); a class token in front (mask
 * 1); 14 pre-norm transformer blocks (LayerNorm eps 1e-6; 6-head attention with biases, scores {@code q·kᵀ/√d}
 * replaced by −1000 where the query or key is a padding token, softmax; MLP with exact GELU); a final LayerNorm; the
 * head (a linear layer) on the class token. With one output (KonIQ) that number is the score (pyiqa's {@code
 * dist_to_mos} of a one-element distribution is the element itself; {@code score_range '~0, ~100'}); with several
 * (AVA), the mean {@code Σ k·softmax_k} for k = 1…n.
 *
 * <p>Weights by pyiqa's {@code state_dict()} names ({@code conv_root.weight}, {@code block1.gn1.weight}, {@code
 * transformer_encoder.transformer.encoderblock_0.attention.query.weight}, …; a {@code module.} prefix is dropped as
 * pyiqa's {@code clean_state_dict} does); as pyiqa loads them strictly, a missing, unexpected or mis-shaped tensor is
 * refused.
 */
public final class Musiq implements AutoCloseable {

    /**
     * A MUSIQ configuration, as pyiqa's {@code MUSIQ(...)} arguments: patch size (= stride), hidden size, MLP size,
     * heads, layers, hash grid size, longer-side lengths of the resized scales, outputs. The scale embedding has one
     * row per resized scale plus one for the original ({@code num_scales = 3} in pyiqa for the default two).
     */
    public record Config(int patchSize, int hiddenSize, int mlpDim, int numHeads, int numLayers, int gridSize,
                         int[] longerSides, int numClass) {
        /** pyiqa's default {@code musiq}: {@code MUSIQ(pretrained='koniq10k')}, with the defaults of its signature. */
        public static final Config KONIQ = new Config(32, 384, 1152, 6, 14, 10, new int[] {224, 384}, 1);

        public Config {
            longerSides = longerSides.clone();
            Arrays.sort(longerSides);                                   // pyiqa sorts them: the scale ids follow
            if (patchSize % 4 != 0 || hiddenSize % numHeads != 0) {
                throw new IllegalArgumentException("patch size must be a multiple of 4, hidden size of the heads");
            }
        }

        @Override
        public int[] longerSides() {
            return longerSides.clone();
        }

        int numScales() {
            return longerSides.length + 1;
        }

        int tokenSide() {
            return pooledSide(patchSize);
        }
    }

    /** The stem's width ({@code resnet_token_dim}) and the bottleneck's output width. */
    private static final int ROOT = 64, BLOCK_OUT = 4 * ROOT, GROUPS = 32;
    private static final float ROOT_GN_EPS = 1e-6f, BLOCK_GN_EPS = 1e-4f, LN_EPS = 1e-6f;
    private static final double STD_CONV_EPS = 1e-5;
    /** The attention score of a pair with a padding token. */
    public static final float MASKED = -1e3f;
    private static final String POSITION_EMB = "transformer_encoder.posembed_input.position_emb";

    private final Config config;
    private final NDManager manager;
    private final Map<String, NDArray> w;

    private Musiq(Config config, NDManager manager, Map<String, NDArray> w) {
        this.config = config;
        this.manager = manager;
        this.w = w;
    }

    public Config config() {
        return config;
    }

    /** Every tensor of pyiqa's {@code MUSIQ} in this configuration, with its shape, in its {@code state_dict()} order. */
    public static Map<String, long[]> layout(Config c) {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("conv_root.weight", new long[] {ROOT, 3, 7, 7});
        norm(s, "gn_root", ROOT);
        s.put("block1.conv1.weight", new long[] {ROOT, ROOT, 1, 1});
        norm(s, "block1.gn1", ROOT);
        s.put("block1.conv2.weight", new long[] {ROOT, ROOT, 3, 3});
        norm(s, "block1.gn2", ROOT);
        s.put("block1.conv3.weight", new long[] {BLOCK_OUT, ROOT, 1, 1});
        norm(s, "block1.gn3", BLOCK_OUT);
        s.put("block1.conv_proj.weight", new long[] {BLOCK_OUT, ROOT, 1, 1});
        norm(s, "block1.gn_proj", BLOCK_OUT);
        int d = c.hiddenSize(), t = c.tokenSide();
        linear(s, "embedding", d, (long) BLOCK_OUT * t * t);
        String e = "transformer_encoder.";
        s.put(e + "cls", new long[] {1, 1, d});
        s.put(e + "posembed_input.position_emb", new long[] {1, (long) c.gridSize() * c.gridSize(), d});
        s.put(e + "scaleembed_input.scale_emb", new long[] {c.numScales(), d});
        norm(s, e + "encoder_norm", d);
        for (int l = 0; l < c.numLayers(); l++) {
            String p = e + "transformer.encoderblock_" + l + ".";
            norm(s, p + "norm1", d);
            for (String a : new String[] {"query", "key", "value", "out"}) {
                linear(s, p + "attention." + a, d, d);
            }
            norm(s, p + "norm2", d);
            linear(s, p + "mlp.fc1", c.mlpDim(), d);
            linear(s, p + "mlp.fc2", d, c.mlpDim());
        }
        linear(s, "head", c.numClass(), d);
        return s;
    }

    private static void norm(Map<String, long[]> s, String name, long c) {
        s.put(name + ".weight", new long[] {c});
        s.put(name + ".bias", new long[] {c});
    }

    private static void linear(Map<String, long[]> s, String name, long out, long in) {
        s.put(name + ".weight", new long[] {out, in});
        s.put(name + ".bias", new long[] {out});
    }

    /**
     * Loads and checks every tensor of {@link #layout} (float32 whatever the stored type), reporting all missing,
     * unexpected and mis-shaped tensors in one message (pyiqa's {@code load_state_dict(strict=True)} refuses the same
     * files); the StdConv weights are standardised once, here, in double precision.
     */
    public static Musiq load(NDManager parent, TensorSource src, Config c) {
        Map<String, float[]> values = weights(src, c);
        NDManager m = parent.newSubManager();
        try {
            Map<String, NDArray> w = new HashMap<>();
            for (Map.Entry<String, long[]> e : shapes(c).entrySet()) {
                w.put(e.getKey(), m.create(values.get(e.getKey()), new Shape(e.getValue())));
            }
            return new Musiq(c, m, w);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Every tensor of {@link #layout}, checked as {@link #load} checks them, as the network uses them: float32, the
     * StdConv weights standardised (in double precision), by pyiqa's name; their shapes are {@link #shapes}.
     */
    public static Map<String, float[]> weights(TensorSource src, Config c) {
        Map<String, long[]> layout = layout(c);
        Map<String, String> stored = new HashMap<>();                  // pyiqa's name -> the name in the file
        List<String> problems = new ArrayList<>();
        for (String name : src.names()) {
            String clean = name.startsWith("module.") ? name.substring("module.".length()) : name;
            stored.put(clean, name);
        }
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            String name = stored.get(e.getKey());
            TensorInfo info = name == null ? null : src.info(name);
            if (info == null) {
                problems.add("missing " + e.getKey());
            } else if (!Arrays.equals(info.shape(), e.getValue())) {
                problems.add(e.getKey() + " is " + info.shapeString() + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        for (String clean : stored.keySet()) {
            if (!layout.containsKey(clean)) {
                problems.add("unexpected " + stored.get(clean));
            }
        }
        if (!problems.isEmpty()) {
            int n = problems.size();
            throw new BadInputException(src.path() + ": MUSIQ weights: "
                    + String.join("; ", problems.subList(0, Math.min(5, n))) + (n > 5 ? " (and " + (n - 5) + " more)" : ""));
        }
        Map<String, float[]> w = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            float[] v = src.readFloats(stored.get(e.getKey()));
            w.put(e.getKey(), e.getValue().length == 4 ? standardise(v, (int) e.getValue()[0]) : v);
        }
        return w;
    }

    /** The shapes of {@link #weights}: {@link #layout}'s, with the position table as {@code [grid², hidden]}. */
    public static Map<String, long[]> shapes(Config c) {
        Map<String, long[]> s = layout(c);
        s.computeIfPresent(POSITION_EMB, (k, v) -> new long[] {v[1], v[2]});
        return s;
    }

    /** StdConv's weight: per output filter, {@code (w − mean) / (std + 1e-5)} with torch's unbiased std. */
    static float[] standardise(float[] v, int filters) {
        int n = v.length / filters;
        float[] out = new float[v.length];
        for (int f = 0; f < filters; f++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += v[f * n + i];
            }
            double mean = sum / n, ss = 0;
            for (int i = 0; i < n; i++) {
                double dv = v[f * n + i] - mean;
                ss += dv * dv;
            }
            double den = Math.sqrt(ss / (n - 1)) + STD_CONV_EPS;
            for (int i = 0; i < n; i++) {
                out[f * n + i] = (float) ((v[f * n + i] - mean) / den);
            }
        }
        return out;
    }

    // ---- the multi-scale patch representation (pyiqa data/multiscale_trans_util.py)

    /** Python's {@code round(h · (L / max(h, w)))}: the ratio in double, ties to even. */
    static int resizedSide(int side, int longer, int maxSide) {
        double ratio = (double) longer / maxSide;
        return (int) Math.rint(side * ratio);
    }

    /**
     * The {@code [out, in]} matrix of torch's 1-D bicubic interpolation ({@code align_corners=False}, no
     * antialiasing): row i holds the four weights of source samples {@code floor(s) − 1 … floor(s) + 2}, clamped to
     * the border, for {@code s = (i + 0.5)·in/out − 0.5}, with a = −0.75. Built in double.
     */
    static double[][] bicubicMatrix(int in, int out) {
        double a = -0.75, scale = (double) in / out;
        double[][] m = new double[out][in];
        for (int i = 0; i < out; i++) {
            double real = scale * (i + 0.5) - 0.5;
            double floor = Math.floor(real);
            double t = real - floor;
            double[] c = {cubic2(t + 1, a), cubic1(t, a), cubic1(1 - t, a), cubic2(2 - t, a)};
            for (int k = 0; k < 4; k++) {
                long idx = Math.min(Math.max((long) floor - 1 + k, 0), in - 1);
                m[i][(int) idx] += c[k];
            }
        }
        return m;
    }

    private static double cubic1(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static double cubic2(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    /** torch's legacy {@code 'nearest'} source index of output {@code i} of {@code count} from {@code grid}: float32. */
    static int nearest(int i, int grid, int count) {
        if (count == grid) {
            return i;
        }
        if (count == 2 * grid) {
            return i >> 1;
        }
        float scale = (float) grid / count;
        return Math.min((int) Math.floor(i * scale), grid - 1);
    }

    /** The hashed positions of a {@code countH × countW} patch grid, row-major: {@code row·G + col}. */
    static int[] hashedPositions(int grid, int countH, int countW) {
        int[] p = new int[countH * countW];
        for (int y = 0; y < countH; y++) {
            for (int x = 0; x < countW; x++) {
                p[y * countW + x] = nearest(y, grid, countH) * grid + nearest(x, grid, countW);
            }
        }
        return p;
    }

    /**
     * Whether MUSIQ can score an image of this size: every resized copy has sides of at least 1 pixel (pyiqa's
     * {@code F.interpolate} refuses a size of 0, e.g. for a 1×1000 image, whose short side rounds to 0 at 224).
     */
    public boolean fits(int width, int height) {
        return fits(config, width, height);
    }

    /** {@link #fits(int, int)} for a configuration. */
    public static boolean fits(Config config, int width, int height) {
        int max = Math.max(width, height), min = Math.min(width, height);
        for (int l : config.longerSides()) {
            if (min < 1 || resizedSide(min, l, max) < 1) {
                return false;
            }
        }
        return min >= 1;
    }

    /**
     * MUSIQ's input: the patch sequence of N images of one size, {@code patches [N, L, 3, P, P]} in [−1, 1] (all
     * scales, in order), and each token's hashed position, scale id and mask (1 for an image patch, 0 for padding).
     */
    public record Tokens(NDArray patches, int[] positions, int[] scaleIds, int[] masks) {
        public int length() {
            return masks.length;
        }
    }

    private static Tokens patches(Config config, NDArray img, int scaleId, int maxSeqLen) {
        Shape s = img.getShape();
        long n = s.get(0);
        int h = (int) s.get(2), wd = (int) s.get(3), p = config.patchSize();
        int ch = ceilDiv(h, p), cw = ceilDiv(wd, p);
        int padH = ch * p - h, padW = cw * p - wd;
        NDArray x = padH > 0 || padW > 0
                ? img.pad(new Shape(padW / 2, padW - padW / 2, padH / 2, padH - padH / 2), 0) : img;
        NDArray seq = x.reshape(n, 3, ch, p, cw, p).transpose(0, 2, 4, 1, 3, 5).reshape(n, (long) ch * cw, 3, p, p);
        int[] pos = hashedPositions(config.gridSize(), ch, cw);
        int count = ch * cw;
        int len = maxSeqLen < 0 ? count : maxSeqLen;
        if (len < count) {
            seq = seq.get(":, 0:" + len);
        } else if (len > count) {
            seq = NDArrays.concat(new NDList(seq, img.getManager().zeros(new Shape(n, len - count, 3, p, p),
                    img.getDataType())), 1);
        }
        int[] positions = new int[len], scales = new int[len], masks = new int[len];
        for (int i = 0; i < Math.min(len, count); i++) {
            positions[i] = pos[i];
            scales[i] = scaleId;
            masks[i] = 1;
        }
        return new Tokens(seq, positions, scales, masks);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * {@link Tokens} of one image as plain arrays, without autograd (ONNX Runtime's input): {@code patches} is
     * {@code [L, 3, P, P]}, row-major.
     */
    public record PatchTokens(float[] patches, int[] positions, int[] scaleIds, int[] masks) {
        public int length() {
            return masks.length;
        }
    }

    /**
     * {@link #tokens(NDArray, Config)} of one image in plain Java, the same arithmetic up to float32 rounding (the
     * bicubic resize sums its four taps instead of a whole matrix row): {@code chw} is {@code [3, H, W]} RGB in
     * [0, 1]. Several times faster than the NDArray form for a 512×512 image, whose resizes are dense matrix products.
     */
    public static PatchTokens tokens(float[] chw, int h, int wd, Config config) {
        float[] img = new float[chw.length];
        for (int i = 0; i < img.length; i++) {
            img[i] = (chw[i] - 0.5f) * 2f;                                // (x − 0.5)·2, as the NDArray form
        }
        int[] longer = config.longerSides();
        int max = Math.max(h, wd), p = config.patchSize();
        List<PatchTokens> scales = new ArrayList<>();
        for (int id = 0; id < longer.length; id++) {
            int rh = resizedSide(h, longer[id], max), rw = resizedSide(wd, longer[id], max);
            scales.add(patches(config, resize(img, h, wd, rh, rw), rh, rw, id,
                    ceilDiv(longer[id], p) * ceilDiv(longer[id], p)));
        }
        scales.add(patches(config, img, h, wd, longer.length, -1));
        int len = scales.stream().mapToInt(PatchTokens::length).sum(), patch = 3 * p * p;
        float[] seq = new float[len * patch];
        int[] positions = new int[len], scaleIds = new int[len], masks = new int[len];
        int at = 0;
        for (PatchTokens sc : scales) {
            int k = sc.length();
            System.arraycopy(sc.patches(), 0, seq, at * patch, k * patch);
            System.arraycopy(sc.positions(), 0, positions, at, k);
            System.arraycopy(sc.scaleIds(), 0, scaleIds, at, k);
            System.arraycopy(sc.masks(), 0, masks, at, k);
            at += k;
        }
        return new PatchTokens(seq, positions, scaleIds, masks);
    }

    /** One scale's patches of a {@code [3, h, w]} image: "SAME" zero padding, row-major, then cut or padded. */
    private static PatchTokens patches(Config config, float[] img, int h, int wd, int scaleId, int maxSeqLen) {
        int p = config.patchSize(), ch = ceilDiv(h, p), cw = ceilDiv(wd, p);
        int top = (ch * p - h) / 2, left = (cw * p - wd) / 2;
        int count = ch * cw, len = maxSeqLen < 0 ? count : maxSeqLen, patch = 3 * p * p;
        float[] seq = new float[len * patch];                           // padding patches stay zero
        int[] pos = hashedPositions(config.gridSize(), ch, cw);
        int[] positions = new int[len], scales = new int[len], masks = new int[len];
        for (int t = 0; t < Math.min(len, count); t++) {
            int py = t / cw, px = t % cw;
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < p; y++) {
                    int sy = py * p + y - top;
                    if (sy < 0 || sy >= h) {
                        continue;
                    }
                    for (int x = 0; x < p; x++) {
                        int sx = px * p + x - left;
                        if (sx >= 0 && sx < wd) {
                            seq[t * patch + (c * p + y) * p + x] = img[(c * h + sy) * wd + sx];
                        }
                    }
                }
            }
            positions[t] = pos[t];
            scales[t] = scaleId;
            masks[t] = 1;
        }
        return new PatchTokens(seq, positions, scales, masks);
    }

    /** The bicubic resize of a {@code [3, h, w]} image to {@code rh × rw}: along the height, then the width. */
    private static float[] resize(float[] img, int h, int wd, int rh, int rw) {
        double[][] bh = bicubicMatrix(h, rh), bw = bicubicMatrix(wd, rw);
        float[][] mh = taps(bh), mw = taps(bw);
        int[][] ih = tapIndex(bh), iw = tapIndex(bw);
        float[] tmp = new float[3 * rh * wd], out = new float[3 * rh * rw];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < rh; i++) {
                int o = (c * rh + i) * wd;
                for (int k = 0; k < ih[i].length; k++) {
                    float m = mh[i][k];
                    int src = (c * h + ih[i][k]) * wd;
                    for (int x = 0; x < wd; x++) {
                        tmp[o + x] += m * img[src + x];
                    }
                }
            }
            for (int y = 0; y < rh; y++) {
                int row = (c * rh + y) * wd, o = (c * rh + y) * rw;
                for (int j = 0; j < rw; j++) {
                    float sum = 0;
                    for (int k = 0; k < iw[j].length; k++) {
                        sum += tmp[row + iw[j][k]] * mw[j][k];
                    }
                    out[o + j] = sum;
                }
            }
        }
        return out;
    }

    /** The nonzero weights of each row of a resize matrix, as float32 (as the NDArray form's matrix holds them). */
    private static float[][] taps(double[][] m) {
        int[][] idx = tapIndex(m);
        float[][] t = new float[m.length][];
        for (int i = 0; i < m.length; i++) {
            t[i] = new float[idx[i].length];
            for (int k = 0; k < idx[i].length; k++) {
                t[i][k] = (float) m[i][idx[i][k]];
            }
        }
        return t;
    }

    private static int[][] tapIndex(double[][] m) {
        int[][] idx = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            int n = 0;
            int[] row = new int[m[i].length];
            for (int j = 0; j < m[i].length; j++) {
                if (m[i][j] != 0) {
                    row[n++] = j;
                }
            }
            idx[i] = Arrays.copyOf(row, n);
        }
        return idx;
    }

    /** {@code m · x} along the height ({@code [rh, H]}) and width ({@code [rw, W]}) of {@code x [N, C, H, W]}. */
    private static NDArray resize(NDArray x, int rh, int rw) {
        Shape s = x.getShape();
        int h = (int) s.get(2), wd = (int) s.get(3);
        NDManager mm = x.getManager();
        NDArray mh = matrix(mm, bicubicMatrix(h, rh));                  // [rh, H]
        NDArray mwT = matrix(mm, bicubicMatrix(wd, rw)).transpose();    // [W, rw]
        return mh.matMul(x).matMul(mwT);
    }

    private static NDArray matrix(NDManager m, double[][] a) {
        float[] f = new float[a.length * a[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                f[i * a[i].length + j] = (float) a[i][j];
            }
        }
        return Scalars.owned(m.create(f, new Shape(a.length, a[0].length)), ai.djl.ndarray.types.DataType.FLOAT32);
    }

    // ---- the network

    /**
     * MUSIQ scores {@code [N]} of NCHW RGB images in [0, 1] (float32, all of one size); differentiable in {@code x}.
     * Memory grows with the square of the patch count of the original scale ({@code ceil(h/32)·ceil(w/32)} + 193
     * tokens).
     */
    public NDArray forward(NDArray x) {
        // every array made on the way is closed when the score is out, those that ops put beside the weights too
        // (without this each 512x512 image left about 0.5 GB behind)
        return Scopes.scoped(() -> scores(x));
    }

    /**
     * The multi-scale patch sequence of {@code x} ({@code [N, 3, H, W]} RGB in [0, 1], float32): the two resized
     * copies' patches, padded or cut to {@code ceil(L/P)²}, then the original's.
     */
    public static Tokens tokens(NDArray x, Config config) {
        Shape s = x.getShape();
        int h = (int) s.get(2), wd = (int) s.get(3);
        NDArray img = Scalars.mul(Scalars.scalar(x, -0.5).add(x), 2.0);   // (x − 0.5)·2
        List<Tokens> scales = new ArrayList<>();
        int[] longer = config.longerSides();
        int max = Math.max(h, wd), p = config.patchSize();
        for (int id = 0; id < longer.length; id++) {
            int rh = resizedSide(h, longer[id], max), rw = resizedSide(wd, longer[id], max);
            int maxSeq = ceilDiv(longer[id], p) * ceilDiv(longer[id], p);
            scales.add(patches(config, resize(img, rh, rw), id, maxSeq));
        }
        scales.add(patches(config, img, longer.length, -1));
        NDList parts = new NDList();
        int len = 0;
        for (Tokens sc : scales) {
            parts.add(sc.patches());
            len += sc.length();
        }
        int[] positions = new int[len], scaleIds = new int[len], masks = new int[len];
        int at = 0;
        for (Tokens sc : scales) {
            int k = sc.length();
            System.arraycopy(sc.positions(), 0, positions, at, k);
            System.arraycopy(sc.scaleIds(), 0, scaleIds, at, k);
            System.arraycopy(sc.masks(), 0, masks, at, k);
            at += k;
        }
        return new Tokens(NDArrays.concat(parts, 1), positions, scaleIds, masks);
    }

    /**
     * The attention masks of a sequence with the class token in front, {@code [T, T]} for T = L + 1, row-major: the
     * scores are multiplied by {@code keep} (0 where the query or the key is a padding token, else 1), then {@code
     * fill} ({@link #MASKED} there, else 0) is added.
     */
    public static float[][] attentionMasks(int[] masks) {
        int tl = masks.length + 1;
        float[] keep = new float[tl * tl], fill = new float[tl * tl];
        for (int i = 0; i < tl; i++) {
            for (int j = 0; j < tl; j++) {
                boolean k = (i == 0 || masks[i - 1] == 1) && (j == 0 || masks[j - 1] == 1);
                keep[i * tl + j] = k ? 1 : 0;
                fill[i * tl + j] = k ? 0 : MASKED;
            }
        }
        return new float[][] {keep, fill};
    }

    private NDArray scores(NDArray x) {
        NDManager mm = x.getManager();
        long n = x.getShape().get(0);
        Tokens tk = tokens(x, config);
        int len = tk.length(), p = config.patchSize();
        NDArray seq = tk.patches().reshape(n * len, 3, p, p);
        long tokenCount = len;
        NDArray e = Scopes.scoped(() -> linear(stem(seq)                // [N·L, 256, t, t]
                .transpose(0, 2, 3, 1).reshape(n, tokenCount, -1), "embedding")); // TensorFlow's (y, x, channel); [N, L, D]
        String te = "transformer_encoder.";
        e = e.add(oneHot(mm, tk.positions(), config.gridSize() * config.gridSize())
                .matMul(w.get(POSITION_EMB)));
        e = e.add(oneHot(mm, tk.scaleIds(), config.numScales()).matMul(w.get(te + "scaleembed_input.scale_emb")));
        int d = config.hiddenSize();
        NDArray cls = w.get(te + "cls").broadcast(new Shape(n, 1, d));
        NDArray hdn = NDArrays.concat(new NDList(cls, e), 1);           // [N, L+1, D]
        int tl = len + 1;
        float[][] km = attentionMasks(tk.masks());
        float[] keep = km[0], fill = km[1];
        NDArray keepM = Scalars.owned(mm.create(keep, new Shape(tl, tl)), hdn.getDataType());
        NDArray fillM = Scalars.owned(mm.create(fill, new Shape(tl, tl)), hdn.getDataType());
        for (int l = 0; l < config.numLayers(); l++) {
            String b = te + "transformer.encoderblock_" + l + ".";
            NDArray in = hdn;
            hdn = Scopes.scoped(() -> {
                NDArray h1 = in.add(attention(layerNorm(in, b + "norm1"), b + "attention.", keepM, fillM));
                NDArray f = Activation.gelu(linear(layerNorm(h1, b + "norm2"), b + "mlp.fc1"));
                return h1.add(linear(f, b + "mlp.fc2"));
            });
        }
        NDArray clsOut = layerNorm(hdn, te + "encoder_norm").get(":, 0, :");   // [N, D]
        NDArray q = linear(clsOut, "head");                              // [N, numClass]
        if (config.numClass() == 1) {
            return q.reshape(n);
        }
        float[] ks = new float[config.numClass()];
        for (int i = 0; i < ks.length; i++) {
            ks[i] = i + 1;
        }
        NDArray k = Scalars.owned(mm.create(ks), q.getDataType());
        return q.softmax(-1).mul(k).sum(new int[] {1});
    }

    /** {@code [L, classes]} rows of the identity: multiplying by a table picks its rows exactly. */
    private static NDArray oneHot(NDManager m, int[] index, int classes) {
        float[] v = new float[index.length * classes];
        for (int i = 0; i < index.length; i++) {
            v[i * classes + index[i]] = 1;
        }
        return Scalars.owned(m.create(v, new Shape(index.length, classes)), ai.djl.ndarray.types.DataType.FLOAT32);
    }

    /** conv_root, gn_root, ReLU, "same" max pool, block1: {@code [B, 3, P, P]} to {@code [B, 256, P/4, P/4]}. */
    private NDArray stem(NDArray x) {
        // each unit in a scope of its own: the stem's arrays are [449, 64 or 256, 16 or 8, 16 or 8] (29 MB) apiece
        NDArray y = Scopes.scoped(() -> {
            NDArray r = Activation.relu(groupNorm(stdConv(x, "conv_root.weight", 7, 2), "gn_root", ROOT_GN_EPS));
            return Pool.maxPool2d(samePad(r, 3, 2), new Shape(3, 3), new Shape(2, 2), new Shape(0, 0), false);
        });
        String b = "block1.";
        NDArray identity = Scopes.scoped(() -> groupNorm(stdConv(y, b + "conv_proj.weight", 1, 1), b + "gn_proj",
                BLOCK_GN_EPS));
        NDArray o1 = Scopes.scoped(() -> Activation.relu(groupNorm(stdConv(y, b + "conv1.weight", 1, 1), b + "gn1",
                BLOCK_GN_EPS)));
        NDArray o2 = Scopes.scoped(() -> Activation.relu(groupNorm(stdConv(o1, b + "conv2.weight", 3, 1), b + "gn2",
                BLOCK_GN_EPS)));
        return Scopes.scoped(() -> Activation.relu(groupNorm(stdConv(o2, b + "conv3.weight", 1, 1), b + "gn3",
                BLOCK_GN_EPS).add(identity)));
    }

    /** StdConv: "same" zero padding ({@code exact_padding_2d}), then the (already standardised) convolution. */
    private NDArray stdConv(NDArray x, String weight, int k, int stride) {
        return Convolution.conv2d(samePad(x, k, stride), w.get(weight), null, stride, 0, 0, 1);
    }

    /** TensorFlow "SAME" zero padding for a k×k window at this stride: {@code pad//2} before, the rest after. */
    static NDArray samePad(NDArray x, int k, int stride) {
        Shape s = x.getShape();
        int ph = samePadding((int) s.get(2), k, stride), pw = samePadding((int) s.get(3), k, stride);
        return ph == 0 && pw == 0 ? x : x.pad(new Shape(pw / 2, pw - pw / 2, ph / 2, ph - ph / 2), 0);
    }

    /** TensorFlow "SAME" padding in total for a k×k window at this stride over n samples. */
    public static int samePadding(int n, int k, int stride) {
        return Math.max(ceilDiv(n, stride) - 1, 0) * stride + k - n;
    }

    /** The side after conv_root and the max pool, both "same" with stride 2: {@code ceil(ceil(P/2)/2)}. */
    private static int pooledSide(int p) {
        return ceilDiv(ceilDiv(p, 2), 2);
    }

    private NDArray groupNorm(NDArray x, String name, float eps) {
        Shape s = x.getShape();
        long c = s.get(1);
        NDArray g = x.reshape(s.get(0), GROUPS, -1);
        Shape group = new Shape(g.getShape().get(2));
        NDManager m = x.getManager();
        NDArray y = LayerNorm.layerNorm(g, group, m.ones(group, x.getDataType()), m.zeros(group, x.getDataType()), eps)
                .singletonOrThrow().reshape(s);
        return y.mul(w.get(name + ".weight").reshape(1, c, 1, 1)).add(w.get(name + ".bias").reshape(1, c, 1, 1));
    }

    private NDArray layerNorm(NDArray x, String name) {
        Shape s = x.getShape();
        return LayerNorm.layerNorm(x, new Shape(s.get(s.dimension() - 1)), w.get(name + ".weight"),
                w.get(name + ".bias"), LN_EPS).singletonOrThrow();
    }

    private NDArray linear(NDArray x, String name) {
        return Linear.linear(x, w.get(name + ".weight"), w.get(name + ".bias")).singletonOrThrow();
    }

    /** pyiqa's MultiHeadAttention: softmax((q·kᵀ)·d^−½, −1000 where a token is padding)·v, then {@code out}. */
    private NDArray attention(NDArray x, String p, NDArray keep, NDArray fill) {
        Shape s = x.getShape();
        long b = s.get(0), l = s.get(1), c = s.get(2);
        int heads = config.numHeads();
        long d = c / heads;
        NDArray q = linear(x, p + "query").reshape(b, l, heads, d).transpose(0, 2, 1, 3);
        NDArray k = linear(x, p + "key").reshape(b, l, heads, d).transpose(0, 2, 3, 1);
        NDArray v = linear(x, p + "value").reshape(b, l, heads, d).transpose(0, 2, 1, 3);
        NDArray att = Scalars.mul(q.matMul(k), Math.pow(d, -0.5)).mul(keep).add(fill);
        NDArray o = att.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, l, c);
        return linear(o, p + "out");
    }

    /** Frees the weights. */
    @Override
    public void close() {
        manager.close();
    }
}
