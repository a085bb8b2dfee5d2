// The engine issue, measured: which float32 convolutions libtorch 2.7.1 (oneDNN 3.7.1) gets wrong on this machine,
// forward and backward, and what the work-around (Convolution's padded mode, gradients without oneDNN) costs.
// Run from the repository root after the build:  java -cp 'lib/*' bench/EngineBench.java [repro|speed|all] [threads]
// (bench/engine.sh runs it with the launchers' malloc settings). Everything is compared with plain-Java float64
// (EngineCheck's reference), so the figures do not depend on libtorch's own float64 path.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Locale;
import org.adcsr.core.Engines;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.engine.EngineCheck;
import org.adcsr.core.engine.LibTorchSwitches;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;

public class EngineBench {
    public static void main(String[] args) throws Exception {
        String part = args.length > 0 ? args[0] : "all";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        System.out.println("# " + EngineCheck.ensure().summary());
        try (NDManager m = engine.newBaseManager()) {
            if (part.equals("repro") || part.equals("all")) {
                repro(m);
            }
            if (part.equals("speed") || part.equals("all")) {
                speed(m, threads);
            }
        }
    }

    /** The table and more: relative error of native float32 forward and input/weight gradients. */
    static void repro(NDManager parent) {
        System.out.println("== repro: libtorch's own conv2d (native), 3x3 unless said, padding 1, float32 vs float64"
                + " Java; relative error max|d|/max(1,max|ref|), inf = NaN");
        System.out.println("batch,in,out,input,kernel,stride,forward,input_grad,weight_grad,"
                + "forward_padded,input_grad_without_onednn");
        int[][] cases = {
            {1, 24, 24, 8, 12, 3, 1}, {2, 16, 24, 8, 12, 3, 1}, {2, 12, 24, 8, 12, 3, 1}, {2, 48, 24, 8, 12, 3, 1},
            {2, 240, 24, 8, 12, 3, 1}, {2, 24, 24, 8, 12, 3, 1}, {4, 24, 24, 8, 12, 3, 1}, {8, 24, 24, 8, 12, 3, 1},
            {2, 40, 24, 8, 12, 3, 1}, {2, 17, 24, 8, 12, 3, 1}, {2, 24, 24, 8, 12, 1, 1}, {1, 24, 24, 64, 64, 3, 1},
            {1, 40, 24, 64, 64, 3, 1}, {2, 16, 8, 8, 12, 3, 1}, {2, 32, 3, 8, 12, 3, 1}, {2, 48, 16, 16, 16, 3, 2},
            {2, 64, 16, 16, 16, 3, 2}, {2, 8, 8, 8, 12, 3, 1}, {2, 3, 16, 8, 12, 3, 1},
        };
        long seed = 100;
        for (int[] c : cases) {
            int k = c[5];
            EngineCheck.ConvProbe p = new EngineCheck.ConvProbe(c[0], c[1], c[2], c[3], c[4], k, k, c[6], k / 2,
                    k / 2, 1);
            EngineCheck.ConvReference ref = new EngineCheck.ConvReference(p, seed++);
            double[] nat = errors(parent, p, ref, Convolution.Mode.NATIVE, true);
            double[] pad = errors(parent, p, ref, Convolution.Mode.PADDED, false);
            System.out.printf(Locale.ROOT, "%d,%d,%d,%dx%d,%dx%d,%d,%.3g,%.3g,%.3g,%.3g,%.3g%n", c[0], c[1], c[2],
                    c[3], c[4], k, k, c[6], nat[0], nat[1], nat[2], pad[0], pad[1]);
        }
    }

    /** Forward, input-gradient and weight-gradient errors of one probe in one mode, oneDNN on or off in backward. */
    static double[] errors(NDManager parent, EngineCheck.ConvProbe p, EngineCheck.ConvReference ref,
            Convolution.Mode mode, boolean oneDnnBackward) {
        try (NDManager m = parent.newSubManager()) {
            NDArray x = m.create(floats(ref.x), new Shape(p.b(), p.c(), p.h(), p.w()));
            NDArray w = m.create(floats(ref.w), new Shape(p.out(), p.c(), p.kh(), p.kw()));
            NDArray g = m.create(floats(ref.g), new Shape(p.b(), p.out(), p.ho(), p.wo()));
            x.setRequiresGradient(true);
            w.setRequiresGradient(true);
            double fwd;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = Convolution.conv2d(mode, x, w, m.create(floats(ref.bias)), p.stride(), p.padH(),
                        p.padW(), 1);
                fwd = EngineCheck.error(y.toFloatArray(), ref.y);
                LibTorchSwitches.setOneDnn(oneDnnBackward);
                try {
                    gc.backward(y.mul(g).sum());
                } finally {
                    LibTorchSwitches.setOneDnn(true);
                }
            }
            return new double[] {fwd, EngineCheck.error(x.getGradient().toFloatArray(), ref.dx),
                EngineCheck.error(w.getGradient().toFloatArray(), ref.dw)};
        }
    }

    static void speed(NDManager parent, int threads) {
        System.out.println("== speed, " + threads + " threads: milliseconds per call, best of 5 after 2 warm-ups");
        System.out.println("what,native,padded,gemm");
        int[][] shapes = { // batch, in, out, size
            {1, 320, 320, 64}, {1, 240, 240, 64}, {1, 12, 240, 64}, {1, 128, 128, 256}, {1, 64, 64, 512},
            {2, 24, 24, 64}, {2, 40, 40, 64}, {8, 24, 24, 32},
        };
        for (int[] s : shapes) {
            try (NDManager m = parent.newSubManager()) {
                NDArray x = m.randomUniform(-1, 1, new Shape(s[0], s[1], s[3], s[3]));
                NDArray w = m.randomUniform(-0.05f, 0.05f, new Shape(s[2], s[1], 3, 3));
                NDArray b = m.zeros(new Shape(s[2]));
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "conv3x3 %dx%d->%d at %dx%d", s[0],
                        s[1], s[2], s[3], s[3]));
                for (Convolution.Mode mode : Convolution.Mode.values()) {
                    row.append(String.format(Locale.ROOT, ",%.2f", best(() -> Convolution.conv2d(mode, x, w, b, 1, 1,
                            1, 1).close())));
                }
                System.out.println(row);
            }
        }
        // the paper's network on one 128x128 tile: the cost of the padded mode where it matters (conv_in's 12
        // channels are padded to 16; every other width is a multiple of 16)
        AdcsrConfig paper = AdcsrConfig.paper();
        try (NDManager m = parent.newSubManager(); AdcsrModel model = AdcsrModel.random(paper, 1, m, DataType.FLOAT32)) {
            NDArray lr = m.randomUniform(-1, 1, new Shape(1, 3, 128, 128));
            StringBuilder row = new StringBuilder("paper network forward 128x128 (s)");
            for (Convolution.Mode mode : new Convolution.Mode[] {Convolution.Mode.NATIVE, Convolution.Mode.PADDED}) {
                System.setProperty(EngineCheck.FORCE_CONVOLUTION, mode.name());
                EngineCheck.reset();
                row.append(String.format(Locale.ROOT, ",%.2f", bestOf(3, () -> model.forward(lr).close()) / 1000));
            }
            System.clearProperty(EngineCheck.FORCE_CONVOLUTION);
            EngineCheck.reset();
            System.out.println(row + ",");
        }
        // a training step (forward + backward of every parameter) on the tiny config, batch 4 of 64x64 LR, with
        // libtorch's backward as it is (oneDNN, wrong here) and without oneDNN (what Autograd does here)
        System.out.println("what,gradients_native,gradients_without_onednn");
        for (AdcsrConfig c : new AdcsrConfig[] {AdcsrConfig.tiny(), wider()}) {
            try (NDManager m = parent.newSubManager(); AdcsrModel model = AdcsrModel.random(c, 1, m, DataType.FLOAT32)) {
                model.parameters().values().forEach(p -> p.setRequiresGradient(true));
                NDArray lr = m.randomUniform(-1, 1, new Shape(4, 3, 64, 64));
                StringBuilder row = new StringBuilder("training step " + c.name() + " config, batch 4x64x64 (ms)");
                for (boolean oneDnn : new boolean[] {true, false}) {
                    row.append(String.format(Locale.ROOT, ",%.0f", bestOf(3, () -> {
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray loss = model.forward(lr).square().mean();
                            LibTorchSwitches.setOneDnn(oneDnn);
                            try {
                                gc.backward(loss);
                            } finally {
                                LibTorchSwitches.setOneDnn(true);
                            }
                        }
                    })));
                }
                System.out.println(row);
            }
        }
    }

    /** A config 4x the tiny one's widths: the size of a small trainable model. */
    static AdcsrConfig wider() {
        return new AdcsrConfig("wider", 12, new int[] {32, 64, 128, 128}, new int[] {2, 2, 4, 4}, 2,
                new boolean[] {true, true, true, false}, 64, new int[] {32, 32, 64, 64}, 2, 8);
    }

    static double best(Runnable r) {
        return bestOf(5, r);
    }

    /** Best wall time in milliseconds of {@code n} runs after two warm-ups. */
    static double bestOf(int n, Runnable r) {
        r.run();
        r.run();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return best;
    }

    static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
