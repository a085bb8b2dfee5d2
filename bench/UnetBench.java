// The Stage-2 networks, timed: the full SD2.1-base UNet forward (64x64 latents, batch 1, float32, text context
// [1, 77, 1024], t = 999) with its weights streamed from a safetensors file, and AdcSR's LoRA discriminator (conv_in
// 256 -> 320, rank 4) forward + backward into LoRA and conv_in. Random weights (the figures do not depend on them).
// Run from the repository root after the build (bench/unet.sh runs it beside PyTorch, under /usr/bin/time -v); DJL
// keeps the weights in direct buffers, so give the JVM -XX:MaxDirectMemorySize=16g (the default limit is the heap):
//   java -cp 'lib/*' bench/UnetBench.java write FILE           a random SD2.1-base UNet, F32 safetensors (3.46 GB)
//   java -cp 'lib/*' bench/UnetBench.java unet FILE [threads] [repeats]
//   java -cp 'lib/*' bench/UnetBench.java disc [threads] [repeats]
// Prints one CSV line: what,load_s,median_s (median of the repeats after one warm-up run),anon_mib,file_mib: the
// process's anonymous and file-backed resident memory right after the weights are in place (RssAnon, RssFile of
// /proc/self/status; file pages are the tensors' mappings of the weights file, page cache the kernel can drop).
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.adcsr.core.Engines;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.LoraOps;
import org.adcsr.core.model.SdUnet;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.sd.Stage2Weights;

public class UnetBench {
    static final SdConfig SD = SdConfig.sd21Base();

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (mode.equals("write")) {
            List<SafetensorsWriter.Entry> e = new ArrayList<>();
            for (TensorInfo t : SdUnet.parameters(SD, SD.latentChannels())) {
                e.add(new SafetensorsWriter.Entry(t.name(), t.shape(), () -> random(t)));
            }
            SafetensorsWriter.write(Path.of(args[1]), Map.of("note", "random weights for bench/unet.sh"), e, DType.F32);
            return;
        }
        if (mode.equals("agree")) {
            agree(Path.of(args[1]), Path.of(args[2]), args.length > 3 ? Integer.parseInt(args[3]) : 2);
            return;
        }
        boolean unet = mode.equals("unet");
        int a = unet ? 2 : 1;
        int threads = args.length > a ? Integer.parseInt(args[a]) : 2;
        int repeats = args.length > a + 1 ? Integer.parseInt(args[a + 1]) : 3;
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        try (NDManager m = engine.newBaseManager()) {
            long t0 = System.nanoTime();
            Map<String, NDArray> p;
            if (unet) {
                try (SdInputs in = SdInputs.openFiles(Path.of(args[1]), null, SD)) {
                    p = Stage2Weights.unet(in, SD, m);
                }
            } else {
                p = new HashMap<>();
                for (TensorInfo t : Discriminator.parameters(SD, 256, Discriminator.RANK, LoraOps.PEFT_DEFAULT_ALPHA)) {
                    NDArray w = m.create(random(t), new Shape(t.shape()));
                    if (Discriminator.isTrainable(t.name())) {
                        w.setRequiresGradient(true);
                    }
                    p.put(t.name(), w);
                }
            }
            double load = (System.nanoTime() - t0) / 1e9;
            long[] rss = {status("RssAnon:"), status("RssFile:")};
            double[] times = new double[repeats];
            for (int r = -1; r < repeats; r++) {
                long s = System.nanoTime();
                try (NDManager it = m.newSubManager()) {
                    if (unet) {
                        run(it, 4, x -> SdUnet.forward(new DjlOps(p), SD, x[0], x[1], x[2])).close();
                    } else {
                        try (GradientCollector gc = engine.newGradientCollector()) {
                            NDArray logits = run(it, 256, x -> Discriminator.forward(Discriminator.ops(new DjlOps(p),
                                    Discriminator.RANK, LoraOps.PEFT_DEFAULT_ALPHA), SD, x[0], x[1], x[2]));
                            Autograd.backward(gc, logits.mean());
                        }
                    }
                }
                if (r >= 0) {
                    times[r] = (System.nanoTime() - s) / 1e9;
                }
            }
            Arrays.sort(times);
            System.out.printf(Locale.ROOT, "%s,%.2f,%.2f,%d,%d%n", unet ? "unet_forward" : "disc_forward_backward",
                    load, times[repeats / 2], rss[0] >> 10, rss[1] >> 10);
        }
    }

    /**
     * The UNet's output on one seeded input, written with the input (x, ctx, y as F32 safetensors) for
     * bench/unet_reference.py to compare with PyTorch on the same weights.
     */
    static void agree(Path weights, Path out, int threads) throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        try (NDManager m = engine.newBaseManager()) {
            Map<String, NDArray> p;
            try (SdInputs in = SdInputs.openFiles(weights, null, SD)) {
                p = Stage2Weights.unet(in, SD, m);
            }
            NDArray[] inputs = new NDArray[3];
            NDArray y = run(m, 4, x -> {
                System.arraycopy(x, 0, inputs, 0, 3);
                return SdUnet.forward(new DjlOps(p), SD, x[0], x[1], x[2]);
            });
            List<SafetensorsWriter.Entry> e = new ArrayList<>();
            for (Object[] kv : new Object[][] {{"x", inputs[0]}, {"ctx", inputs[2]}, {"y", y}}) {
                NDArray a = (NDArray) kv[1];
                e.add(new SafetensorsWriter.Entry((String) kv[0], a.getShape().getShape(), a::toFloatArray));
            }
            SafetensorsWriter.write(out, Map.of(), e, DType.F32);
        }
    }

    /** A {@code kB} line of /proc/self/status. */
    static long status(String key) throws java.io.IOException {
        for (String l : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith(key)) {
                return Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        return -1;
    }

    /** Runs {@code f} on a seeded sample {@code [1, channels, 64, 64]}, t = 999 and a context {@code [1, 77, 1024]}. */
    static NDArray run(NDManager m, int channels, Function<NDArray[], NDArray> f) {
        NDArray x = m.randomNormal(new Shape(1, channels, 64, 64));
        double[] feats = SdUnet.timestepFeatures(new double[] {Discriminator.TIMESTEP}, SD.unetWidths()[0]);
        float[] ff = new float[feats.length];
        for (int i = 0; i < ff.length; i++) {
            ff[i] = (float) feats[i];
        }
        NDArray t = m.create(ff, new Shape(1, feats.length));
        NDArray ctx = m.randomNormal(new Shape(1, 77, SD.crossAttentionDim()));
        return f.apply(new NDArray[] {x, t, ctx});
    }

    /** Norms: weight 1, bias 0; others uniform ±1/√fan-in (PyTorch's scale), seeded by the name. */
    static float[] random(TensorInfo t) {
        float[] v = new float[Math.toIntExact(t.numel())];
        String n = t.name();
        if (n.contains("norm")) {
            Arrays.fill(v, n.endsWith(".weight") ? 1f : 0f);
            return v;
        }
        long[] s = t.shape();
        long fanIn = s.length > 1 ? t.numel() / s[0] : s[0];
        float bound = (float) (1 / Math.sqrt(fanIn));
        SplittableRandom r = new SplittableRandom(n.hashCode());
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }
}
