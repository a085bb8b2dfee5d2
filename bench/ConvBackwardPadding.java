import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.Random;
import org.adcsr.core.engine.LibTorchSwitches;

/**
 * A diagnosis for a faster training backward (README, adcsr-train-vae speed): libtorch's oneDNN convolution
 * gradients, which the suite switches off for every backward pass (README "Known engine issues"), compared with the
 * trusted gradients computed without oneDNN — once as they are, once with the input channels and the output
 * channels zero-padded to a multiple of 16 (the input as Convolution's PADDED mode does, the output by zero filters
 * whose results are cut off) — and the time of one forward and backward of paper-size layers both ways. Raw
 * libtorch on purpose (this measures the engine, not the suite's convolution); not used by any tool.
 *
 *   java -cp 'lib/*' bench/ConvBackwardPadding.java [errors|speed|all] THREADS
 */
public class ConvBackwardPadding {
    static final int[][] PROBES = { // batch, in, out, h, w, kernel, stride, padding
        {2, 24, 24, 8, 12, 3, 1, 1}, {2, 16, 8, 8, 12, 3, 1, 1}, {2, 48, 16, 8, 8, 3, 2, 1},
        {1, 16, 24, 40, 40, 3, 1, 1}, {2, 48, 24, 6, 6, 1, 1, 0}, {4, 64, 3, 64, 64, 3, 1, 1},
        {4, 256, 4, 16, 16, 3, 1, 1}, {4, 8, 8, 32, 32, 3, 1, 1}, {4, 16, 32, 33, 33, 4, 2, 1},
        {4, 64, 64, 32, 32, 3, 2, 1}, {4, 128, 1, 16, 16, 4, 1, 1}};
    static final int[][] SPEED = {{4, 64, 64, 256, 256, 3, 1, 1}, {4, 128, 128, 128, 128, 3, 1, 1},
        {4, 256, 256, 64, 64, 3, 1, 1}};

    static long padded(long c, boolean outputs) {
        return !outputs && c <= 8 ? c : (c + 15) / 16 * 16;
    }

    static float[] values(Random r, long n) {
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    /** Gradients of sum(conv(x, w, b) · g) for x, w and b. */
    static float[][] gradients(NDManager parent, float[][] v, int[] q, boolean pad, boolean oneDnn) {
        int b = q[0], c = q[1], o = q[2], h = q[3], w = q[4], k = q[5], s = q[6], p = q[7];
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(v[0], new Shape(b, c, h, w));
            NDArray wt = m.create(v[1], new Shape(o, c, k, k));
            NDArray bias = m.create(v[2], new Shape(o));
            for (NDArray a : new NDArray[] {x, wt, bias}) {
                a.setRequiresGradient(true);
            }
            long cp = pad ? padded(c, false) : c;
            long op = pad ? padded(o, true) : o;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray xp = cp == c ? x : NDArrays.concat(new NDList(x, m.zeros(new Shape(b, cp - c, h, w))), 1);
                NDArray wp = cp == c ? wt : NDArrays.concat(new NDList(wt, m.zeros(new Shape(o, cp - c, k, k))), 1);
                NDArray bp = bias;
                if (op != o) {
                    wp = NDArrays.concat(new NDList(wp, m.zeros(new Shape(op - o, cp, k, k))), 0);
                    bp = NDArrays.concat(new NDList(bias, m.zeros(new Shape(op - o))), 0);
                }
                NDArray y = Conv2d.conv2d(xp, wp, bp, new Shape(s, s), new Shape(p, p), new Shape(1, 1), 1)
                        .singletonOrThrow();
                if (op != o) {
                    y = y.get(new NDIndex(":, :{}", o));
                }
                NDArray loss = y.mul(m.create(v[3], y.getShape())).sum();
                LibTorchSwitches.setOneDnn(oneDnn);
                try {
                    gc.backward(loss);
                } finally {
                    LibTorchSwitches.setOneDnn(true);
                }
            }
            return new float[][] {x.getGradient().toFloatArray(), wt.getGradient().toFloatArray(),
                bias.getGradient().toFloatArray()};
        }
    }

    static float[][] inputs(Random r, int[] q) {
        int ho = (q[3] + 2 * q[7] - q[5]) / q[6] + 1;
        int wo = (q[4] + 2 * q[7] - q[5]) / q[6] + 1;
        return new float[][] {values(r, (long) q[0] * q[1] * q[3] * q[4]), values(r, (long) q[2] * q[1] * q[5] * q[5]),
            values(r, q[2]), values(r, (long) q[0] * q[2] * ho * wo)};
    }

    static double worst(float[][] ref, float[][] got) {
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                double d = Math.abs(ref[i][j] - got[i][j]) / (1 + Math.abs(ref[i][j]));
                worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
            }
        }
        return worst;
    }

    public static void main(String[] a) {
        String what = a.length > 0 ? a[0] : "all";
        org.adcsr.core.Engines.configure(a.length > 1 ? Integer.valueOf(a[1]) : null); // offline, threads
        try (NDManager m = NDManager.newBaseManager()) {
            Random r = new Random(1);
            if (!what.equals("speed")) {
                System.out.println("probe (batch, in, out, h, w, k, stride, pad),onednn_rel_error,"
                        + "onednn_padded_rel_error");
                for (int[] q : PROBES) {
                    float[][] v = inputs(r, q);
                    float[][] ref = gradients(m, v, q, false, false);
                    System.out.printf("%s,%.3g,%.3g%n", Arrays.toString(q).replace(",", ""),
                            worst(ref, gradients(m, v, q, false, true)), worst(ref, gradients(m, v, q, true, true)));
                }
            }
            if (!what.equals("errors")) {
                System.out.println("layer (batch, in, out, h, w, k, stride, pad),without_onednn_s,onednn_padded_s");
                for (int[] q : SPEED) {
                    float[][] v = inputs(r, q);
                    double[] best = {Double.MAX_VALUE, Double.MAX_VALUE};
                    for (int rep = 0; rep < 3; rep++) {
                        for (int mode = 0; mode < 2; mode++) {
                            long t0 = System.nanoTime();
                            gradients(m, v, q, mode == 1, mode == 1);
                            best[mode] = Math.min(best[mode], (System.nanoTime() - t0) / 1e9);
                        }
                    }
                    System.out.printf("%s,%.2f,%.2f%n", Arrays.toString(q).replace(",", ""), best[0], best[1]);
                }
            }
        }
    }
}
