package org.adcsr.core.nets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.pooling.Pool;
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
 * LPIPS v0.1 (Zhang et al.; METRICS.md §3) on the AlexNet or VGG16 backbone, as DJL operations, so it is
 * differentiable and serves both as a metric and as Stage 1's perceptual loss. Weights: torchvision's backbone
 * ({@code features.N.*}) and the LPIPS linear heads ({@code lin0.model.1.weight} … {@code lin4}), read by name and
 * checked by shape.
 *
 * <p>Forward: RGB in [0, 1] → {@code (2x − 1 − shift)/scale}; five ReLU taps (AlexNet relu1…relu5: 64, 192, 384,
 * 256, 256 channels; VGG16 relu1_2, relu2_2, relu3_3, relu4_3, relu5_3: 64, 128, 256, 512, 512); each unit-normalised
 * over channels (eps 1e-10); squared difference; 1×1 conv with the head (no bias); spatial mean; sum over the five
 * layers. Output {@code [N]}.
 */
public final class Lpips implements AutoCloseable {

    /**
     * A torchvision {@code features} stack as LPIPS slices it. Layers: {@code {index, out, in, kernel, stride, pad}}
     * for a conv followed by ReLU, {@code {POOL}} for a max-pool, {@code {TAP}} for an LPIPS tap.
     */
    public enum Backbone {
        ALEX(3, 2, new int[] {64, 192, 384, 256, 256}, new int[][] {
            {0, 64, 3, 11, 4, 2}, {TAP}, {POOL}, {3, 192, 64, 5, 1, 2}, {TAP}, {POOL}, {6, 384, 192, 3, 1, 1}, {TAP},
            {8, 256, 384, 3, 1, 1}, {TAP}, {10, 256, 256, 3, 1, 1}, {TAP},
        }),
        VGG(2, 2, new int[] {64, 128, 256, 512, 512}, new int[][] {
            {0, 64, 3, 3, 1, 1}, {2, 64, 64, 3, 1, 1}, {TAP}, {POOL},
            {5, 128, 64, 3, 1, 1}, {7, 128, 128, 3, 1, 1}, {TAP}, {POOL},
            {10, 256, 128, 3, 1, 1}, {12, 256, 256, 3, 1, 1}, {14, 256, 256, 3, 1, 1}, {TAP}, {POOL},
            {17, 512, 256, 3, 1, 1}, {19, 512, 512, 3, 1, 1}, {21, 512, 512, 3, 1, 1}, {TAP}, {POOL},
            {24, 512, 512, 3, 1, 1}, {26, 512, 512, 3, 1, 1}, {28, 512, 512, 3, 1, 1}, {TAP},
        });

        final int poolKernel, poolStride;
        final int[] channels;
        final int[][] layers;

        Backbone(int poolKernel, int poolStride, int[] channels, int[][] layers) {
            this.poolKernel = poolKernel;
            this.poolStride = poolStride;
            this.channels = channels;
            this.layers = layers;
        }

        /** The whole stack as above: convs {@code {index, out, in, kernel, stride, pad}}, {@link Lpips#POOL}s, {@link Lpips#TAP}s. */
        public int[][] layers() {
            int[][] copy = new int[layers.length][];
            for (int i = 0; i < layers.length; i++) {
                copy[i] = layers[i].clone();
            }
            return copy;
        }

        /** The conv layers, {@code {index, out, in, kernel, stride, pad}}. */
        int[][] convs() {
            return java.util.Arrays.stream(layers).filter(l -> l.length == 6).toArray(int[][]::new);
        }
    }

    public static final int TAP = -1, POOL = -2;
    /** The published weight files' names (the last 8 hex digits are their sha256 prefix), as pyiqa names them. */
    public static final String HEADS_ALEX = "LPIPS_v0.1_alex-df73285e.pth";
    public static final String BACKBONE_ALEX = "alexnet-owt-7be5be79.pth";
    public static final String HEADS_VGG = "LPIPS_v0.1_vgg-a78928a0.pth";
    public static final String BACKBONE_VGG = "vgg16-397923af.pth";
    private static final float[] SHIFT = {-.030f, -.088f, -.188f};
    private static final float[] SCALE = {.458f, .448f, .450f};

    private final Backbone backbone;
    private final NDManager manager;
    private final Map<String, NDArray> weights;

    private Lpips(Backbone backbone, NDManager manager, Map<String, NDArray> weights) {
        this.backbone = backbone;
        this.manager = manager;
        this.weights = weights;
    }

    /** The backbone tensors this network needs, by torchvision name, with their shapes. */
    static Map<String, long[]> backboneShapes(Backbone net) {
        Map<String, long[]> m = new java.util.LinkedHashMap<>();
        for (int[] c : net.convs()) {
            m.put("features." + c[0] + ".weight", new long[] {c[1], c[2], c[3], c[3]});
            m.put("features." + c[0] + ".bias", new long[] {c[1]});
        }
        return m;
    }

    /**
     * Loads the weights into a sub-manager of {@code parent}. {@code backbone} holds torchvision's AlexNet state dict
     * (keys {@code features.N.weight/bias}; a {@code net.}-free prefix is not stripped), {@code heads} the LPIPS heads
     * (keys ending in {@code lin<k>.model.1.weight}). Missing or mis-shaped tensors are all reported in one message.
     */
    public static Lpips load(Backbone net, NDManager parent, TensorSource backbone, TensorSource heads) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray> w = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : backboneShapes(net).entrySet()) {
            put(m, w, backbone, e.getKey(), e.getKey(), e.getValue(), problems);
        }
        int[] channels = net.channels;
        for (int k = 0; k < channels.length; k++) {
            String want = "lin" + k + ".model.1.weight";
            String found = null;
            for (String n : heads.names()) {
                if (n.equals(want) || n.endsWith("." + want)) {
                    found = n;
                    break;
                }
            }
            if (found == null) {
                problems.add(heads.path() + ": missing " + want);
                continue;
            }
            put(m, w, heads, found, want, new long[] {1, channels[k], 1, 1}, problems);
        }
        if (!problems.isEmpty()) {
            m.close();
            throw new BadInputException("LPIPS weights: " + String.join("; ", problems));
        }
        return new Lpips(net, m, w);
    }

    private static void put(NDManager m, Map<String, NDArray> w, TensorSource src, String name, String as,
            long[] shape, List<String> problems) {
        TensorInfo info = src.info(name);
        if (info == null) {
            problems.add(src.path() + ": missing " + name);
            return;
        }
        if (!Arrays.equals(info.shape(), shape)) {
            problems.add(src.path() + ": " + name + " is " + info.shapeString() + ", expected "
                    + Arrays.toString(shape));
            return;
        }
        w.put(as, m.create(src.readFloats(name), new Shape(shape)));
    }

    /** LPIPS distance of two NCHW RGB batches in [0, 1] (same shape); differentiable in both inputs. */
    public NDArray forward(NDArray x, NDArray y) {
        List<NDArray> fx = taps(x), fy = taps(y);
        NDArray total = null;
        for (int k = 0; k < fx.size(); k++) {
            NDArray a = unit(fx.get(k)), b = unit(fy.get(k));
            NDArray d = a.sub(b).square();
            NDArray lin = Convolution.conv2d(d, weights.get("lin" + k + ".model.1.weight"), null, 1, 0, 0, 1);
            NDArray mean = lin.reshape(lin.getShape().get(0), -1).mean(new int[] {1});   // [N]
            total = total == null ? mean : total.add(mean);
        }
        return total;
    }

    private List<NDArray> taps(NDArray img) {
        NDManager m = img.getManager();
        // owned copies: autograd keeps scale for the backward pass after this method's arrays are gone
        NDArray shift = Scalars.owned(m.create(SHIFT, new Shape(1, 3, 1, 1)), img.getDataType());
        NDArray scale = Scalars.owned(m.create(SCALE, new Shape(1, 3, 1, 1)), img.getDataType());
        NDArray h = Scalars.mul(img, 2).sub(1).sub(shift).div(scale);
        List<NDArray> out = new ArrayList<>();
        for (int[] l : backbone.layers) {
            if (l[0] == TAP) {
                out.add(h);
            } else if (l[0] == POOL) {
                h = Pool.maxPool2d(h, new Shape(backbone.poolKernel, backbone.poolKernel),
                        new Shape(backbone.poolStride, backbone.poolStride), new Shape(0, 0), false);
            } else {
                NDArray wt = weights.get("features." + l[0] + ".weight"), b = weights.get("features." + l[0] + ".bias");
                h = Convolution.conv2d(h, wt, b, l[4], l[5], l[5], 1);
                h = Activation.relu(h);
            }
        }
        return out;
    }

    private static NDArray unit(NDArray f) {
        NDArray norm = f.square().sum(new int[] {1}, true).sqrt();
        return f.div(norm.add(1e-10));
    }

    /** Frees the weights. */
    @Override
    public void close() {
        manager.close();
    }

    /** For tests: the weights as loaded, by name. */
    NDList weightList() {
        return new NDList(weights.values());
    }
}
