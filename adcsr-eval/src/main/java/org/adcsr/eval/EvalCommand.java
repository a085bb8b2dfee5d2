package org.adcsr.eval;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.Progress;
import org.adcsr.cli.Values;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Messages;
import org.adcsr.core.image.PilResize;
import org.adcsr.core.io.AtomicFiles;
import org.adcsr.eval.metrics.Convention;
import org.adcsr.eval.metrics.Metric;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricRegistry;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.adcsr.onnx.EngineChoice;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "adcsr-eval",
        description = {
            "Scores super-resolved images against their ground truth (PSNR, SSIM) and on their own (NIQE), with the "
                + "arithmetic of pyiqa 0.1.13 (as AdcSR and OSEDiff evaluate) or of BasicSR.",
            "",
            "SR and GT images are paired by file name. Writes one CSV row per image and a mean row to stdout (or -o), "
                + "and a summary table to stderr. Images that cannot be scored (missing partner, size mismatch "
                + "without --resize-sr, gray/colour mismatch, unreadable file) are reported one line each; the others "
                + "are still scored and the exit code is 3.",
            "",
            "lpips, lpips-vgg, dists, fid, musiq, maniqa and clipiqa need user-supplied weights in --weights-dir "
                + "(--list-metrics names the files). An unavailable metric is one line "
                + "on stderr, no number is written for it, and the exit code is 3.",
            "",
            "musiq (pyiqa's default: the KonIQ-10k checkpoint; column musiq_koniq) scores the image at its own size "
                + "together with copies resized (torch bicubic) to a longer side of 224 and 384, all cut into 32x32 "
                + "patches with hash-based positions; it reads musiq_koniq_ckpt-e95806b9.pth, a torch.save state "
                + "dict, as data.",
            "",
            "clipiqa (pyiqa's default: CLIP RN50 without positional embedding, so each image at its own size, at "
                + "least 31x31; the mean over five antonym prompt pairs of the positive prompt's probability) reads "
                + "OpenAI's RN50.pt, a TorchScript archive, as data: none of its code is run.",
            "",
            "maniqa (pyiqa's maniqa-pipal, as AdcSR evaluates) scores 20 crops of 224x224 at fixed, evenly "
                + "stepped positions (no randomness; an image with a side of 224 or less is first enlarged "
                + "bilinearly to a shorter side of 225) and weights every 8x8 patch score of all crops by its "
                + "predicted weight. It runs ViT-B/8 on each crop: slow on a CPU.",
            "",
            "fid (pyiqa's clean mode) is one figure for the whole run: the scored SR images as one set against their "
                + "GT images as the other. Its column (fid_clean) is empty in image rows and holds the FID in the "
                + "mean row. It needs at least 2 scored pairs; no crop applies.",
            "",
            "Example: adcsr-eval --sr out/ --gt HR/ -m psnr,ssim,niqe -o scores.csv"
        },
        footer = {"", "See also: adcsr-degrade(1), adcsr-upscale(1)."})
public class EvalCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    static class Inputs {
        @Option(names = "--sr", arity = "1..*", paramLabel = "DIR|FILE",
                description = "SR images: folders (their .png/.jpg/.bmp/.gif/.tif/.webp files) or files.")
        List<Path> sr;

        @Option(names = "--pairs", paramLabel = "CSV",
                description = "Pairs from a CSV with a header: columns sr and gt (or hr, hr_path); paths relative to "
                        + "the CSV's folder. adcsr-degrade's pairs.csv works with --sr-dir.")
        Path pairs;
    }

    @Option(names = "--sr-dir", paramLabel = "DIR",
            description = "With --pairs and a CSV without an sr column (adcsr-degrade's pairs.csv): the folder of SR "
                    + "images, each named like its lr_path image (same stem, or stem_x4 as adcsr-upscale names it).")
    Path srDir;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    Inputs inputs;

    @Option(names = "--gt", paramLabel = "DIR", description = "Ground-truth folder; files paired by name with --sr.")
    Path gt;

    @Option(names = {"-m", "--metrics"}, split = ",", paramLabel = "NAME",
            description = "Comma-separated metrics (default: psnr,ssim,niqe with ground truth, else niqe), or all "
                    + "(every metric --list-metrics shows).")
    List<String> metrics;

    @Option(names = "--convention", paramLabel = "pyiqa|basicsr", defaultValue = "pyiqa",
            description = "Whose arithmetic to reproduce (default: ${DEFAULT-VALUE}). pyiqa: RGB/255 float32, "
                    + "BT.601 Y for PSNR/SSIM, YIQ luma for NIQE. basicsr: BGR 0-255, BT.601 Y for all, "
                    + "PSNR inf for identical images.")
    String convention;

    @Option(names = "--crop-border", paramLabel = "N", defaultValue = "0", converter = Values.NonNegative.class,
            description = "Pixels removed from each side before measuring (default: ${DEFAULT-VALUE}).")
    int cropBorder;

    @Option(names = "--rgb", description = "PSNR and SSIM over the R, G and B channels instead of the Y channel.")
    boolean rgb;

    @Option(names = "--resize-sr", paramLabel = "bicubic|lanczos",
            description = "When an SR image's size differs from its GT's, resize the SR image to the GT's size first "
                    + "and score the resized image with every metric: PIL's Image.resize with this filter (8-bit "
                    + "images bit-identical to Pillow 9.4; alpha dropped; 16-bit in float, rounded), as OSEDiff's "
                    + "test script resizes with PIL (bicubic is PIL's default). Without it a size mismatch is "
                    + "refused. stderr says how many images were resized. Every metric column is then named with "
                    + "the filter: psnr_y_bt601_pyiqa_resized_bicubic.")
    String resizeSr;

    @Option(names = "--weights-dir", paramLabel = "DIR",
            description = "Folder with the weight files of learned metrics (see --list-metrics).")
    Path weightsDir;

    @Option(names = "--engine", paramLabel = "auto|onnxruntime|djl", defaultValue = "auto",
            converter = EngineChoice.Converter.class,
            description = "What runs MUSIQ's network (default: ${DEFAULT-VALUE}; the other networks run on DJL): "
                    + "onnxruntime: ONNX Runtime, on a graph of the same function built in memory at start (one "
                    + "session for every image size); djl: libtorch through DJL; auto: ONNX Runtime where it loads, "
                    + "else DJL. Both give the same scores up to float32 noise; -v says which ran.")
    EngineChoice engine;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE",
            description = "Write the CSV here (atomically) instead of stdout; '-' is stdout.")
    Path output;

    @Option(names = "--list-metrics", description = "List the metric names and what they need, then exit.")
    boolean listMetrics;

    public static void main(String[] a) {
        System.exit(Cli.execute(new EvalCommand(), a));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (listMetrics) {
            int width = MetricRegistry.entries().stream().mapToInt(e -> e.name().length()).max().orElse(0);
            for (MetricRegistry.Entry e : MetricRegistry.entries()) {
                out.printf("%-" + width + "s  %s%n", e.name(), e.description());
            }
            out.flush();
            return ExitCodes.OK;
        }
        if (inputs == null) {
            throw new ParameterException(spec.commandLine(), "give the SR images with --sr, or --pairs");
        }
        MetricOptions options = options();
        PilResize.Filter resize = resizeFilter();
        List<String> problems = new ArrayList<>();
        List<Metric> chosen = new ArrayList<>();
        // --threads images are scored at once (Evaluator), so each network runs on one libtorch thread: N images on
        // N cores, not N images each asking for every core (oversubscribed, several times slower)
        org.adcsr.core.Engines.configure(1);
        for (String name : metricNames()) {
            try {
                chosen.add(MetricRegistry.get(name).factory().create(options));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            } catch (MetricUnavailableException | BadInputException e) {
                problems.add(name + ": unavailable: " + e.getMessage());   // e.g. a weight file that is not the one
            }
        }
        boolean needGt = chosen.stream().anyMatch(Metric::fullReference);
        if (needGt && inputs.sr != null && gt == null) {
            throw new ParameterException(spec.commandLine(), "--gt is needed for "
                    + String.join(", ", chosen.stream().filter(Metric::fullReference).map(Metric::name).toList()));
        }

        Pairing.Result paired = inputs.pairs != null
                ? Pairing.fromCsv(inputs.pairs, srDir)
                : Pairing.byName(Pairing.expand(inputs.sr), needGt ? gt : null,
                        inputs.sr.stream().allMatch(java.nio.file.Files::isDirectory));
        problems.addAll(paired.problems());
        if (paired.pairs().isEmpty()) {
            for (String p : problems) {
                err.println(Messages.clip(spec.name() + ": " + p, Messages.MAX_MESSAGE));
            }
            err.flush();
            throw new BadInputException("no images to score" + (problems.isEmpty() ? "" : " (see above)")
                    + "; nothing written");
        }

        int threads = common.threads() != null ? common.threads() : Runtime.getRuntime().availableProcessors();
        Evaluator.Report report;
        try (Progress progress = Progress.of(common, err, "images")) {
            int total = paired.pairs().size();
            report = new Evaluator(chosen, threads, resize).run(paired.pairs(), done -> {
                synchronized (progress) {
                    progress.update(done, total);
                }
            });
        }
        problems.addAll(report.problems());
        for (String p : problems) {
            err.println(Messages.clip(spec.name() + ": " + p, Messages.MAX_MESSAGE));
        }
        if (report.count() == 0) {
            err.flush();
            throw new BadInputException("no image could be scored; nothing written");
        }
        if (report.resized() > 0) {
            err.println(spec.name() + ": " + report.resized() + " SR image" + (report.resized() == 1 ? " was" : "s were")
                    + " resized to the GT size (" + resize.name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        writeCsv(report, out);
        if (!common.quiet()) {
            ReportWriter.table(report, err);
        }
        err.flush();
        return problems.isEmpty() ? ExitCodes.OK : ExitCodes.BAD_INPUT;
    }

    private PilResize.Filter resizeFilter() {
        if (resizeSr == null) {
            return null;
        }
        try {
            return PilResize.Filter.valueOf(resizeSr.strip().toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--resize-sr must be bicubic or lanczos, got '"
                    + resizeSr + "'");
        }
    }

    private MetricOptions options() {
        Convention c;
        try {
            c = Convention.parse(convention);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--convention: " + e.getMessage());
        }
        return new MetricOptions(c, cropBorder, rgb, weightsDir, engine);
    }

    private Set<String> metricNames() {
        if (metrics != null && !metrics.isEmpty()) {
            Set<String> names = new LinkedHashSet<>();
            for (String m : metrics) {
                String name = m.strip().toLowerCase(java.util.Locale.ROOT);
                if (name.equals("all")) {
                    MetricRegistry.entries().forEach(e -> names.add(e.name()));
                } else if (!name.isEmpty()) {
                    names.add(name);
                }
            }
            return names;
        }
        boolean haveGt = gt != null || (inputs != null && inputs.pairs != null);
        return haveGt ? new LinkedHashSet<>(List.of("psnr", "ssim", "niqe")) : Set.of("niqe");
    }

    private void writeCsv(Evaluator.Report report, PrintWriter out) throws IOException {
        if (output == null || output.toString().equals("-")) {
            ReportWriter.csv(report, out);
            out.flush();
            return;
        }
        try {
            AtomicFiles.writeStream(output, os -> {
                Writer w = new OutputStreamWriter(os, StandardCharsets.UTF_8);
                ReportWriter.csv(report, w);
                w.flush();
            });
        } catch (IOException | UncheckedIOException e) {
            throw BadInputException.of(output, "cannot write (" + e.getMessage() + ")", e);
        }
    }
}
