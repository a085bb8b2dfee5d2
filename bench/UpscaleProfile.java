// Where the time of the full network goes: seconds per op kind for one 128x128 -> 512x512 forward (the third of
// three; random weights), and the cost of a 64 MB add in fresh against reused memory. Run from the repository root
// after the build, with and without the launchers' malloc settings (bench/upscale.sh profile does both):
//   java -cp 'lib/*' bench/UpscaleProfile.java [threads=2] [attention chunk in score elements, default the library's]
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.adcsr.core.Engines;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.Ops;

public class UpscaleProfile {
    static final Map<String, Double> SECONDS = new TreeMap<>();

    static NDArray timed(String kind, Supplier<NDArray> op) {
        long t0 = System.nanoTime();
        NDArray r = op.get();
        SECONDS.merge(kind, (System.nanoTime() - t0) / 1e9, Double::sum);
        return r;
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        if (args.length > 1) {
            var f = DjlOps.class.getDeclaredField("maxScores");
            f.setAccessible(true);
            f.setLong(null, Long.parseLong(args[1]));
        }
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        AdcsrConfig config = AdcsrConfig.paper();
        try (NDManager m = engine.newBaseManager();
                AdcsrModel model = AdcsrModel.random(config, 1, m, DataType.FLOAT32)) {
            DjlOps d = model.ops();
            Ops<NDArray> o = new Ops<>() {
                public int channels(NDArray x) { return d.channels(x); }
                public NDArray conv2d(NDArray x, String n, int out, int k, int s, int t, int b, int l, int r) {
                    return timed("conv" + k + "x" + k, () -> d.conv2d(x, n, out, k, s, t, b, l, r));
                }
                public NDArray linear(NDArray x, String n, int out, boolean b) {
                    return timed("linear", () -> d.linear(x, n, out, b));
                }
                public NDArray groupNorm(NDArray x, String n, int g, double e) {
                    return timed("groupnorm+silu", () -> d.groupNorm(x, n, g, e));
                }
                public NDArray layerNorm(NDArray x, String n, double e) { return timed("other", () -> d.layerNorm(x, n, e)); }
                public NDArray silu(NDArray x) { return timed("groupnorm+silu", () -> d.silu(x)); }
                public NDArray geglu(NDArray x) { return timed("other", () -> d.geglu(x)); }
                public NDArray add(NDArray a, NDArray b) { return timed("other", () -> d.add(a, b)); }
                public NDArray concatChannels(NDArray a, NDArray b) { return timed("other", () -> d.concatChannels(a, b)); }
                public NDArray upsampleNearest2x(NDArray x) { return timed("other", () -> d.upsampleNearest2x(x)); }
                public NDArray pixelUnshuffle2(NDArray x) { return timed("other", () -> d.pixelUnshuffle2(x)); }
                public NDArray toTokens(NDArray x) { return timed("other", () -> d.toTokens(x)); }
                public NDArray fromTokens(NDArray t, NDArray l) { return timed("other", () -> d.fromTokens(t, l)); }
                public NDArray attention(String n, NDArray q, NDArray k, NDArray v, int h) {
                    return timed("attention", () -> d.attention(n, q, k, v, h));
                }
                public NDArray block(NDArray x, UnaryOperator<NDArray> body) { return d.block(x, body); }
            };
            NDArray lr = m.randomUniform(-1, 1, new Shape(1, 3, 128, 128));
            double total = 0;
            for (int r = 0; r < 3; r++) {
                SECONDS.clear();
                long t0 = System.nanoTime();
                try (NDScope s = new NDScope()) {
                    AdcsrNetwork.forward(o, config, lr).toFloatArray();
                }
                total = (System.nanoTime() - t0) / 1e9;
            }
            System.out.printf("GLIBC_TUNABLES,%s%nthreads,%d%n", System.getenv().getOrDefault("GLIBC_TUNABLES", "(unset)"),
                    threads);
            SECONDS.forEach((k, v) -> System.out.printf("seconds_%s,%.2f%n", k, v));
            System.out.printf("seconds_forward,%.2f%n", total);

            NDArray x = m.randomUniform(-1, 1, new Shape(1, 64, 512, 512)); // 64 MiB
            double fresh = Double.MAX_VALUE, reused = Double.MAX_VALUE;
            for (int r = 0; r < 6; r++) {
                long t0 = System.nanoTime();
                x.add(x).close();                      // a new result each time
                fresh = Math.min(fresh, (System.nanoTime() - t0) / 1e6);
                t0 = System.nanoTime();
                x.addi(0f);                            // the same arithmetic into memory already in use
                reused = Math.min(reused, (System.nanoTime() - t0) / 1e6);
            }
            System.out.printf("add_64mib_new_result_ms,%.1f%nadd_64mib_in_place_ms,%.1f%n", fresh, reused);
        }
    }
}
