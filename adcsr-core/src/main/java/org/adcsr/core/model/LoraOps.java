package org.adcsr.core.model;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.adcsr.core.Rng;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.io.TensorInfo;

/**
 * PEFT LoRA (v0.13) as an {@link Ops} decorator: every linear or conv layer that an adapter targets computes
 * {@code base(x) + scale·lora_B(lora_A(x))}, {@code scale = lora_alpha / r}, with PEFT's parameter names
 * ({@code <module>.lora_A.<adapter>.weight}). A linear LoRA is {@code A [r, in]}, {@code B [out, r]}; a conv LoRA is a
 * k×k conv {@code A [r, in, k, k]} with the base layer's stride and padding, then a 1×1 conv {@code B [out, r, 1, 1]};
 * neither has a bias, and dropout is off (PEFT's default). A layer may carry several adapters; each adds its term, in
 * adapter order (PEFT's active adapters).
 *
 * <p>Any network written over {@link Ops} gets LoRA this way without a line of its own; over {@link ShapeOps} the
 * decorator enumerates the LoRA parameters in PEFT's state-dict order (each module's base weight and bias, then
 * {@code lora_A}, then {@code lora_B}). With {@code baseLayerNames} the frozen base weights of targeted layers are
 * named as in a PEFT-adapted model's state dict ({@code <module>.base_layer.weight}); without it, as in the plain
 * diffusers model the adapters were added to.
 */
public final class LoraOps<T> implements Ops<T> {

    /**
     * One named adapter.
     *
     * @param name adapter name (PEFT's {@code adapter_name})
     * @param rank r
     * @param alpha {@code lora_alpha}; PEFT's default is 8
     * @param targets which modules it adapts, by module name (the checkpoint key without {@code .weight})
     */
    public record Adapter(String name, int rank, double alpha, Predicate<String> targets) {
        public Adapter {
            if (rank < 1 || !(alpha > 0)) {
                throw new IllegalArgumentException("LoRA rank and alpha must be positive: " + rank + ", " + alpha);
            }
        }

        /** {@code lora_alpha / r}. */
        public double scale() {
            return alpha / rank;
        }
    }

    /** PEFT's default {@code lora_alpha}. */
    public static final double PEFT_DEFAULT_ALPHA = 8;

    /** The substrings of {@code add_lora_to_unet} in AdcSR's {@code utils.py} (ADCSR.md §7). */
    private static final List<String> OFFICIAL_PATTERNS = List.of("to_k", "to_q", "to_v", "to_out.0", "conv", "conv1",
            "conv2", "conv_shortcut", "conv_out", "proj_out", "proj_in", "ff.net.2", "ff.net.0.proj");

    private final Ops<T> base;
    private final List<Adapter> adapters;
    private final boolean baseLayerNames;

    public LoraOps(Ops<T> base, List<Adapter> adapters, boolean baseLayerNames) {
        this.base = base;
        this.adapters = List.copyOf(adapters);
        this.baseLayerNames = baseLayerNames;
    }

    /**
     * The adapter AdcSR's discriminator gives a UNet module (ADCSR.md §7): none for biases, norms and modules no
     * pattern names; {@code default_encoder} for {@code down_blocks} and {@code conv_in}, {@code default_decoder} for
     * {@code up_blocks} and {@code conv_out}, {@code default_others} for the rest (the mid block). As the official
     * code, the tests are substring tests on the parameter name {@code module + ".weight"}.
     */
    public static String officialAdapter(String module) {
        String n = module + ".weight";
        if (n.contains("bias") || n.contains("norm") || OFFICIAL_PATTERNS.stream().noneMatch(n::contains)) {
            return null;
        }
        if (n.contains("down_blocks") || n.contains("conv_in")) {
            return "default_encoder";
        }
        return n.contains("up_blocks") || n.contains("conv_out") ? "default_decoder" : "default_others";
    }

    /** AdcSR's three discriminator adapters, all active, rank r, the given alpha. */
    public static List<Adapter> officialAdapters(int rank, double alpha) {
        List<Adapter> out = new ArrayList<>();
        for (String a : List.of("default_encoder", "default_decoder", "default_others")) {
            out.add(new Adapter(a, rank, alpha, m -> a.equals(officialAdapter(m))));
        }
        return out;
    }

    /** The undecorated ops. */
    public Ops<T> base() {
        return base;
    }

    /** True for a LoRA parameter name ({@code …lora_A.…} or {@code …lora_B.…}). */
    public static boolean isLoraParameter(String name) {
        return name.contains(".lora_A.") || name.contains(".lora_B.");
    }

    private String baseName(String module) {
        if (!baseLayerNames) {
            return module;
        }
        for (Adapter a : adapters) {
            if (a.targets().test(module)) {
                return module + ".base_layer";
            }
        }
        return module;
    }

    @Override
    public T conv2d(T x, String name, int out, int kernel, int stride, int padTop, int padBottom, int padLeft,
            int padRight, boolean bias) {
        T y = base.conv2d(x, baseName(name), out, kernel, stride, padTop, padBottom, padLeft, padRight, bias);
        for (Adapter a : adapters) {
            if (a.targets().test(name)) {
                T down = base.conv2d(x, name + ".lora_A." + a.name(), a.rank(), kernel, stride, padTop, padBottom,
                        padLeft, padRight, false);
                T up = base.conv2d(down, name + ".lora_B." + a.name(), out, 1, 1, 0, 0, 0, 0, false);
                y = base.add(y, base.scale(up, a.scale()));
            }
        }
        return y;
    }

    @Override
    public T linear(T x, String name, int out, boolean bias) {
        T y = base.linear(x, baseName(name), out, bias);
        for (Adapter a : adapters) {
            if (a.targets().test(name)) {
                T down = base.linear(x, name + ".lora_A." + a.name(), a.rank(), false);
                T up = base.linear(down, name + ".lora_B." + a.name(), out, false);
                y = base.add(y, base.scale(up, a.scale()));
            }
        }
        return y;
    }

    /**
     * PEFT's {@code init_lora_weights="gaussian"} for the LoRA parameters of a parameter list: A ~ N(0, (1/r)²)
     * (std 1/r), B = 0, drawn in list order from {@code rng}. Other parameters are skipped.
     */
    public Map<String, float[]> gaussianInit(List<TensorInfo> params, Rng rng) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (TensorInfo t : params) {
            if (!isLoraParameter(t.name())) {
                continue;
            }
            out.put(t.name(), gaussianInit(t, rng));
        }
        return out;
    }

    /** {@link #gaussianInit(List, Rng)} of one LoRA parameter. */
    public float[] gaussianInit(TensorInfo t, Rng rng) {
        float[] v = new float[Math.toIntExact(t.numel())];
        if (t.name().contains(".lora_A.")) {
            double std = 1.0 / adapterOf(t.name()).rank();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (std * rng.nextGaussian());
            }
        }
        return v;
    }

    private Adapter adapterOf(String loraParameter) {
        for (Adapter a : adapters) {
            if (loraParameter.endsWith("." + a.name() + ".weight")) {
                return a;
            }
        }
        throw new IllegalArgumentException("no adapter for " + loraParameter);
    }

    /**
     * Folds every adapter into its base weight, {@code W ± scale·B·A} (for a conv,
     * {@code ΔW[o, i, y, x] = Σ_r B[o, r]·A[r, i, y, x]}), as PEFT's {@code merge}/{@code unmerge}: a new map with
     * the LoRA parameters removed ({@code sign} +1) or kept ({@code sign} −1, to undo a merge), base weights under
     * their plain names.
     */
    public Map<String, NDArray> merge(Map<String, NDArray> params, int sign) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            String k = e.getKey();
            if (sign > 0 && isLoraParameter(k)) {
                continue;
            }
            out.put(k.replace(".base_layer.", "."), e.getValue());
        }
        for (String k : params.keySet()) {
            if (!k.contains(".lora_A.")) {
                continue;
            }
            Adapter a = adapterOf(k);
            String module = k.substring(0, k.indexOf(".lora_A."));
            NDArray aw = params.get(k);
            NDArray bw = params.get(module + ".lora_B." + a.name() + ".weight");
            NDArray w = out.get(module + ".weight");
            long r = a.rank();
            NDArray delta = bw.reshape(bw.getShape().get(0), r).matMul(aw.reshape(r, -1)).reshape(w.getShape());
            out.put(module + ".weight", w.add(Scalars.mul(delta, sign * a.scale())));
        }
        return out;
    }

    // everything else is the base ops

    @Override
    public int channels(T x) {
        return base.channels(x);
    }

    @Override
    public T groupNorm(T x, String name, int groups, double eps) {
        return base.groupNorm(x, name, groups, eps);
    }

    @Override
    public T layerNorm(T x, String name, double eps) {
        return base.layerNorm(x, name, eps);
    }

    @Override
    public T silu(T x) {
        return base.silu(x);
    }

    @Override
    public T geglu(T x) {
        return base.geglu(x);
    }

    @Override
    public T add(T a, T b) {
        return base.add(a, b);
    }

    @Override
    public T scale(T x, double s) {
        return base.scale(x, s);
    }

    @Override
    public T concatChannels(T a, T b) {
        return base.concatChannels(a, b);
    }

    @Override
    public T upsampleNearest2x(T x) {
        return base.upsampleNearest2x(x);
    }

    @Override
    public T pixelUnshuffle2(T x) {
        return base.pixelUnshuffle2(x);
    }

    @Override
    public T toTokens(T x) {
        return base.toTokens(x);
    }

    @Override
    public T fromTokens(T tokens, T like) {
        return base.fromTokens(tokens, like);
    }

    @Override
    public T attention(String name, T q, T k, T v, int heads) {
        return base.attention(name, q, k, v, heads);
    }

    @Override
    public T block(T x, UnaryOperator<T> body) {
        return base.block(x, body);
    }
}
