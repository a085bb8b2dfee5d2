// Speed of adcsr-eval's learned no-reference networks (issue 16): CLIPIQA (CLIP RN50), MUSIQ (KonIQ default) or
// MANIQA (PIPAL: ViT-B/8, 20 crops) on PNG files, one image after the other, as the metric wrappers score them.
// Run from the repository root after the build (bench/eval-nr.sh runs it, beside pyiqa's modules):
//   java -cp 'lib/*' bench/EvalNrBench.java METRIC THREADS DIR COUNT
// METRIC clipiqa | musiq | maniqa; THREADS libtorch's intra-op threads (inter-op 1), set once when the engine starts,
// outside the timing; DIR a folder of PNGs (sorted by name); COUNT images timed.
// The network is the full-size configuration with GeneratedWeights (the values of the fixture scripts of
// tools/eval/, which bench/eval_nr_reference.py loads into pyiqa's modules, so both sides compute the same scores;
// speed does not depend on the values): the wrappers (adcsr-eval learned/*Metric) need the published files, which
// are not on this machine. Per image exactly what the wrapper's score() does with --crop-border 0: the PNG read with
// Images.read, RGB/255 float32 [1, 3, H, W] (gray replicated, as LpipsMetric.tensor), in a fresh NDManager, then
// ClipIqa.forward / Musiq.forward / Maniqa.score, the score read back as a number.
// The first image is scored once more before the timing (warm-up: first-call costs of libtorch and the JIT), reported
// apart. Peak RSS while scoring: the kernel's VmHWM, reset (/proc/self/clear_refs) after loading, so it covers the
// warm-up and the timed images but not the weight generation.
// MUSIQ runs as adcsr-eval runs it by default, on ONNX Runtime (OrtMusiq, THREADS intra-op threads; its input made
// in plain Java by Musiq.tokens(float[], ...)), or with ENGINE=djl on DJL (Musiq.forward).
// Last line: RESULT java METRIC THREADS IMAGES WARMUP_S TIMED_S IMAGES_PER_S MEAN_SCORE SCORING_PEAK_KB LOAD_S
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.nets.ClipIqa;
import org.adcsr.core.nets.GeneratedWeights;
import org.adcsr.core.nets.Maniqa;
import org.adcsr.core.nets.Musiq;
import org.adcsr.onnx.OrtMusiq;

public class EvalNrBench {
    interface Scorer {
        double score(NDArray x);
    }

    /** LpipsMetric.tensor (package-private in adcsr-eval): [1, 3, H, W] of RGB/maxValue float32, gray replicated. */
    static NDArray tensor(NDManager m, Image img) {
        int n = img.width() * img.height();
        float[] d = new float[3 * n];
        for (int c = 0; c < 3; c++) {
            int plane = img.isGray() ? 0 : c;
            for (int i = 0; i < n; i++) {
                d[c * n + i] = img.data()[plane * n + i] / (float) img.maxValue();
            }
        }
        return m.create(d, new Shape(1, 3, img.height(), img.width()));
    }

    static long status(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            // not Linux: no figure
        }
        return -1;
    }

    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: java -cp 'lib/*' bench/EvalNrBench.java clipiqa|musiq|maniqa THREADS DIR COUNT");
            System.exit(2);
        }
        String metric = args[0];
        int threads = Integer.parseInt(args[1]);
        List<Path> files;
        try (var s = Files.list(Path.of(args[2]))) {
            files = s.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        int count = Math.min(Integer.parseInt(args[3]), files.size());
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no PNG in " + args[2]);
        }

        long t0 = System.nanoTime();
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        double engineSeconds = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        NDManager base = engine.newBaseManager();
        AutoCloseable net;
        Scorer scorer;
        switch (metric) {
            case "clipiqa" -> {
                ClipIqa n = ClipIqa.load(base, GeneratedWeights.clip(ClipIqa.Config.RN50), ClipIqa.Config.RN50);
                net = n;
                scorer = x -> n.forward(x).toFloatArray()[0];
            }
            case "musiq" -> {
                Musiq.Config c = Musiq.Config.KONIQ;
                String engineName = System.getenv().getOrDefault("ENGINE", "onnxruntime");
                if (!engineName.equals("djl") && !engineName.equals("onnxruntime")) {
                    throw new IllegalArgumentException("ENGINE must be djl or onnxruntime, got " + engineName);
                }
                if (engineName.equals("djl")) {
                    Musiq n = Musiq.load(base, GeneratedWeights.musiq(c), c);
                    net = n;
                    scorer = x -> n.forward(x).toFloatArray()[0];
                } else {
                    OrtMusiq n = OrtMusiq.create(c, Musiq.weights(GeneratedWeights.musiq(c), c), threads);
                    net = n;
                    scorer = x -> {                             // as MusiqMetric: the tokens in plain Java
                        long[] sh = x.getShape().getShape();
                        return n.score(Musiq.tokens(x.toFloatArray(), (int) sh[2], (int) sh[3], c));
                    };
                }
            }
            case "maniqa" -> {
                Maniqa n = Maniqa.load(base, GeneratedWeights.maniqa(Maniqa.Config.PIPAL), Maniqa.Config.PIPAL);
                net = n;
                scorer = n::score;
            }
            default -> throw new IllegalArgumentException("unknown metric " + metric);
        }
        double loadSeconds = (System.nanoTime() - t0) / 1e9;
        System.gc();
        boolean reset = resetPeak();
        long rssAfterLoad = status("VmRSS");

        // warm-up: the first image, once, outside the timing
        t0 = System.nanoTime();
        double warmScore = scoreFile(engine, scorer, files.get(0));
        double warm = (System.nanoTime() - t0) / 1e9;
        if (metric.equals("musiq")) {
            System.out.println("java musiq: network on " + ("djl".equals(System.getenv("ENGINE")) ? "djl" : "onnxruntime"));
        }
        System.out.printf(Locale.ROOT, "java %s %d thread(s): engine %.2f s, generated weights loaded in %.2f s, RSS "
                + "after loading %d MB; warm-up (%s) %.2f s, score %.6f%n", metric, threads, engineSeconds, loadSeconds,
                rssAfterLoad / 1024, files.get(0).getFileName(), warm, warmScore);

        double sum = 0;
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            long t = System.nanoTime();
            double s = scoreFile(engine, scorer, files.get(i));
            sum += s;
            System.out.printf(Locale.ROOT, "java %s %d thread(s): %s %.2f s score %.6f%n", metric, threads,
                    files.get(i).getFileName(), (System.nanoTime() - t) / 1e9, s);
        }
        double timed = (System.nanoTime() - start) / 1e9;
        long peak = reset ? status("VmHWM") : -1;
        System.out.printf(Locale.ROOT, "RESULT java %s %d %d %.3f %.3f %.4f %.6f %d %.2f%n", metric, threads, count, warm,
                timed, count == 0 ? Double.NaN : count / timed, count == 0 ? warmScore : sum / count, peak, loadSeconds);
        net.close();
        base.close();
    }

    static double scoreFile(Engine engine, Scorer scorer, Path file) {
        Image img = Images.read(file);
        try (NDManager m = engine.newBaseManager()) {
            return scorer.score(tensor(m, img));
        }
    }
}
