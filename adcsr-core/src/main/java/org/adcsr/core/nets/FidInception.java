package org.adcsr.core.nets;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.engine.Convolution;

/**
 * FID's InceptionV3 feature extractor (the pytorch-fid port that pyiqa uses; METRICS.md §3): torchvision's
 * InceptionV3 with the FID blocks (average pools that do not count padding in Mixed_5b…5d, 6b…6e and 7b; a max
 * pool in Mixed_7c's pool branch), up to the 2048-d global average pool. Input: NCHW, already resized to 299×299 and
 * scaled to [−1, 1]. Weights by the checkpoint's names ({@code Mixed_5b.branch1x1.conv.weight}, {@code .bn.*});
 * every conv is conv (no bias) + BatchNorm (eps 0.001) + ReLU.
 */
public final class FidInception implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, NDArray> w;

    private FidInception(NDManager manager, Map<String, NDArray> w) {
        this.manager = manager;
        this.w = w;
    }

    /** Every conv of the network: name → {out, in, kh, kw}. */
    static Map<String, int[]> convs() {
        Map<String, int[]> c = new LinkedHashMap<>();
        c.put("Conv2d_1a_3x3", new int[] {32, 3, 3, 3});
        c.put("Conv2d_2a_3x3", new int[] {32, 32, 3, 3});
        c.put("Conv2d_2b_3x3", new int[] {64, 32, 3, 3});
        c.put("Conv2d_3b_1x1", new int[] {80, 64, 1, 1});
        c.put("Conv2d_4a_3x3", new int[] {192, 80, 3, 3});
        blockA(c, "Mixed_5b", 192, 32);
        blockA(c, "Mixed_5c", 256, 64);
        blockA(c, "Mixed_5d", 288, 64);
        c.put("Mixed_6a.branch3x3", new int[] {384, 288, 3, 3});
        c.put("Mixed_6a.branch3x3dbl_1", new int[] {64, 288, 1, 1});
        c.put("Mixed_6a.branch3x3dbl_2", new int[] {96, 64, 3, 3});
        c.put("Mixed_6a.branch3x3dbl_3", new int[] {96, 96, 3, 3});
        blockC(c, "Mixed_6b", 128);
        blockC(c, "Mixed_6c", 160);
        blockC(c, "Mixed_6d", 160);
        blockC(c, "Mixed_6e", 192);
        c.put("Mixed_7a.branch3x3_1", new int[] {192, 768, 1, 1});
        c.put("Mixed_7a.branch3x3_2", new int[] {320, 192, 3, 3});
        c.put("Mixed_7a.branch7x7x3_1", new int[] {192, 768, 1, 1});
        c.put("Mixed_7a.branch7x7x3_2", new int[] {192, 192, 1, 7});
        c.put("Mixed_7a.branch7x7x3_3", new int[] {192, 192, 7, 1});
        c.put("Mixed_7a.branch7x7x3_4", new int[] {192, 192, 3, 3});
        blockE(c, "Mixed_7b", 1280);
        blockE(c, "Mixed_7c", 2048);
        return c;
    }

    private static void blockA(Map<String, int[]> c, String p, int in, int pool) {
        c.put(p + ".branch1x1", new int[] {64, in, 1, 1});
        c.put(p + ".branch5x5_1", new int[] {48, in, 1, 1});
        c.put(p + ".branch5x5_2", new int[] {64, 48, 5, 5});
        c.put(p + ".branch3x3dbl_1", new int[] {64, in, 1, 1});
        c.put(p + ".branch3x3dbl_2", new int[] {96, 64, 3, 3});
        c.put(p + ".branch3x3dbl_3", new int[] {96, 96, 3, 3});
        c.put(p + ".branch_pool", new int[] {pool, in, 1, 1});
    }

    private static void blockC(Map<String, int[]> c, String p, int c7) {
        c.put(p + ".branch1x1", new int[] {192, 768, 1, 1});
        c.put(p + ".branch7x7_1", new int[] {c7, 768, 1, 1});
        c.put(p + ".branch7x7_2", new int[] {c7, c7, 1, 7});
        c.put(p + ".branch7x7_3", new int[] {192, c7, 7, 1});
        c.put(p + ".branch7x7dbl_1", new int[] {c7, 768, 1, 1});
        c.put(p + ".branch7x7dbl_2", new int[] {c7, c7, 7, 1});
        c.put(p + ".branch7x7dbl_3", new int[] {c7, c7, 1, 7});
        c.put(p + ".branch7x7dbl_4", new int[] {c7, c7, 7, 1});
        c.put(p + ".branch7x7dbl_5", new int[] {192, c7, 1, 7});
        c.put(p + ".branch_pool", new int[] {192, 768, 1, 1});
    }

    private static void blockE(Map<String, int[]> c, String p, int in) {
        c.put(p + ".branch1x1", new int[] {320, in, 1, 1});
        c.put(p + ".branch3x3_1", new int[] {384, in, 1, 1});
        c.put(p + ".branch3x3_2a", new int[] {384, 384, 1, 3});
        c.put(p + ".branch3x3_2b", new int[] {384, 384, 3, 1});
        c.put(p + ".branch3x3dbl_1", new int[] {448, in, 1, 1});
        c.put(p + ".branch3x3dbl_2", new int[] {384, 448, 3, 3});
        c.put(p + ".branch3x3dbl_3a", new int[] {384, 384, 1, 3});
        c.put(p + ".branch3x3dbl_3b", new int[] {384, 384, 3, 1});
        c.put(p + ".branch_pool", new int[] {192, in, 1, 1});
    }

    /** Every tensor the network reads, with its shape. */
    static Map<String, long[]> shapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : convs().entrySet()) {
            int[] v = e.getValue();
            s.put(e.getKey() + ".conv.weight", new long[] {v[0], v[1], v[2], v[3]});
            for (String b : new String[] {"weight", "bias", "running_mean", "running_var"}) {
                s.put(e.getKey() + ".bn." + b, new long[] {v[0]});
            }
        }
        return s;
    }

    /** Loads every tensor from {@code src} (e.g. pt_inception-2015-12-05-6726825d.pth); all problems in one message. */
    public static FidInception load(NDManager parent, TensorSource src) {
        NDManager m = parent.newSubManager();
        Map<String, NDArray> w = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : shapes().entrySet()) {
            TensorInfo info = src.info(e.getKey());
            if (info == null) {
                problems.add("missing " + e.getKey());
            } else if (!java.util.Arrays.equals(info.shape(), e.getValue())) {
                problems.add(e.getKey() + " is " + info.shapeString());
            } else {
                w.put(e.getKey(), m.create(src.readFloats(e.getKey()), new Shape(e.getValue())));
            }
        }
        if (!problems.isEmpty()) {
            m.close();
            int n = problems.size();
            throw new BadInputException(src.path() + ": FID InceptionV3 weights: "
                    + String.join("; ", problems.subList(0, Math.min(5, n))) + (n > 5 ? " (and " + (n - 5) + " more)" : ""));
        }
        return new FidInception(m, w);
    }

    /** Pool3 features {@code [N, 2048]} of images already at 299×299 in [−1, 1]. */
    public NDArray features(NDArray x) {
        x = conv(x, "Conv2d_1a_3x3", 2, 0, 0);
        x = conv(x, "Conv2d_2a_3x3", 1, 0, 0);
        x = conv(x, "Conv2d_2b_3x3", 1, 1, 1);
        x = maxPool(x, 3, 2, 0);
        x = conv(x, "Conv2d_3b_1x1", 1, 0, 0);
        x = conv(x, "Conv2d_4a_3x3", 1, 0, 0);
        x = maxPool(x, 3, 2, 0);
        x = blockA(x, "Mixed_5b");
        x = blockA(x, "Mixed_5c");
        x = blockA(x, "Mixed_5d");
        x = blockB(x, "Mixed_6a");
        x = blockC(x, "Mixed_6b");
        x = blockC(x, "Mixed_6c");
        x = blockC(x, "Mixed_6d");
        x = blockC(x, "Mixed_6e");
        x = blockD(x, "Mixed_7a");
        x = blockE(x, "Mixed_7b", false);
        x = blockE(x, "Mixed_7c", true);
        Shape s = x.getShape();
        return x.reshape(s.get(0), s.get(1), -1).mean(new int[] {2});
    }

    private NDArray conv(NDArray x, String name, int stride, int padH, int padW) {
        NDArray y = Convolution.conv2d(x, w.get(name + ".conv.weight"), null, stride, padH, padW, 1);
        y = BatchNorm.batchNorm(y, w.get(name + ".bn.running_mean"), w.get(name + ".bn.running_var"),
                w.get(name + ".bn.weight"), w.get(name + ".bn.bias"), 1, 0.1f, 0.001f, false).singletonOrThrow();
        return Activation.relu(y);
    }

    private static NDArray maxPool(NDArray x, int k, int s, int p) {
        return Pool.maxPool2d(x, new Shape(k, k), new Shape(s, s), new Shape(p, p), false);
    }

    /**
     * 3×3 average pool, stride 1, padding 1, padding not counted (FID blocks): a depthwise sum over the window divided
     * by the number of pixels inside the image (DJL's avgPool2d flag for this had no effect in our tests).
     */
    private static NDArray avgPool3(NDArray x) {
        NDManager m = x.getManager();
        Shape s = x.getShape();
        int c = (int) s.get(1);
        NDArray ones = m.ones(new Shape(c, 1, 3, 3));
        NDArray sum = Convolution.conv2d(x, ones, null, 1, 1, 1, c);
        NDArray count = Convolution.conv2d(m.ones(new Shape(1, 1, s.get(2), s.get(3))), m.ones(new Shape(1, 1, 3, 3)),
                null, 1, 1, 1, 1);
        return sum.div(count);
    }

    private static NDArray cat(NDArray... parts) {
        return NDArrays.concat(new NDList(parts), 1);
    }

    private NDArray blockA(NDArray x, String p) {
        NDArray b1 = conv(x, p + ".branch1x1", 1, 0, 0);
        NDArray b5 = conv(conv(x, p + ".branch5x5_1", 1, 0, 0), p + ".branch5x5_2", 1, 2, 2);
        NDArray b3 = conv(conv(conv(x, p + ".branch3x3dbl_1", 1, 0, 0), p + ".branch3x3dbl_2", 1, 1, 1),
                p + ".branch3x3dbl_3", 1, 1, 1);
        NDArray bp = conv(avgPool3(x), p + ".branch_pool", 1, 0, 0);
        return cat(b1, b5, b3, bp);
    }

    private NDArray blockB(NDArray x, String p) {
        NDArray b3 = conv(x, p + ".branch3x3", 2, 0, 0);
        NDArray bd = conv(conv(conv(x, p + ".branch3x3dbl_1", 1, 0, 0), p + ".branch3x3dbl_2", 1, 1, 1),
                p + ".branch3x3dbl_3", 2, 0, 0);
        return cat(b3, bd, maxPool(x, 3, 2, 0));
    }

    private NDArray blockC(NDArray x, String p) {
        NDArray b1 = conv(x, p + ".branch1x1", 1, 0, 0);
        NDArray b7 = conv(conv(conv(x, p + ".branch7x7_1", 1, 0, 0), p + ".branch7x7_2", 1, 0, 3),
                p + ".branch7x7_3", 1, 3, 0);
        NDArray bd = conv(x, p + ".branch7x7dbl_1", 1, 0, 0);
        bd = conv(bd, p + ".branch7x7dbl_2", 1, 3, 0);
        bd = conv(bd, p + ".branch7x7dbl_3", 1, 0, 3);
        bd = conv(bd, p + ".branch7x7dbl_4", 1, 3, 0);
        bd = conv(bd, p + ".branch7x7dbl_5", 1, 0, 3);
        NDArray bp = conv(avgPool3(x), p + ".branch_pool", 1, 0, 0);
        return cat(b1, b7, bd, bp);
    }

    private NDArray blockD(NDArray x, String p) {
        NDArray b3 = conv(conv(x, p + ".branch3x3_1", 1, 0, 0), p + ".branch3x3_2", 2, 0, 0);
        NDArray b7 = conv(x, p + ".branch7x7x3_1", 1, 0, 0);
        b7 = conv(b7, p + ".branch7x7x3_2", 1, 0, 3);
        b7 = conv(b7, p + ".branch7x7x3_3", 1, 3, 0);
        b7 = conv(b7, p + ".branch7x7x3_4", 2, 0, 0);
        return cat(b3, b7, maxPool(x, 3, 2, 0));
    }

    private NDArray blockE(NDArray x, String p, boolean maxPoolBranch) {
        NDArray b1 = conv(x, p + ".branch1x1", 1, 0, 0);
        NDArray b3 = conv(x, p + ".branch3x3_1", 1, 0, 0);
        b3 = cat(conv(b3, p + ".branch3x3_2a", 1, 0, 1), conv(b3, p + ".branch3x3_2b", 1, 1, 0));
        NDArray bd = conv(conv(x, p + ".branch3x3dbl_1", 1, 0, 0), p + ".branch3x3dbl_2", 1, 1, 1);
        bd = cat(conv(bd, p + ".branch3x3dbl_3a", 1, 0, 1), conv(bd, p + ".branch3x3dbl_3b", 1, 1, 0));
        NDArray pool = maxPoolBranch ? maxPool(x, 3, 1, 1) : avgPool3(x);
        NDArray bp = conv(pool, p + ".branch_pool", 1, 0, 0);
        return cat(b1, b3, bd, bp);
    }

    @Override
    public void close() {
        manager.close();
    }
}
