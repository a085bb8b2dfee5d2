package org.adcsr.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.engine.FusedOps;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.engine.Scopes;

/**
 * {@link Ops} on DJL arrays (PyTorch engine). Differentiable: every op is composed of autograd-tracked libtorch ops
 * (DJL's, and SiLU, GroupNorm and strided training convolutions through {@link FusedOps}).
 *
 * <p>Memory: results belong to the first operand's manager, so callers run a forward inside an {@code NDScope} and
 * keep only its result. Each op frees its own temporaries (GroupNorm's normalised copy, attention's score chunks)
 * before it returns, and each {@link #block} frees its intermediates on return, which bounds peak memory to about
 * one block's working set plus the skip tensors.
 */
public final class DjlOps implements Ops<NDArray> {
    private final Function<String, NDArray> params;

    /** @param params parameters by checkpoint key, with the shapes {@link ShapeOps} declares */
    public DjlOps(Map<String, NDArray> params) {
        this(params::get);
    }

    /**
     * @param params the parameter of a checkpoint key, or null; lets one network read parameters from several
     *     places (the trainable ones from a store, the frozen ones from a file)
     */
    public DjlOps(Function<String, NDArray> params) {
        this.params = params;
    }

    private NDArray param(String name) {
        NDArray p = params.apply(name);
        if (p == null) {
            throw new IllegalStateException("parameter not loaded: " + name);
        }
        return p;
    }

    @Override
    public int channels(NDArray x) {
        Shape s = x.getShape();
        return (int) (s.dimension() == 4 ? s.get(1) : s.get(s.dimension() - 1));
    }

    @Override
    public NDArray conv2d(NDArray x, String name, int out, int kernel, int stride, int padTop, int padBottom,
            int padLeft, int padRight, boolean bias) {
        NDArray b = bias ? param(name + ".bias") : null;
        if (padTop == padBottom && padLeft == padRight) {
            return Convolution.conv2d(x, param(name + ".weight"), b, stride, padTop, padLeft, 1);
        }
        return Scopes.scoped(() -> Convolution.conv2d(x.pad(new Shape(padLeft, padRight, padTop, padBottom), 0),
                param(name + ".weight"), b, stride, 0, 0, 1));
    }

    @Override
    public NDArray linear(NDArray x, String name, int out, boolean bias) {
        NDList y = bias ? Linear.linear(x, param(name + ".weight"), param(name + ".bias"))
                : Linear.linear(x, param(name + ".weight"));
        return y.singletonOrThrow();
    }

    @Override
    public NDArray groupNorm(NDArray x, String name, int groups, double eps) {
        // libtorch's group_norm: one kernel each way (FusedOps says why it is not composed of layer_norm here)
        return FusedOps.groupNorm(x, groups, param(name + ".weight"), param(name + ".bias"), eps);
    }

    @Override
    public NDArray layerNorm(NDArray x, String name, double eps) {
        Shape s = x.getShape();
        return LayerNorm.layerNorm(x, new Shape(s.get(s.dimension() - 1)), param(name + ".weight"),
                param(name + ".bias"), (float) eps).singletonOrThrow();
    }

    @Override
    public NDArray silu(NDArray x) {
        return FusedOps.silu(x);
    }

    @Override
    public NDArray geglu(NDArray x) {
        return Scopes.scoped(() -> {
            NDList halves = x.split(2, x.getShape().dimension() - 1);
            return halves.get(0).mul(Activation.gelu(halves.get(1)));
        });
    }

    @Override
    public NDArray add(NDArray a, NDArray b) {
        Shape sa = a.getShape();
        if (sa.dimension() == 4 && b.getShape().dimension() == 2) {
            return a.add(b.reshape(b.getShape().get(0), b.getShape().get(1), 1, 1));
        }
        return a.add(b);
    }

    @Override
    public NDArray scale(NDArray x, double s) {
        return Scalars.mul(x, s);
    }

    @Override
    public NDArray concatChannels(NDArray a, NDArray b) {
        return NDArrays.concat(new NDList(a, b), 1);
    }

    @Override
    public NDArray upsampleNearest2x(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        return x.reshape(b, c, h, 1, w, 1).broadcast(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w);
    }

    @Override
    public NDArray pixelUnshuffle2(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long h = s.get(2) / 2;
        long w = s.get(3) / 2;
        return x.reshape(b, c, h, 2, w, 2).transpose(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h, w);
    }

    @Override
    public NDArray toTokens(NDArray x) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
    }

    @Override
    public NDArray fromTokens(NDArray tokens, NDArray like) {
        Shape s = like.getShape();
        return tokens.transpose(0, 2, 1).reshape(s.get(0), tokens.getShape().get(2), s.get(2), s.get(3));
    }

    /**
     * Largest attention score tensor computed at once, in elements: 16 Mi (64 MiB in float32). Chunks bound the
     * memory of the level-0 attention (5 heads × 4096² scores at 128×128 would be 336 MB) and are exact, since
     * softmax is per query row. Measured on the paper config at 128×128, 2 threads, AMD EPYC, with the launchers'
     * malloc settings (bin/launcher-env.sh): attention 1.38 s with 0.5 Mi, 1.05 s with 4 Mi, 0.97 s with 16 Mi, 1.02 s
     * with 128 Mi ({@code bench/UpscaleProfile.java 2 <elements>}). (Without those settings every chunk's fresh pages
     * cost more than cache misses and 2 Mi was best.) Tests lower it to force chunking.
     */
    static long maxScores = 16L << 20;

    @Override
    public NDArray attention(String name, NDArray q, NDArray k, NDArray v, int heads) {
        Shape s = q.getShape();
        long b = s.get(0);
        long n = s.get(1);
        long c = s.get(2);
        long m = k.getShape().get(1);
        long d = c / heads;
        return Scopes.scoped(() -> {
            NDArray qh = Scalars.mul(q.reshape(b, n, heads, d).transpose(0, 2, 1, 3), 1.0 / Math.sqrt(d)); // (B, heads, N, d)
            NDArray kh = k.reshape(b, m, heads, d).transpose(0, 2, 3, 1); // (B, heads, d, M)
            NDArray vh = v.reshape(b, m, heads, d).transpose(0, 2, 1, 3); // (B, heads, M, d)
            // softmax is per query row, so queries can go in chunks: exact, with bounded score memory (each chunk's
            // scores are freed before the next one is computed)
            long rows = Math.max(1, Math.min(n, maxScores / (b * heads * m)));
            NDList parts = new NDList();
            for (long start = 0; start < n; start += rows) {
                String range = ":, :, " + start + ":" + Math.min(n, start + rows);
                parts.add(Scopes.scoped(() -> (rows == n ? qh : qh.get(range)).matMul(kh).softmax(-1).matMul(vh)));
            }
            NDArray out = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 2); // (B, heads, N, d)
            return out.transpose(0, 2, 1, 3).reshape(b, n, c);
        });
    }

    @Override
    public NDArray block(NDArray x, UnaryOperator<NDArray> body) {
        return Scopes.scoped(() -> body.apply(x));
    }
}
