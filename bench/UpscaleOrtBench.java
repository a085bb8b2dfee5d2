// Speed of the full AdcSR network under DJL (libtorch) and ONNX Runtime in one run, their agreement on one tile, and
// the plain 3x3 conv stack under both as the practical limit. Run from the repository root after the build:
//   java -cp 'lib/*' bench/UpscaleOrtBench.java [threads] [runs] [weights-out]
// Random weights (the figures do not depend on the values); the two engines alternate run by run, so a load that
// comes and goes on the machine hits both. adcsr-upscale's graphs carry rewrites for ONNX Runtime (OnnxOps.Rewrites);
// other graphs of the same weights can run in the same rotation, -Dvariants=none,subpixel,mha,subpixel-mha (none:
// the exported graph, without rewrites), so that each rewrite's gain is measured in the same run. With weights-out,
// also saves the weights (1.8 GB) for bench/upscale-ort.sh.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.adcsr.core.Engines;
import org.adcsr.core.io.DType;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.CostReport;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.model.ShapeOps.ModuleCost;
import org.adcsr.onnx.Graph;
import org.adcsr.onnx.OnnxExport;
import org.adcsr.onnx.OnnxOps;
import org.adcsr.onnx.OrtNetwork;

public class UpscaleOrtBench {
    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Writes every file under {@code dir} through to the disk. */
    static void flush(Path dir) throws java.io.IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                try (var c = java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
                    c.force(true);
                }
            }
        }
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        AdcsrConfig config = AdcsrConfig.paper();
        long macs = 0;
        for (ModuleCost c : CostReport.costs(config, 1, 128, 128)) {
            macs += c.macs() + c.attentionMacs();
        }
        try (NDManager m = engine.newBaseManager();
                AdcsrModel model = AdcsrModel.random(config, 1, m, DataType.FLOAT32)) {
            if (args.length > 2) {
                ModelFiles.save(model, Path.of(args[2]), Map.of("note", "random weights for benchmarks"), DType.F32);
            }
            float[] x = new float[3 * 128 * 128];
            Random r = new Random(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() * 2 - 1;
            }
            NDArray lr = m.create(x, new Shape(1, 3, 128, 128));

            // ONNX Runtime's weight cache, written afresh (as on the first run with a weights file)
            Path cache = Path.of("bench/out/ort-bench-cache");
            if (Files.exists(cache)) {
                try (var files = Files.walk(cache)) {
                    for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(f);
                    }
                }
            }
            long t0 = System.nanoTime();
            OrtNetwork ort = OrtNetwork.fromParameters(config, k -> model.parameters().get(k).toFloatArray(), cache,
                    threads, OrtNetwork.Device.CPU, OrtNetwork.REWRITES);
            double weightsSeconds = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            float[] yOrt = ort.run(x, 128, 128); // builds the session, then runs once (the warm-up)
            double firstSeconds = (System.nanoTime() - t0) / 1e9;
            float[] yDjl;
            t0 = System.nanoTime();
            try (NDArray y = model.forward(lr)) { // DJL's warm-up
                yDjl = y.toFloatArray();
            }
            double djlFirst = (System.nanoTime() - t0) / 1e9;
            double maxDiff = 0;
            for (int i = 0; i < yDjl.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(yDjl[i] - yOrt[i]));
            }
            flush(cache); // the 1.8 GB just written go to disk now, not during the timed runs
            // other graphs of the same weights (same cache), if asked for
            Map<String, OrtNetwork> variants = new java.util.LinkedHashMap<>();
            for (String v : System.getProperty("variants", "").split(",")) {
                if (v.isBlank()) {
                    continue;
                }
                OnnxOps.Rewrites rw = new OnnxOps.Rewrites(v.contains("subpixel"), v.contains("mha"));
                OrtNetwork net = OrtNetwork.fromParameters(config, k -> {
                    throw new IllegalStateException(k);
                }, cache, threads, OrtNetwork.Device.CPU, rw);
                float[] yv = net.run(x, 128, 128); // its warm-up, checked against DJL as the product graph is
                for (int i = 0; i < yDjl.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(yDjl[i] - yv[i]));
                }
                variants.put(v, net);
            }
            List<Double> djl = new ArrayList<>();
            List<Double> onnx = new ArrayList<>();
            Map<String, List<Double>> variantSeconds = new java.util.LinkedHashMap<>();
            for (int i = 0; i < runs; i++) {
                t0 = System.nanoTime();
                model.forward(lr).close();
                djl.add((System.nanoTime() - t0) / 1e9);
                t0 = System.nanoTime();
                ort.run(x, 128, 128);
                onnx.add((System.nanoTime() - t0) / 1e9);
                for (var v : variants.entrySet()) {
                    t0 = System.nanoTime();
                    v.getValue().run(x, 128, 128);
                    variantSeconds.computeIfAbsent(v.getKey(), k -> new ArrayList<>())
                            .add((System.nanoTime() - t0) / 1e9);
                }
            }
            variants.values().forEach(OrtNetwork::close);
            double sessionSeconds = ort.sessionSeconds();
            ort.close();

            // the plain stack: 10 x Conv3x3 320->320 on [1,320,64,64] (DJL.md), best of 5 after one warm-up
            float[] wv = new float[320 * 320 * 9];
            for (int i = 0; i < wv.length; i++) {
                wv[i] = (r.nextFloat() * 2 - 1) * 0.02f;
            }
            float[] av = new float[320 * 64 * 64];
            for (int i = 0; i < av.length; i++) {
                av[i] = r.nextFloat() * 2 - 1;
            }
            NDArray a = m.create(av, new Shape(1, 320, 64, 64));
            NDArray w = m.create(wv, new Shape(320, 320, 3, 3));
            NDArray b = m.zeros(new Shape(320));
            double convDjl = Double.MAX_VALUE;
            for (int k = 0; k < 6; k++) {
                t0 = System.nanoTime();
                NDArray h = a;
                for (int i = 0; i < 10; i++) {
                    NDArray next = Conv2d.conv2d(h, w, b, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
                            .singletonOrThrow();
                    if (h != a) {
                        h.close();
                    }
                    h = next;
                }
                h.close();
                if (k > 0) {
                    convDjl = Math.min(convDjl, (System.nanoTime() - t0) / 1e9);
                }
            }
            double convOrt = Double.MAX_VALUE;
            Graph g = new Graph();
            long[] s = {1, 320, 64, 64};
            g.input("x", s);
            String wn = g.floats("w", new long[] {320, 320, 3, 3}, () -> wv);
            String bn = g.floats("b", new long[] {320}, () -> new float[320]);
            String h = "x";
            for (int i = 0; i < 10; i++) {
                h = g.node("Conv", "conv" + i, s, List.of(h, wn, bn), Graph.attr("kernel_shape", 3L, 3L),
                        Graph.attr("pads", 1L, 1L, 1L, 1L));
            }
            g.outputs.add(h);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
                o.setIntraOpNumThreads(threads);
                o.setInterOpNumThreads(1);
                o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                byte[] stack = g.withInitializers("bench", OnnxExport.FLOAT, Map.of(), init -> null).toByteArray();
                try (OrtSession sess = env.createSession(stack, o);
                        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(av), s)) {
                    for (int k = 0; k < 6; k++) {
                        t0 = System.nanoTime();
                        sess.run(Map.of("x", in)).close();
                        if (k > 0) {
                            convOrt = Math.min(convOrt, (System.nanoTime() - t0) / 1e9);
                        }
                    }
                }
            }
            double convMacs = 10.0 * 320 * 320 * 9 * 64 * 64;
            double dj = median(djl);
            double on = median(onnx);
            System.out.printf("threads,%d%n", threads);
            System.out.printf("network_gmacs,%.1f%n", macs / 1e9);
            System.out.printf("djl_seconds_128_to_512,%.2f,median of %d after a warm-up,%s%n", dj, runs, djl);
            System.out.printf("onnxruntime_seconds_128_to_512,%.2f,median of %d after a warm-up,%s%n", on, runs, onnx);
            System.out.printf("speedup_onnxruntime_over_djl,%.2f%n", dj / on);
            System.out.printf("onnxruntime_rewrites,%s%n", OrtNetwork.REWRITES);
            for (var v : variantSeconds.entrySet()) {
                System.out.printf("onnxruntime_graph_%s_seconds_128_to_512,%.2f,median of %d,%s%n", v.getKey(),
                        median(v.getValue()), runs, v.getValue());
            }
            System.out.printf("djl_first_run_seconds,%.2f%n", djlFirst);
            System.out.printf("onnxruntime_weight_cache_write_seconds,%.2f%n", weightsSeconds);
            System.out.printf("onnxruntime_session_seconds,%.2f%n", sessionSeconds);
            System.out.printf("onnxruntime_first_run_seconds_with_session,%.2f%n", firstSeconds);
            System.out.printf("max_abs_diff_djl_vs_onnxruntime,%.3g,%.3f LSB of 8-bit output (x127.5)%s%n", maxDiff,
                    maxDiff * 127.5, variants.isEmpty() ? "" : ", every graph timed");
            System.out.printf("djl_network_gflops,%.1f%n", 2 * macs / dj / 1e9);
            System.out.printf("onnxruntime_network_gflops,%.1f%n", 2 * macs / on / 1e9);
            System.out.printf("djl_conv_stack_gflops,%.1f%n", 2 * convMacs / convDjl / 1e9);
            System.out.printf("onnxruntime_conv_stack_gflops,%.1f%n", 2 * convMacs / convOrt / 1e9);
            System.out.printf("onnxruntime_fraction_of_its_conv_stack,%.2f%n", (2 * macs / on) / (2 * convMacs / convOrt));
            if (!(maxDiff * 127.5 <= 1)) { // NaN fails too
                System.out.printf("FAIL: the engines differ by %.3g on one tile, more than one 8-bit level%n", maxDiff);
                System.exit(1);
            }
        }
    }
}
