package org.adcsr.eval.learned;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/**
 * LPIPS v0.1 with the AlexNet backbone (Zhang et al.; METRICS.md §3), as DJL operations, so it is differentiable and
 * serves both as a metric and as Stage 1's perceptual loss. Weights: torchvision's AlexNet ({@code features.N.*}) and
 * the LPIPS linear heads ({@code lin0.model.1.weight} … {@code lin4}), read by name and checked by shape.
 *
 * <p>Forward: RGB in [0, 1] → {@code (2x − 1 − shift)/scale}; AlexNet taps relu1…relu5 (64, 192, 384, 256, 256
 * channels); each unit-normalised over channels (eps 1e-10); squared difference; 1×1 conv with the head (no bias);
 * spatial mean; sum over the five layers. Output {@code [N]}.
 */
public final class Lpips implements AutoCloseable {
    /** AlexNet conv layers: checkpoint index, out, in, kernel, stride, padding. */
    private static final int[][] CONVS = {
        {0, 64, 3, 11, 4, 2}, {3, 192, 64, 5, 1, 2}, {6, 384, 192, 3, 1, 1}, {8, 256, 384, 3, 1, 1},
        {10, 256, 256, 3, 1, 1},
    };
    static final int[] CHANNELS = {64, 192, 384, 256, 256};
    private static final float[] SHIFT = {-.030f, -.088f, -.188f};
    private static final float[] SCALE = {.458f, .448f, .450f};

    private final NDManager manager;
    private final Map<String, NDArray> weights;

    private Lpips(NDManager manager, Map<String, NDArray> weights) {
        this.manager = manager;
        this.weights = weights;
    }

    /** The names and shapes this network needs: the AlexNet ones from {@code backbone}, the heads from {@code heads}. */
    static Map<String, long[]> backboneShapes() {
        Map<String, long[]> m = new HashMap<>();
        for (int[] c : CONVS) {
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
    public static Lpips load(NDManager parent, TensorSource backbone, TensorSource heads) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray> w = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : backboneShapes().entrySet()) {
            put(m, w, backbone, e.getKey(), e.getKey(), e.getValue(), problems);
        }
        for (int k = 0; k < CHANNELS.length; k++) {
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
            put(m, w, heads, found, want, new long[] {1, CHANNELS[k], 1, 1}, problems);
        }
        if (!problems.isEmpty()) {
            m.close();
            throw new BadInputException("LPIPS weights: " + String.join("; ", problems));
        }
        return new Lpips(m, w);
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
            NDArray lin = Conv2d.conv2d(d, weights.get("lin" + k + ".model.1.weight"), null, new Shape(1, 1),
                    new Shape(0, 0), new Shape(1, 1), 1).singletonOrThrow();
            NDArray mean = lin.reshape(lin.getShape().get(0), -1).mean(new int[] {1});   // [N]
            total = total == null ? mean : total.add(mean);
        }
        return total;
    }

    private List<NDArray> taps(NDArray img) {
        NDManager m = img.getManager();
        NDArray shift = m.create(SHIFT, new Shape(1, 3, 1, 1)), scale = m.create(SCALE, new Shape(1, 3, 1, 1));
        NDArray h = img.mul(2).sub(1).sub(shift).div(scale);
        List<NDArray> out = new ArrayList<>();
        for (int i = 0; i < CONVS.length; i++) {
            if (i == 1 || i == 2) {
                h = Pool.maxPool2d(h, new Shape(3, 3), new Shape(2, 2), new Shape(0, 0), false);
            }
            int[] c = CONVS[i];
            NDArray wt = weights.get("features." + c[0] + ".weight"), b = weights.get("features." + c[0] + ".bias");
            h = Conv2d.conv2d(h, wt, b, new Shape(c[4], c[4]), new Shape(c[5], c[5]), new Shape(1, 1), 1)
                    .singletonOrThrow();
            h = Activation.relu(h);
            out.add(h);
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
