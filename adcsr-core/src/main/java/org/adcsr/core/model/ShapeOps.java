package org.adcsr.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorInfo;

/**
 * Runs the network on shapes alone. Each op checks its input shape, declares the parameters it uses (in the order
 * the forward touches them, which is the order of the reference key lists) and counts multiply-adds. This is how
 * the parameter list and the cost report come from the same code as the real forward.
 *
 * <p>Tensors are {@code long[]} shapes: {@code [B, C, H, W]} or {@code [B, N, C]}.
 */
public final class ShapeOps implements Ops<long[]> {

    /**
     * Cost of one module (one conv or linear, one norm, or one attention core).
     *
     * @param module checkpoint name of the module (its parameters are {@code module.weight}, {@code module.bias})
     * @param kind conv, linear, group_norm, layer_norm or attention
     * @param params parameters of the module
     * @param macs multiply-adds of its conv or linear
     * @param attentionMacs multiply-adds of the attention matmuls (q·kᵀ and p·v)
     * @param outShape output shape
     */
    public record ModuleCost(String module, String kind, long params, long macs, long attentionMacs, long[] outShape) {
    }

    private final Map<String, TensorInfo> params = new LinkedHashMap<>();
    private final List<ModuleCost> costs = new ArrayList<>();

    /** Parameters declared so far, in forward order. */
    public List<TensorInfo> parameters() {
        return List.copyOf(params.values());
    }

    /** One row per module touched so far, in forward order. */
    public List<ModuleCost> costs() {
        return List.copyOf(costs);
    }

    /** Parameters of the inference network of a config ({@link AdcsrNetwork#forward}), in forward order. */
    public static List<TensorInfo> inferenceParameters(AdcsrConfig c) {
        ShapeOps s = new ShapeOps();
        AdcsrNetwork.forward(s, c, new long[] {1, 3, c.sizeMultiple(), c.sizeMultiple()});
        return s.parameters();
    }

    /** Total number of elements of a parameter list. */
    public static long count(List<TensorInfo> params) {
        return params.stream().mapToLong(TensorInfo::numel).sum();
    }

    @Override
    public int channels(long[] x) {
        return (int) (x.length == 4 ? x[1] : x[x.length - 1]);
    }

    @Override
    public long[] conv2d(long[] x, String name, int out, int kernel, int stride, int padTop, int padBottom,
            int padLeft, int padRight, boolean bias) {
        requireRank(x, 4, name);
        long in = x[1];
        long h = (x[2] + (long) padTop + padBottom - kernel) / stride + 1;
        long w = (x[3] + (long) padLeft + padRight - kernel) / stride + 1;
        long[] y = {x[0], out, h, w};
        long p = declare(name + ".weight", out, in, kernel, kernel) + (bias ? declare(name + ".bias", out) : 0);
        costs.add(new ModuleCost(name, "conv", p, out * in * kernel * kernel * h * w * x[0], 0, y));
        return y;
    }

    @Override
    public long[] linear(long[] x, String name, int out, boolean bias) {
        long in = x[x.length - 1];
        long[] y = x.clone();
        y[y.length - 1] = out;
        long p = declare(name + ".weight", out, in) + (bias ? declare(name + ".bias", out) : 0);
        long rows = 1;
        for (int i = 0; i < x.length - 1; i++) {
            rows *= x[i];
        }
        costs.add(new ModuleCost(name, "linear", p, rows * in * out, 0, y));
        return y;
    }

    @Override
    public long[] groupNorm(long[] x, String name, int groups, double eps) {
        requireRank(x, 4, name);
        if (x[1] % groups != 0) {
            throw new IllegalArgumentException(name + ": " + x[1] + " channels in " + groups + " groups");
        }
        return norm(x, name, "group_norm", x[1]);
    }

    @Override
    public long[] layerNorm(long[] x, String name, double eps) {
        return norm(x, name, "layer_norm", x[x.length - 1]);
    }

    private long[] norm(long[] x, String name, String kind, long c) {
        long p = declare(name + ".weight", c) + declare(name + ".bias", c);
        costs.add(new ModuleCost(name, kind, p, 0, 0, x.clone()));
        return x.clone();
    }

    @Override
    public long[] silu(long[] x) {
        return x.clone();
    }

    @Override
    public long[] geglu(long[] x) {
        long[] y = x.clone();
        if (y[y.length - 1] % 2 != 0) {
            throw new IllegalArgumentException("GEGLU needs an even width: " + Arrays.toString(x));
        }
        y[y.length - 1] /= 2;
        return y;
    }

    @Override
    public long[] add(long[] a, long[] b) {
        boolean perChannel = a.length == 4 && b.length == 2 && a[0] == b[0] && a[1] == b[1];
        if (!perChannel && !Arrays.equals(a, b)) {
            throw new IllegalArgumentException("add: " + Arrays.toString(a) + " vs " + Arrays.toString(b));
        }
        return a.clone();
    }

    @Override
    public long[] scale(long[] x, double s) {
        return x.clone();
    }

    @Override
    public long[] concatChannels(long[] a, long[] b) {
        requireRank(a, 4, "concat");
        if (a[0] != b[0] || a[2] != b[2] || a[3] != b[3]) {
            throw new IllegalArgumentException("concat: " + Arrays.toString(a) + " vs " + Arrays.toString(b));
        }
        return new long[] {a[0], a[1] + b[1], a[2], a[3]};
    }

    @Override
    public long[] upsampleNearest2x(long[] x) {
        return new long[] {x[0], x[1], 2 * x[2], 2 * x[3]};
    }

    @Override
    public long[] pixelUnshuffle2(long[] x) {
        requireRank(x, 4, "pixel_unshuffle");
        if (x[2] % 2 != 0 || x[3] % 2 != 0) {
            throw new IllegalArgumentException("PixelUnshuffle(2) needs even sizes: " + Arrays.toString(x));
        }
        return new long[] {x[0], 4 * x[1], x[2] / 2, x[3] / 2};
    }

    @Override
    public long[] toTokens(long[] x) {
        requireRank(x, 4, "tokens");
        return new long[] {x[0], x[2] * x[3], x[1]};
    }

    @Override
    public long[] fromTokens(long[] t, long[] like) {
        return new long[] {like[0], t[2], like[2], like[3]};
    }

    @Override
    public long[] attention(String name, long[] q, long[] k, long[] v, int heads) {
        long b = q[0];
        long n = q[1];
        long c = q[2];
        long m = k[1];
        if (c % heads != 0) {
            throw new IllegalArgumentException(name + ": " + c + " channels in " + heads + " heads");
        }
        if (k[0] != b || v[0] != b || v[1] != m || k[2] != c || v[2] != c) {
            throw new IllegalArgumentException(name + ": q " + Arrays.toString(q) + ", k " + Arrays.toString(k)
                    + ", v " + Arrays.toString(v));
        }
        // q·kᵀ: heads × N × M × d, p·v the same; heads × d = C
        costs.add(new ModuleCost(name, "attention", 0, 0, 2 * b * n * m * c, q.clone()));
        return q.clone();
    }

    private long declare(String name, long... shape) {
        TensorInfo t = new TensorInfo(name, DType.F32, shape);
        TensorInfo old = params.putIfAbsent(name, t);
        if (old != null && !old.equals(t)) {
            throw new IllegalStateException(name + " used with shapes " + old.shapeString() + " and "
                    + t.shapeString());
        }
        return old == null ? t.numel() : 0;
    }

    private static void requireRank(long[] x, int rank, String name) {
        if (x.length != rank) {
            throw new IllegalArgumentException(name + ": expected rank " + rank + ", got " + Arrays.toString(x));
        }
    }
}
