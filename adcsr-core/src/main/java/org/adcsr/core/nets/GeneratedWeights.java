package org.adcsr.core.nets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/**
 * Deterministic weights in the exact key layouts of the perceptual networks, for tests and benchmarks: the published
 * LPIPS, DISTS and Inception weights cannot be fetched here, so the fixture scripts under {@code tools/eval/} load
 * the same generated values into the reference implementations (torchvision, pyiqa) and record their outputs.
 * Nothing here is a usable metric.
 */
public final class GeneratedWeights {
    private GeneratedWeights() {}

    /**
     * {@code tools/eval/make_lpips_fixture.py} value(): MurmurHash3's fmix32 of i·2654435761 + k·40503, mapped to
     * [−0.5, 0.5)·scale, for element i of tensor number k.
     */
    public static float[] hashed(int k, long[] shape, double scale) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        long mask = 0xffffffffL;
        for (int i = 0; i < n; i++) {
            long h = (i * 2654435761L + k * 40503L) & mask;
            h ^= h >>> 16;
            h = (h * 0x85ebca6bL) & mask;
            h ^= h >>> 13;
            h = (h * 0xc2b2ae35L) & mask;
            h ^= h >>> 16;
            v[i] = (float) ((h / 4294967296.0 - 0.5) * scale);
        }
        return v;
    }

    /**
     * {@code tools/eval/make_clipiqa_fixture.py} half_value(): {@code ((fmix32 hash >> 21) − 1024) · 2^(e−11)}, the
     * same hash as {@link #hashed}; 11-bit integers on a power-of-two grid, exact in float16 for e ≥ −13.
     */
    public static float[] hashedHalf(int k, long[] shape, int e) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        long mask = 0xffffffffL;
        double step = Math.scalb(1.0, e - 11);
        for (int i = 0; i < n; i++) {
            long h = (i * 2654435761L + k * 40503L) & mask;
            h ^= h >>> 16;
            h = (h * 0x85ebca6bL) & mask;
            h ^= h >>> 13;
            h = (h * 0xc2b2ae35L) & mask;
            h ^= h >>> 16;
            v[i] = (float) (((h >>> 21) - 1024) * step);
        }
        return v;
    }

    /**
     * CLIP's weights in pyiqa's key layout for {@code config} ({@link ClipIqa#layout}), as
     * {@code tools/eval/make_clipiqa_fixture.py} generated() makes them (seeded by name): what pyiqa's build_model
     * rounds to float16 (conv, linear and attention weights and biases, text_projection) on the float16-exact grid of
     * {@link #hashedHalf} (weights e = 2 − ⌊bit_length(fan_in)/2⌋, biases e = −6); norm weights 1 + 0.4v, running
     * variances |v| + 0.5, the rest 0.2v ({@link #hashed}); logit_scale float32(ln 100); num_batches_tracked 0.
     */
    public static TensorSource clip(ClipIqa.Config config) {
        return source("clip", ClipIqa.layout(config), (name, shape) -> {
            int k = seed(name);
            if (name.equals("logit_scale")) {
                return new float[] {(float) Math.log(100)};
            }
            if (name.endsWith(".num_batches_tracked")) {
                return new float[1];
            }
            for (String suffix : CLIP_HALF) {
                if (name.endsWith(suffix)) {
                    if (name.endsWith("bias")) {
                        return hashedHalf(k, shape, -6);
                    }
                    long fanIn = name.equals("text_projection") ? shape[0] : shape[1] * (shape.length == 4 ? shape[2] * shape[3] : 1);
                    return hashedHalf(k, shape, 2 - (64 - Long.numberOfLeadingZeros(fanIn)) / 2);
                }
            }
            float[] v;
            if (name.endsWith("running_var")) {
                v = hashed(k, shape, 1.0);
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.abs(v[i]) + 0.5f;
                }
                return v;
            }
            for (String suffix : CLIP_NORM_WEIGHTS) {
                if (name.endsWith(suffix)) {
                    v = hashed(k, shape, 0.4);
                    for (int i = 0; i < v.length; i++) {
                        v[i] = v[i] + 1.0f;
                    }
                    return v;
                }
            }
            return hashed(k, shape, 0.2);
        });
    }

    private static final String[] CLIP_HALF = {"conv1.weight", "conv2.weight", "conv3.weight", "downsample.0.weight",
        "_proj.weight", "_proj.bias", "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias",
        "c_fc.weight", "c_fc.bias", "c_proj.weight", "c_proj.bias", "text_projection"};
    private static final String[] CLIP_NORM_WEIGHTS = {"bn1.weight", "bn2.weight", "bn3.weight", "downsample.1.weight",
        "ln_1.weight", "ln_2.weight", "ln_final.weight"};

    /**
     * MUSIQ's weights in pyiqa's key layout for {@code config} ({@link Musiq#layout}), as
     * {@code tools/eval/make_musiq_fixture.py} generated() makes them (seeded by name, {@link #hashed}): GroupNorm and
     * LayerNorm weights 1 + 0.4v; Linear weights 3.5/√fan_in wide; conv weights, the position and scale embeddings and
     * the class token 1 wide; the rest (biases) 0.4, the head's bias plus 1 (scores away from 0, where a relative
     * tolerance means little).
     */
    public static TensorSource musiq(Musiq.Config config) {
        return source("musiq", Musiq.layout(config), (name, shape) -> {
            int k = seed(name);
            for (String suffix : MUSIQ_NORM_WEIGHTS) {
                if (name.endsWith(suffix)) {
                    float[] v = hashed(k, shape, 0.4);
                    for (int i = 0; i < v.length; i++) {
                        v[i] = v[i] + 1.0f;
                    }
                    return v;
                }
            }
            if (name.endsWith(".weight") && shape.length == 2) {
                return hashed(k, shape, 3.5 / Math.sqrt(shape[1]));
            }
            if (name.endsWith(".weight") && shape.length == 4 || name.endsWith("position_emb")
                    || name.endsWith("scale_emb") || name.endsWith(".cls")) {
                return hashed(k, shape, 1.0);
            }
            float[] v = hashed(k, shape, 0.4);
            if (name.equals("head.bias")) {
                v[0] += 1.0f;                                           // scores away from 0
            }
            return v;
        });
    }

    private static final String[] MUSIQ_NORM_WEIGHTS = {"gn_root.weight", "gn1.weight", "gn2.weight", "gn3.weight",
        "gn_proj.weight", "norm1.weight", "norm2.weight", "encoder_norm.weight"};

    /**
     * MANIQA's weights in pyiqa's key layout for {@code config} ({@link Maniqa#layout}), as
     * {@code tools/eval/make_maniqa_fixture.py} generated() makes them (seeded by name, {@link #hashed}): weights of
     * two and more dimensions 2/√fan_in wide, LayerNorm weights 1 + 0.4v, relative position bias tables 1 wide,
     * {@code fc_score.3.bias} 0.5 + 0.2v, the rest 0.2v; the buffers {@code relative_position_index} and
     * {@code attn_mask} hold the values the module computes.
     */
    public static TensorSource maniqa(Maniqa.Config config) {
        return source("maniqa", Maniqa.layout(config), (name, shape) -> {
            int k = seed(name);
            if (name.endsWith(".relative_position_index")) {
                return Maniqa.relativePositionIndex();
            }
            if (name.endsWith(".attn_mask")) {
                return Maniqa.shiftMask();
            }
            if (name.endsWith(".relative_position_bias_table")) {
                return hashed(k, shape, 1.0);
            }
            float[] v;
            if (name.endsWith("fc_score.3.bias")) {
                v = hashed(k, shape, 0.2);
                for (int i = 0; i < v.length; i++) {
                    v[i] = v[i] + 0.5f;
                }
                return v;
            }
            if (name.endsWith(".weight") && shape.length >= 2) {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) {
                    fanIn *= shape[i];
                }
                return hashed(k, shape, 2.0 / Math.sqrt(fanIn));
            }
            if (name.endsWith(".weight")) {
                v = hashed(k, shape, 0.4);
                for (int i = 0; i < v.length; i++) {
                    v[i] = v[i] + 1.0f;
                }
                return v;
            }
            return hashed(k, shape, 0.2);
        });
    }

    /** An in-memory {@link TensorSource} of {@code shapes}, each tensor computed by {@code values} when read. */
    public static TensorSource source(String label, Map<String, long[]> shapes,
            BiFunction<String, long[], float[]> values) {
        Map<String, long[]> copy = new LinkedHashMap<>(shapes);
        return new TensorSource() {
            @Override
            public Path path() {
                return Path.of(label + "(generated)");
            }

            @Override
            public List<String> names() {
                return new ArrayList<>(copy.keySet());
            }

            @Override
            public TensorInfo info(String name) {
                return copy.containsKey(name) ? new TensorInfo(name, DType.F32, copy.get(name)) : null;
            }

            @Override
            public float[] readFloats(String name) {
                return values.apply(name, copy.get(name));
            }

            @Override
            public Map<String, String> metadata() {
                return Map.of();
            }

            @Override
            public void close() {}
        };
    }

    /** An LPIPS backbone's features in torchvision's state-dict order: tensor k hashed, He-like scale, biases 0.2. */
    public static TensorSource lpipsBackbone(Lpips.Backbone net) {
        Map<String, long[]> shapes = Lpips.backboneShapes(net);
        List<String> order = new ArrayList<>(shapes.keySet());
        return source(net.toString(), shapes, (name, s) -> hashed(order.indexOf(name), s,
                name.endsWith(".bias") ? 0.2 : 2.0 / Math.sqrt(s[1] * s[2] * s[3])));
    }

    /** tools/eval/make_fid_fixture.py's seed of a tensor: Σ (i+1)·char_i mod 1000003 over its name. */
    static int seed(String name) {
        long s = 0;
        for (int i = 0; i < name.length(); i++) {
            s += (long) (i + 1) * name.charAt(i);
        }
        return (int) (s % 1000003);
    }

    /**
     * FID's InceptionV3 weights: conv weights {@code convGain/√fan_in} wide (the fixture scripts use 2, the folder
     * fixture 5), BatchNorm weights 1 ± 0.2, running variances in [0.5, 1), everything else ±0.1.
     */
    public static TensorSource inception(double convGain) {
        return source("inception", FidInception.shapes(), (name, shape) -> {
            int k = seed(name);
            if (name.endsWith("conv.weight")) {
                return hashed(k, shape, convGain / Math.sqrt(shape[1] * shape[2] * shape[3]));
            }
            float[] v;
            if (name.endsWith("bn.weight")) {
                v = hashed(k, shape, 0.4);
                for (int i = 0; i < v.length; i++) {
                    v[i] = v[i] + 1.0f;
                }
            } else if (name.endsWith("bn.running_var")) {
                v = hashed(k, shape, 1.0);
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.abs(v[i]) + 0.5f;
                }
            } else {
                v = hashed(k, shape, 0.2);
            }
            return v;
        });
    }
}
