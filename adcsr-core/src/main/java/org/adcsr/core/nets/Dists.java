package org.adcsr.core.nets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.engine.Scalars;

/**
 * DISTS (Ding et al.; METRICS.md §3) as pyiqa 0.1.13 computes it, in DJL (differentiable). VGG16 features with each
 * max-pool replaced by L2 pooling (3×3 Hann window [.5, 1, .5]², stride 2, padding 1, {@code √(conv(x²) + 1e-12)});
 * ImageNet mean/std normalisation; six stages (the raw input, then relu1_2 … relu5_3: 3, 64, 128, 256, 512, 512
 * channels); per stage and channel a structure term {@code (2μxμy + c1)/(μx² + μy² + c1)} weighted by α and a texture
 * term {@code (2σxy + c2)/(σx² + σy² + c2)} weighted by β, with α, β divided by their joint sum, c1 = c2 = 1e-6;
 * score {@code 1 − Σ}. Output {@code [N]}.
 */
public final class Dists implements AutoCloseable {
    static final int[] CHANNELS = {3, 64, 128, 256, 512, 512};
    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    private final NDManager manager;
    private final Map<String, NDArray> weights;
    private final NDArray alpha, beta;                   // normalised, [sum(CHANNELS)]

    private Dists(NDManager manager, Map<String, NDArray> weights, NDArray alpha, NDArray beta) {
        this.manager = manager;
        this.weights = weights;
        this.alpha = alpha;
        this.beta = beta;
    }

    /**
     * Loads VGG16's conv weights ({@code features.N.*}) from {@code backbone} and {@code alpha}, {@code beta}
     * ({@code [1, 1475, 1, 1]}) from {@code head}; every problem is reported in one message.
     */
    public static Dists load(NDManager parent, TensorSource backbone, TensorSource head) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray> w = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : Lpips.backboneShapes(Lpips.Backbone.VGG).entrySet()) {
            put(m, w, backbone, e.getKey(), e.getValue(), problems);
        }
        int total = Arrays.stream(CHANNELS).sum();
        for (String n : new String[] {"alpha", "beta"}) {
            put(m, w, head, n, new long[] {1, total, 1, 1}, problems);
        }
        if (!problems.isEmpty()) {
            m.close();
            throw new BadInputException("DISTS weights: " + String.join("; ", problems));
        }
        NDArray sum = w.get("alpha").sum().add(w.get("beta").sum());
        NDArray a = w.get("alpha").reshape(total).div(sum), b = w.get("beta").reshape(total).div(sum);
        return new Dists(m, w, a, b);
    }

    private static void put(NDManager m, Map<String, NDArray> w, TensorSource src, String name, long[] shape,
            List<String> problems) {
        TensorInfo info = src.info(name);
        if (info == null) {
            problems.add(src.path() + ": missing " + name);
        } else if (!Arrays.equals(info.shape(), shape)) {
            problems.add(src.path() + ": " + name + " is " + info.shapeString() + ", expected "
                    + Arrays.toString(shape));
        } else {
            w.put(name, m.create(src.readFloats(name), new Shape(shape)));
        }
    }

    /** DISTS of two NCHW RGB batches in [0, 1]; differentiable. */
    public NDArray forward(NDArray x, NDArray y) {
        List<NDArray> fx = stages(x), fy = stages(y);
        double c1 = 1e-6, c2 = 1e-6;
        NDArray dist = null;
        int offset = 0;
        for (int k = 0; k < CHANNELS.length; k++) {
            NDArray a = fx.get(k), b = fy.get(k);
            NDArray mx = spatialMean(a), my = spatialMean(b);                       // [N, C]
            NDArray s1 = Scalars.mul(mx.mul(my), 2).add(c1).div(mx.square().add(my.square()).add(c1));
            NDArray vx = spatialMean(a.sub(expand(mx)).square()), vy = spatialMean(b.sub(expand(my)).square());
            NDArray cov = spatialMean(a.mul(b)).sub(mx.mul(my));
            NDArray s2 = Scalars.mul(cov, 2).add(c2).div(vx.add(vy).add(c2));
            NDArray ak = alpha.get(offset + ":" + (offset + CHANNELS[k])), bk = beta.get(offset + ":" + (offset + CHANNELS[k]));
            NDArray term = s1.mul(ak).sum(new int[] {1}).add(s2.mul(bk).sum(new int[] {1}));
            dist = dist == null ? term : dist.add(term);
            offset += CHANNELS[k];
        }
        return dist.neg().add(1);
    }

    private static NDArray spatialMean(NDArray f) {
        Shape s = f.getShape();
        return f.reshape(s.get(0), s.get(1), -1).mean(new int[] {2});
    }

    private static NDArray expand(NDArray nc) {
        return nc.expandDims(2).expandDims(3);
    }

    private List<NDArray> stages(NDArray img) {
        NDManager m = img.getManager();
        NDArray mean = m.create(MEAN, new Shape(1, 3, 1, 1)), std = m.create(STD, new Shape(1, 3, 1, 1));
        List<NDArray> out = new ArrayList<>();
        out.add(img);                                           // stage 0: the input itself, not normalised
        NDArray h = img.sub(mean).div(std);
        for (int[] l : Lpips.Backbone.VGG.layers) {
            if (l[0] == Lpips.TAP) {
                out.add(h);
            } else if (l[0] == Lpips.POOL) {
                h = l2pool(h);
            } else {
                h = Convolution.conv2d(h, weights.get("features." + l[0] + ".weight"),
                        weights.get("features." + l[0] + ".bias"), l[4], l[5], l[5], 1);
                h = Activation.relu(h);
            }
        }
        return out;
    }

    /** pyiqa's L2pooling: depthwise 3×3 [.0625 .125 .0625; .125 .25 .125; …] on x², stride 2, padding 1, √(·+1e-12). */
    private static NDArray l2pool(NDArray x) {
        int c = (int) x.getShape().get(1);
        float[] g = {0.0625f, 0.125f, 0.0625f, 0.125f, 0.25f, 0.125f, 0.0625f, 0.125f, 0.0625f};
        float[] k = new float[c * 9];
        for (int i = 0; i < c; i++) {
            System.arraycopy(g, 0, k, i * 9, 9);
        }
        NDArray filter = x.getManager().create(k, new Shape(c, 1, 3, 3));
        NDArray out = Convolution.conv2d(x.square(), filter, null, 2, 1, 1, c);
        return out.add(1e-12).sqrt();
    }

    @Override
    public void close() {
        manager.close();
    }
}
