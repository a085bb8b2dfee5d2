import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Where ONNX Runtime spends a forward of a graph adcsr-upscale built (one of its cached {@code HxW-rewrites.onnx} files): the
 * session's own profiler over the timed runs after a warm-up, summed by operator type and by node, as CSV on stdout.
 * Run by {@code bench/upscale-ort.sh profile}:
 *
 * <pre>java -cp 'lib/*' bench/OrtProfile.java MODEL.onnx THREADS RUNS [OPTIONS]</pre>
 *
 * OPTIONS is a comma-separated list of session settings to try: {@code spin=0} (no spinning of idle threads),
 * {@code layout=off} (no NCHWc layout transformer: ORT_ENABLE_EXTENDED instead of ORT_ENABLE_ALL).
 */
public class OrtProfile {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int runs = Integer.parseInt(args[2]);
        String options = args.length > 3 ? args[3] : "";
        // HxW.onnx, or HxW-rewrites.onnx
        String[] hw = model.getFileName().toString().replaceAll("^(\\d+)x(\\d+).*", "$1 $2").split(" ");
        int h = Integer.parseInt(hw[0]);
        int w = Integer.parseInt(hw[1]);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Path prefix = Files.createTempDirectory("ort-profile").resolve("profile");
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(options.contains("layout=off") ? OrtSession.SessionOptions.OptLevel.EXTENDED_OPT
                    : OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (options.contains("spin=0")) {
                o.addConfigEntry("session.intra_op.allow_spinning", "0");
            }
            o.enableProfiling(prefix.toString());
            long t0 = System.nanoTime();
            try (OrtSession s = env.createSession(model.toString(), o)) {
                System.err.printf("session: %.2f s%n", (System.nanoTime() - t0) / 1e9);
                float[] x = new float[3 * h * w];
                Random r = new Random(1);
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.nextFloat() * 2 - 1;
                }
                long[] shape = {1, 3, h, w};
                String input = s.getInputNames().iterator().next();
                double[] secs = new double[runs + 1];
                for (int k = 0; k <= runs; k++) {
                    long t = System.nanoTime();
                    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                            OrtSession.Result res = s.run(Map.of(input, in))) {
                        secs[k] = (System.nanoTime() - t) / 1e9;
                    }
                    System.err.printf("run %d: %.3f s%n", k, secs[k]);
                }
                String file = s.endProfiling();
                summarise(Path.of(file), runs);
            }
        }
    }

    /** Node events after the first run (the warm-up), summed by op type and by node. */
    static void summarise(Path file, int runs) throws Exception {
        JsonArray events = JsonParser.parseString(Files.readString(file)).getAsJsonArray();
        // the model_run events mark each run; skip node events before the end of the first
        long warmEnd = -1;
        for (JsonElement e : events) {
            JsonObject o = e.getAsJsonObject();
            if (o.get("name").getAsString().equals("model_run")) {
                warmEnd = o.get("ts").getAsLong() + o.get("dur").getAsLong();
                break;
            }
        }
        Map<String, double[]> byType = new HashMap<>();
        Map<String, double[]> byNode = new HashMap<>();
        double total = 0;
        for (JsonElement e : events) {
            JsonObject o = e.getAsJsonObject();
            if (!o.get("cat").getAsString().equals("Node") || o.get("ts").getAsLong() < warmEnd
                    || !o.get("name").getAsString().endsWith("_kernel_time")) {
                continue;
            }
            String type = o.getAsJsonObject("args").get("op_name").getAsString();
            double ms = o.get("dur").getAsLong() / 1000.0 / runs;
            total += ms;
            byType.computeIfAbsent(type, k -> new double[2])[0] += ms;
            byType.get(type)[1] += 1.0 / runs;
            String node = o.get("name").getAsString().replace("_kernel_time", "");
            byNode.computeIfAbsent(type + "," + node, k -> new double[2])[0] += ms;
        }
        System.out.printf("op_type,ms_per_run,share,nodes%n");
        final double t = total;
        byType.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(en -> System.out.printf("%s,%.1f,%.3f,%d%n", en.getKey(), en.getValue()[0],
                        en.getValue()[0] / t, Math.round(en.getValue()[1])));
        System.out.printf("total,%.1f,1.000,%n%n", total);
        System.out.printf("op_type,node,ms_per_run%n");
        byNode.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0])).limit(25)
                .forEach(en -> System.out.printf("%s,%.1f%n", en.getKey(), en.getValue()[0]));
    }
}
