package org.adcsr.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Messages;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/**
 * An AdcSR inference network with its parameters in DJL arrays. Parameter names are the checkpoint keys
 * ({@code unet.…}, {@code decoder.…}); {@link #parameters()} can be handed to an optimiser for training.
 */
public final class AdcsrModel implements AutoCloseable {
    private final AdcsrConfig config;
    private final NDManager manager;
    private final Map<String, NDArray> params;
    private final DjlOps ops;

    private AdcsrModel(AdcsrConfig config, NDManager manager, Map<String, NDArray> params) {
        this.config = config;
        this.manager = manager;
        this.params = Collections.unmodifiableMap(params);
        this.ops = new DjlOps(this.params);
    }

    /** Names and shapes of the inference parameters of a config, in forward order. */
    public static List<TensorInfo> parameterList(AdcsrConfig config) {
        return ShapeOps.inferenceParameters(config);
    }

    /**
     * Loads the parameters from a source in our naming ({@code unet.…}, {@code decoder.…}), checking every key and
     * shape first; names matching {@code ignorable} may be present and are skipped (for example
     * {@code decoder.conv_in.*}, which only the training feature paths use).
     */
    public static AdcsrModel load(AdcsrConfig config, TensorSource source, Predicate<String> ignorable,
            NDManager parent, DataType type) {
        List<TensorInfo> expected = parameterList(config);
        KeyCheck.check(source, expected, ignorable);
        NDManager m = parent.newSubManager();
        try {
            Map<String, NDArray> p = new LinkedHashMap<>();
            for (TensorInfo t : expected) {
                float[] values = readFinite(source, t.name());
                NDArray a = m.create(values, new Shape(t.shape()));
                p.put(t.name(), type == DataType.FLOAT32 ? a : a.toType(type, false));
            }
            return new AdcsrModel(config, m, p);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * A tensor of {@code source} as float32, refused (naming the file and tensor) when it holds NaN, infinity or a
     * finite value beyond ±{@link #MAX_PLAUSIBLE_WEIGHT}: the check every engine applies when it loads weights.
     */
    public static float[] readFinite(TensorSource source, String name) {
        float[] values = source.readFloats(name);
        int bad = firstImplausible(values);
        if (bad >= 0) {
            String value = Float.isFinite(values[bad])
                    ? String.format(java.util.Locale.ROOT, "%.3g", values[bad]) : String.valueOf(values[bad]);
            throw BadInputException.of(source.pathOf(name), "tensor " + Messages.clip(source.originalName(name), 100)
                    + " holds " + value + " at element " + bad + (Float.isFinite(values[bad])
                    ? " (beyond float16's 65504, where no trained weight is; the file is corrupt)"
                    : " (weights must be finite; the file is corrupt or was saved from a diverged run)"));
        }
        return values;
    }

    /**
     * Random parameters as PyTorch initialises {@code Conv2d} and {@code Linear} (uniform ±1/√fan_in for weights and
     * biases), with norm weights {@code 1 + 0.1·N(0,1)} and biases {@code 0.1·N(0,1)} so that every parameter
     * matters. For tests and benchmarks only; seeded, the same values on every machine.
     */
    public static AdcsrModel random(AdcsrConfig config, long seed, NDManager parent, DataType type) {
        Random rnd = new Random(seed);
        NDManager m = parent.newSubManager();
        Map<String, NDArray> p = new LinkedHashMap<>();
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        parameterList(config).forEach(t -> byName.put(t.name(), t));
        for (TensorInfo t : byName.values()) {
            float[] v = new float[Math.toIntExact(t.numel())];
            boolean norm = t.name().contains("norm");
            if (norm) {
                boolean weight = t.name().endsWith(".weight");
                for (int i = 0; i < v.length; i++) {
                    v[i] = (weight ? 1f : 0f) + 0.1f * (float) rnd.nextGaussian();
                }
            } else {
                long fanIn = fanIn(t, byName);
                float bound = (float) (1.0 / Math.sqrt(fanIn));
                for (int i = 0; i < v.length; i++) {
                    v[i] = (rnd.nextFloat() * 2 - 1) * bound;
                }
            }
            NDArray a = m.create(v, new Shape(t.shape()));
            p.put(t.name(), type == DataType.FLOAT32 ? a : a.toType(type, false));
        }
        return new AdcsrModel(config, m, p);
    }

    /** Fan-in of a conv or linear weight; a bias takes its weight's fan-in. */
    private static long fanIn(TensorInfo t, Map<String, TensorInfo> byName) {
        long[] s = t.shape();
        if (s.length == 1) {
            String name = t.name();
            return fanIn(byName.get(name.substring(0, name.length() - "bias".length()) + "weight"), byName);
        }
        long f = 1;
        for (int i = 1; i < s.length; i++) {
            f *= s[i];
        }
        return f;
    }

    public AdcsrConfig config() {
        return config;
    }

    /** Parameters by checkpoint key (read-only map of live arrays). */
    public Map<String, NDArray> parameters() {
        return params;
    }

    /**
     * The index of the first NaN, infinity or finite value beyond ±{@link #MAX_PLAUSIBLE_WEIGHT} in {@code values},
     * or -1 (a branch-free scan of each block's largest exponent, which the JIT vectorises; only a block holding a
     * value of 32768 or more is looked at value by value).
     */
    static int firstImplausible(float[] values) {
        final int block = 4096;
        for (int start = 0; start < values.length; start += block) {
            int end = Math.min(values.length, start + block);
            int maxExponent = 0; // NaN and infinity have every exponent bit set, the largest masked value
            for (int i = start; i < end; i++) {
                maxExponent = Math.max(maxExponent, Float.floatToRawIntBits(values[i]) & 0x7f800000);
            }
            if (maxExponent >= 0x47000000) { // 2^15
                for (int i = start; i < end; i++) {
                    if (!(Math.abs(values[i]) <= MAX_PLAUSIBLE_WEIGHT)) {
                        return i;
                    }
                }
            }
        }
        return -1;
    }

    /**
     * The name of the first parameter holding NaN or infinity, or null when all are finite: tells a bad weights file
     * from an engine fault once a forward has produced non-finite numbers (a pass over the weights, so callers ask
     * only then).
     */
    public String nonFiniteParameter() {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray p = e.getValue();
            try (NDScope scope = new NDScope()) { // frees the masks
                if (p.isNaN().logicalOr(p.isInfinite()).any().getBoolean()) {
                    return e.getKey();
                }
            }
        }
        return null;
    }

    /**
     * Float16's largest finite value: no trained weight reaches it (the published model runs in half precision), so
     * a finite weight beyond it is a corrupt file (a flipped exponent bit), not a model; refused at load, because
     * such a weight can overflow one engine and leave another's output finite but wrong.
     */
    public static final float MAX_PLAUSIBLE_WEIGHT = 65504f;

    /** The operations bound to this model's parameters, for running parts of the network. */
    public DjlOps ops() {
        return ops;
    }

    /**
     * The whole network on an LR batch in [−1, 1], {@code [B, 3, H, W]} with H and W multiples of
     * {@link AdcsrConfig#sizeMultiple()}; returns {@code [B, 3, 4H, 4W]} in the input's manager. Intermediates are
     * freed before returning.
     */
    public NDArray forward(NDArray lr) {
        return run(lr, AdcsrNetwork::forward);
    }

    /** The trained student (UNet, connector, decoder mid block): {@code [B, mid width, H/2, W/2]}. */
    public NDArray student(NDArray lr) {
        return run(lr, AdcsrNetwork::student);
    }

    private interface Part {
        NDArray apply(Ops<NDArray> ops, AdcsrConfig config, NDArray lr);
    }

    /** Runs part of the network, freeing everything but its result, which joins the input's manager. */
    private NDArray run(NDArray lr, Part part) {
        checkInput(lr);
        try (NDScope scope = new NDScope()) {
            NDArray y = part.apply(ops, config, lr);
            NDScope.unregister(y);
            y.attach(lr.getManager());
            return y;
        }
    }

    private void checkInput(NDArray lr) {
        Shape s = lr.getShape();
        int k = config.sizeMultiple();
        if (s.dimension() != 4 || s.get(1) != 3 || s.get(2) % k != 0 || s.get(3) % k != 0) {
            throw new IllegalArgumentException("input must be [B, 3, H, W] with H and W multiples of " + k + ": " + s);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
