package org.adcsr.core.engine;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.adcsr.core.Engines;

/**
 * The engine's self-check: before the first convolution of a process, small float32 convolutions (forward and
 * backward) and the other ops the networks use (linear, batched matmul, softmax, layer norm, GELU) are computed by
 * libtorch and compared with plain-Java float64 arithmetic written out below. It takes a few tens of milliseconds.
 *
 * <p>The probe shapes are the ones that go wrong on the affected machines (README "Known engine issues"): batch 2,
 * input channels 24, 40, 12 and 48, 3×3, 1×7 and 1×1 kernels, stride 2, depthwise, and a batch-1 input large enough
 * for libtorch to hand it to oneDNN. From the results it picks:
 * <ul>
 *   <li>the forward {@link Convolution.Mode}: the first of native, padded, gemm that gets every forward probe
 *       right;</li>
 *   <li>the {@link Backward} mode: libtorch's backward as it is, then with every convolution recorded for autograd in
 *       the training layout (narrow ones channels-last, then all padded), then with oneDNN switched off while
 *       gradients are computed ({@link LibTorchSwitches}), whichever gets every gradient probe right first.</li>
 * </ul>
 * When no forward mode passes, or an op other than convolution is wrong, {@link #ensure} throws
 * {@link EngineFaultException}: nothing is computed on a broken engine. When no backward mode passes, inference still
 * runs and {@link Autograd#backward} refuses.
 */
public final class EngineCheck {
    /** How gradients are computed. */
    public enum Backward {
        /** libtorch's backward as it is. */
        NATIVE,
        /**
         * {@link #PADDED}, except that convolutions with {@value Convolution#NARROW} channels or fewer on a side
         * (input or output) run in channels-last memory format, whose oneDNN kernels never pad channels into blocks
         * ({@link FusedOps#convChannelsLast}): several times as fast as padding them.
         */
        CHANNELS_LAST,
        /**
         * libtorch's backward with oneDNN, every convolution recorded for autograd run in {@link Convolution}'s training
         * layout (channels zero-padded to a multiple of 16 on both sides; strided and grouped ones as im2col and a
         * matrix product): about twice as fast as {@link #WITHOUT_ONEDNN} on the decoder's layers.
         */
        PADDED,
        /** libtorch's backward with oneDNN switched off for its duration (libtorch's own im2col + BLAS kernels). */
        WITHOUT_ONEDNN,
        /** Neither gets the probes right: training refuses to run. */
        NONE;

        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * What the check found and chose.
     *
     * @param forward the convolution mode every forward uses
     * @param backward how gradients are computed
     * @param findings one line per failed probe or mode (empty on a machine without the bug)
     * @param millis how long the check took
     */
    public record Result(Convolution.Mode forward, Backward backward, List<String> findings, long millis) {
        /** One line for {@code -v} and reports. */
        public String summary() {
            return "engine self-check: convolution " + forward.label() + ", gradients " + backward.label()
                    + (findings.isEmpty() ? " (libtorch correct as it is)" : " (" + findings.get(0)
                            + (findings.size() > 1 ? "; " + (findings.size() - 1) + " more" : "") + ")")
                    + String.format(Locale.ROOT, ", %d ms", millis);
        }
    }

    /**
     * System properties that override the choice, for benchmarks and for showing what the work-around prevents
     * ({@code -Dadcsr.convolution=native} reproduces the wrong numbers on an affected machine); never for real work.
     */
    public static final String FORCE_CONVOLUTION = "adcsr.convolution";
    public static final String FORCE_GRADIENTS = "adcsr.gradients";

    /** Relative tolerance: float32 sums of a few hundred terms are good to about 1e-6; the faults are of order 1. */
    static final double TOLERANCE = 1e-4;

    private static volatile Result result;

    private EngineCheck() {}

    /** The check's result, running it on first use (once per process). */
    public static Result ensure() {
        Result r = result;
        if (r == null) {
            synchronized (EngineCheck.class) {
                r = result;
                if (r == null) {
                    r = run();
                    result = r;
                }
            }
        }
        if (r.findings().stream().anyMatch(f -> f.startsWith(FATAL))) {
            throw new EngineFaultException(r.findings().stream().filter(f -> f.startsWith(FATAL)).findFirst()
                    .get().substring(FATAL.length()));
        }
        return r;
    }

    /**
     * Forgets the result so that the next {@link #ensure} checks again: for tests that install a fault and for
     * benchmarks that force a mode ({@link #FORCE_CONVOLUTION}).
     */
    public static synchronized void reset() {
        result = null;
    }

    private static final String FATAL = "fatal: ";

    /** Runs every probe and chooses the modes. */
    static Result run() {
        Convolution.trainingLayout = false;
        Engines.configure(null);
        Engine.getEngine(Engines.ENGINE); // loads libtorch
        long t0 = System.nanoTime();
        LibTorchSwitches.quietWarnings();
        List<String> findings = new ArrayList<>();
        try (NDManager m = NDManager.newBaseManager()) {
            String other = otherOps(m);
            if (other != null) {
                findings.add(FATAL + other);
            }
            Convolution.Mode forward = null;
            for (Convolution.Mode mode : Convolution.Mode.values()) {
                String bad = forwardProbes(m, mode);
                if (bad == null) {
                    forward = mode;
                    break;
                }
                findings.add(mode.label() + " convolution: " + bad);
            }
            Backward backward = Backward.NONE;
            if (forward == null) {
                findings.add(FATAL + "libtorch's float32 convolution is wrong on this machine in every mode ("
                        + findings.get(findings.size() - 1) + "); see README \"Known engine issues\"");
                forward = Convolution.Mode.GEMM;
            } else {
                String bad = backwardProbes(m, forward);
                if (bad == null) {
                    backward = Backward.NATIVE;
                } else {
                    findings.add("native gradients: " + bad);
                    backward = workAround(m, forward, findings);
                }
            }
            String forced = System.getProperty(FORCE_CONVOLUTION);
            if (forced != null) {
                forward = Convolution.Mode.valueOf(forced.toUpperCase(Locale.ROOT));
                findings.add(0, "convolution forced to " + forward.label() + " by -D" + FORCE_CONVOLUTION
                        + " (diagnosis only)");
            }
            forced = System.getProperty(FORCE_GRADIENTS);
            if (forced != null) {
                backward = Backward.valueOf(forced.toUpperCase(Locale.ROOT).replace('-', '_'));
                findings.add(0, "gradients forced to " + backward.label() + " by -D" + FORCE_GRADIENTS
                        + " (diagnosis only)");
            }
            Convolution.trainingLayout = backward == Backward.PADDED || backward == Backward.CHANNELS_LAST;
            Convolution.channelsLast = backward == Backward.CHANNELS_LAST;
            return new Result(forward, backward, List.copyOf(findings), (System.nanoTime() - t0) / 1_000_000);
        }
    }

    // ---- probes ---------------------------------------------------------------------------------------------

    /** A convolution problem: batch, channels in and out, input size, kernel, stride, padding, groups. */
    public record ConvProbe(int b, int c, int out, int h, int w, int kh, int kw, int stride, int padH, int padW, int groups) {
        public String describe() {
            return String.format(Locale.ROOT, "%d×%d→%d %dx%d input %dx%d stride %d%s", b, c, out, kh, kw, h, w,
                    stride, groups > 1 ? " groups " + groups : "");
        }

        public int ho() {
            return (h + 2 * padH - kh) / stride + 1;
        }

        public int wo() {
            return (w + 2 * padW - kw) / stride + 1;
        }
    }

    static final List<ConvProbe> FORWARD = List.of(
            new ConvProbe(2, 24, 24, 8, 12, 3, 3, 1, 1, 1, 1), // the first case seen: padded blocked layout
            new ConvProbe(2, 40, 16, 7, 9, 3, 3, 2, 1, 1, 1), // a downsampler
            new ConvProbe(1, 24, 8, 40, 40, 3, 3, 1, 1, 1, 1), // batch 1, large enough for oneDNN
            new ConvProbe(2, 12, 8, 6, 6, 3, 3, 1, 1, 1, 1), // oneDNN capped at AVX2 (8-channel blocks)
            new ConvProbe(2, 48, 24, 6, 6, 1, 1, 1, 0, 0, 1), // 1x1 shortcut
            new ConvProbe(2, 3, 16, 9, 9, 3, 3, 1, 1, 1, 1), // RGB input
            new ConvProbe(2, 32, 32, 6, 6, 3, 3, 1, 1, 1, 1), // aligned channels
            new ConvProbe(2, 24, 16, 7, 7, 1, 7, 1, 0, 3, 1), // Inception's 1x7
            new ConvProbe(2, 24, 24, 9, 9, 3, 3, 2, 1, 1, 24)); // depthwise (DISTS' L2 pooling)

    static final List<ConvProbe> BACKWARD = List.of(
            new ConvProbe(2, 24, 24, 8, 12, 3, 3, 1, 1, 1, 1),
            new ConvProbe(2, 16, 8, 8, 12, 3, 3, 1, 1, 1, 1), // 8 output channels: backward data pads them
            new ConvProbe(2, 8, 8, 8, 12, 3, 3, 1, 1, 1, 1), // 8 in and out: the training layout pads the output only
            new ConvProbe(2, 3, 8, 9, 9, 3, 3, 1, 1, 1, 1), // RGB input, unpadded in the training layout
            new ConvProbe(2, 48, 16, 8, 8, 3, 3, 2, 1, 1, 1), // stride 2
            new ConvProbe(1, 16, 24, 40, 40, 3, 3, 1, 1, 1, 1), // batch 1 through oneDNN
            new ConvProbe(2, 48, 24, 6, 6, 1, 1, 1, 0, 0, 1),
            new ConvProbe(2, 24, 24, 9, 9, 3, 3, 2, 1, 1, 24),
            new ConvProbe(2, 12, 40, 7, 9, 3, 3, 1, 1, 1, 1), // narrow input, wide unaligned output: channels-last
            new ConvProbe(2, 8, 16, 10, 10, 4, 4, 2, 1, 1, 1)); // the PatchGAN's 4x4 stride 2, channels-last

    /** Deterministic values in [-1, 1): the same on every machine, nothing from libtorch's generator. */
    static double[] values(int n, long seed) {
        double[] v = new double[n];
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            v[i] = ((s >>> 11) * 0x1.0p-53) * 2 - 1;
        }
        return v;
    }

    private static float[] floats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    /** Rounded to float32, so that the float64 reference sees exactly the inputs libtorch sees. */
    private static double[] rounded(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = (float) v[i];
        }
        return r;
    }

    /**
     * The float64 reference of a probe, in plain Java loops: output, and the gradients of sum(y·g) for x, weight and
     * bias. Public for {@code bench/EngineBench.java}.
     */
    public static final class ConvReference {
        public final double[] x;
        public final double[] w;
        public final double[] bias;
        public final double[] g;
        public final double[] y;
        public final double[] dx;
        public final double[] dw;
        public final double[] db;

        /** The probe on deterministic values (rounded to float32) drawn from {@code seed}. */
        public ConvReference(ConvProbe p, long seed) {
            this(p, rounded(values(p.b() * p.c() * p.h() * p.w(), seed)),
                    rounded(values(p.out() * (p.c() / p.groups()) * p.kh() * p.kw(), seed + 1)),
                    rounded(values(p.out(), seed + 2)), rounded(values(p.b() * p.out() * p.ho() * p.wo(), seed + 3)));
        }

        /** The probe on given NCHW input, (out, in/groups, kh, kw) weights, bias and output gradient g. */
        public ConvReference(ConvProbe p, double[] x, double[] w, double[] bias, double[] g) {
            this.x = x;
            this.w = w;
            this.bias = bias;
            this.g = g;
            int cg = p.c() / p.groups();
            int og = p.out() / p.groups();
            int ho = p.ho();
            int wo = p.wo();
            y = new double[g.length];
            dx = new double[x.length];
            dw = new double[w.length];
            db = new double[bias.length];
            for (int n = 0; n < p.b(); n++) {
                for (int o = 0; o < p.out(); o++) {
                    int grp = o / og;
                    for (int oy = 0; oy < ho; oy++) {
                        for (int ox = 0; ox < wo; ox++) {
                            int yi = ((n * p.out() + o) * ho + oy) * wo + ox;
                            double sum = bias[o];
                            double gv = g[yi];
                            db[o] += gv;
                            for (int ci = 0; ci < cg; ci++) {
                                int c = grp * cg + ci;
                                for (int ky = 0; ky < p.kh(); ky++) {
                                    int iy = oy * p.stride() - p.padH() + ky;
                                    if (iy < 0 || iy >= p.h()) {
                                        continue;
                                    }
                                    for (int kx = 0; kx < p.kw(); kx++) {
                                        int ix = ox * p.stride() - p.padW() + kx;
                                        if (ix < 0 || ix >= p.w()) {
                                            continue;
                                        }
                                        int xi = ((n * p.c() + c) * p.h() + iy) * p.w() + ix;
                                        int wi = ((o * cg + ci) * p.kh() + ky) * p.kw() + kx;
                                        sum += x[xi] * w[wi];
                                        dx[xi] += gv * w[wi];
                                        dw[wi] += gv * x[xi];
                                    }
                                }
                            }
                            y[yi] = sum;
                        }
                    }
                }
            }
        }
    }

    /** max |a − b| / max(1, max |b|), NaN-aware (NaN anywhere gives infinity). */
    public static double error(float[] a, double[] b) {
        double scale = 1;
        for (double v : b) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            if (!(d <= Double.MAX_VALUE)) {
                return Double.POSITIVE_INFINITY;
            }
            worst = Math.max(worst, d);
        }
        return worst / scale;
    }

    private static String figure(double e) {
        return Double.isInfinite(e) ? "NaN or infinity" : String.format(Locale.ROOT, "relative error %.3g", e);
    }

    /** The first forward probe {@code mode} gets wrong, described, or null if all pass. */
    static String forwardProbes(NDManager parent, Convolution.Mode mode) {
        long seed = 1;
        for (ConvProbe p : FORWARD) {
            ConvReference ref = new ConvReference(p, seed += 10);
            try (NDManager m = parent.newSubManager()) {
                NDArray y = Convolution.conv2d(mode, arr(m, ref.x, p.b(), p.c(), p.h(), p.w()),
                        arr(m, ref.w, p.out(), p.c() / p.groups(), p.kh(), p.kw()), arr(m, ref.bias, p.out()),
                        p.stride(), p.padH(), p.padW(), p.groups());
                double e = error(y.toFloatArray(), ref.y);
                if (!(e <= TOLERANCE)) {
                    return figure(e) + " at " + p.describe();
                }
            }
        }
        return null;
    }

    /**
     * The first of {@link Backward#CHANNELS_LAST}, {@link Backward#PADDED} and {@link Backward#WITHOUT_ONEDNN} whose
     * gradients pass every probe ({@link Backward#NONE} if none does); each failure goes into {@code findings}.
     */
    private static Backward workAround(NDManager m, Convolution.Mode forward, List<String> findings) {
        String bad = trainingLayoutProbes(m, forward, true);
        if (bad == null) {
            return Backward.CHANNELS_LAST;
        }
        findings.add("channels-last gradients: " + bad);
        bad = trainingLayoutProbes(m, forward, false);
        if (bad == null) {
            return Backward.PADDED;
        }
        findings.add("padded gradients: " + bad);
        if (!LibTorchSwitches.oneDnnSwitchAvailable()) {
            findings.add("gradients without oneDNN: this libtorch has no oneDNN switch");
            return Backward.NONE;
        }
        boolean was = LibTorchSwitches.oneDnn();
        LibTorchSwitches.setOneDnn(false);
        try {
            bad = backwardProbes(m, forward);
        } finally {
            LibTorchSwitches.setOneDnn(was);
        }
        if (bad == null) {
            return Backward.WITHOUT_ONEDNN;
        }
        findings.add("gradients without oneDNN: " + bad);
        return Backward.NONE;
    }

    /** {@link #backwardProbes} with every convolution in the training layout, narrow ones channels-last or not. */
    private static String trainingLayoutProbes(NDManager m, Convolution.Mode forward, boolean channelsLast) {
        Convolution.trainingLayout = true;
        Convolution.channelsLast = channelsLast;
        try {
            return backwardProbes(m, forward);
        } finally {
            Convolution.trainingLayout = false;
            Convolution.channelsLast = false;
        }
    }

    /** The first gradient probe that libtorch's backward (as now switched) gets wrong, or null. */
    static String backwardProbes(NDManager parent, Convolution.Mode mode) {
        long seed = 1000;
        for (ConvProbe p : BACKWARD) {
            ConvReference ref = new ConvReference(p, seed += 10);
            try (NDManager m = parent.newSubManager()) {
                NDArray x = arr(m, ref.x, p.b(), p.c(), p.h(), p.w());
                NDArray w = arr(m, ref.w, p.out(), p.c() / p.groups(), p.kh(), p.kw());
                NDArray b = arr(m, ref.bias, p.out());
                NDArray g = arr(m, ref.g, p.b(), p.out(), p.ho(), p.wo());
                for (NDArray a : new NDArray[] {x, w, b}) {
                    a.setRequiresGradient(true);
                }
                backward(() -> Convolution.conv2d(mode, x, w, b, p.stride(), p.padH(), p.padW(), p.groups())
                        .mul(g).sum());
                String[] names = {"input", "weight", "bias"};
                NDArray[] got = {x.getGradient(), w.getGradient(), b.getGradient()};
                double[][] want = {ref.dx, ref.dw, ref.db};
                for (int i = 0; i < 3; i++) {
                    double e = error(got[i].toFloatArray(), want[i]);
                    if (!(e <= TOLERANCE)) {
                        return figure(e) + " in the " + names[i] + " gradient at " + p.describe();
                    }
                }
            }
        }
        return null;
    }

    /**
     * Back-propagates the scalar that {@code loss} builds into the probe's leaves. Without a GradientCollector: DJL
     * allows one at a time, and the check may run lazily inside a caller's training step (its first convolution).
     */
    private static void backward(Supplier<NDArray> loss) {
        boolean was = JniUtils.isGradMode();
        JniUtils.setGradMode(true);
        try {
            NDArray l = loss.get();
            JniUtils.backward((PtNDArray) l, (PtNDArray) l.onesLike(), false, false);
        } finally {
            JniUtils.setGradMode(was);
        }
    }

    private static NDArray arr(NDManager m, double[] v, long... shape) {
        return m.create(floats(v), new Shape(shape));
    }

    /**
     * The other ops the networks use, at odd sizes and batch 2, against float64 Java: linear (forward and
     * gradients), batched matmul, softmax, layer norm and exact GELU. Null if all are right.
     */
    static String otherOps(NDManager parent) {
        try (NDManager m = parent.newSubManager()) {
            int b = 2;
            int t = 5;
            int in = 24;
            int out = 40;
            double[] x = rounded(values(b * t * in, 7));
            double[] w = rounded(values(out * in, 8));
            double[] bias = rounded(values(out, 9));
            double[] g = rounded(values(b * t * out, 10));
            double[] y = new double[b * t * out];
            double[] dx = new double[x.length];
            double[] dw = new double[w.length];
            for (int r = 0; r < b * t; r++) {
                for (int o = 0; o < out; o++) {
                    double s = bias[o];
                    for (int i = 0; i < in; i++) {
                        s += x[r * in + i] * w[o * in + i];
                        dx[r * in + i] += g[r * out + o] * w[o * in + i];
                        dw[o * in + i] += g[r * out + o] * x[r * in + i];
                    }
                    y[r * out + o] = s;
                }
            }
            NDArray xa = arr(m, x, b, t, in);
            NDArray wa = arr(m, w, out, in);
            xa.setRequiresGradient(true);
            wa.setRequiresGradient(true);
            NDArray ya = Linear.linear(xa, wa, arr(m, bias, out)).singletonOrThrow();
            NDArray ga = arr(m, g, b, t, out);
            backward(() -> Linear.linear(xa, wa, arr(m, bias, out)).singletonOrThrow().mul(ga).sum());
            String bad = compare("linear", ya, y);
            bad = bad != null ? bad : compare("linear input gradient", xa.getGradient(), dx);
            bad = bad != null ? bad : compare("linear weight gradient", wa.getGradient(), dw);
            if (bad != null) {
                return bad;
            }
            // batched matmul (2, 3, 7, 5) x (2, 3, 5, 9)
            double[] p = rounded(values(2 * 3 * 7 * 5, 11));
            double[] q = rounded(values(2 * 3 * 5 * 9, 12));
            double[] pq = new double[2 * 3 * 7 * 9];
            for (int z = 0; z < 6; z++) {
                for (int i = 0; i < 7; i++) {
                    for (int j = 0; j < 9; j++) {
                        double s = 0;
                        for (int k = 0; k < 5; k++) {
                            s += p[(z * 7 + i) * 5 + k] * q[(z * 5 + k) * 9 + j];
                        }
                        pq[(z * 7 + i) * 9 + j] = s;
                    }
                }
            }
            bad = compare("batched matmul", arr(m, p, 2, 3, 7, 5).matMul(arr(m, q, 2, 3, 5, 9)), pq);
            if (bad != null) {
                return bad;
            }
            // softmax, layer norm (unit affine) and exact GELU over rows of 40
            double[] v = rounded(values(2 * 6 * 40, 13));
            for (int i = 0; i < v.length; i++) {
                v[i] *= 4;
            }
            double[] soft = new double[v.length];
            double[] norm = new double[v.length];
            double[] gelu = new double[v.length];
            for (int r = 0; r < 12; r++) {
                double max = Double.NEGATIVE_INFINITY;
                double mean = 0;
                for (int i = 0; i < 40; i++) {
                    max = Math.max(max, v[r * 40 + i]);
                    mean += v[r * 40 + i] / 40;
                }
                double sum = 0;
                double var = 0;
                for (int i = 0; i < 40; i++) {
                    sum += Math.exp(v[r * 40 + i] - max);
                    var += (v[r * 40 + i] - mean) * (v[r * 40 + i] - mean) / 40;
                }
                for (int i = 0; i < 40; i++) {
                    double a = v[r * 40 + i];
                    soft[r * 40 + i] = Math.exp(a - max) / sum;
                    norm[r * 40 + i] = (a - mean) / Math.sqrt(var + 1e-5);
                    gelu[r * 40 + i] = 0.5 * a * (1 + erf(a / Math.sqrt(2)));
                }
            }
            NDArray va = arr(m, v, 2, 6, 40);
            bad = compare("softmax", va.softmax(-1), soft);
            bad = bad != null ? bad : compare("layer norm", LayerNorm.layerNorm(va, new Shape(40),
                    m.ones(new Shape(40)), m.zeros(new Shape(40)), 1e-5f).singletonOrThrow(), norm);
            bad = bad != null ? bad : compare("GELU", Activation.gelu(va), gelu);
            return bad;
        }
    }

    private static String compare(String op, NDArray got, double[] want) {
        double e = error(got.toType(DataType.FLOAT32, false).toFloatArray(), want);
        return e <= TOLERANCE ? null : op + ": " + figure(e) + " (shape " + got.getShape() + ")";
    }

    /** erf to about 1e-15: Taylor series near 0, continued fraction for erfc further out. */
    static double erf(double z) {
        double a = Math.abs(z);
        double r;
        if (a < 2.5) {
            double term = a;
            double sum = a;
            for (int n = 1; n < 100; n++) {
                term *= -a * a / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) {
                    break;
                }
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // erfc(a) = exp(-a²)/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...)))), evaluated from the tail (Lentz-free)
            double f = 0;
            for (int n = 60; n >= 1; n--) {
                f = (n / 2.0) / (a + f);
            }
            r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
        }
        return z < 0 ? -r : r;
    }
}
