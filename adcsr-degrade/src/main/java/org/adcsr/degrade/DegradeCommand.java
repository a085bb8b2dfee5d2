package org.adcsr.degrade;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.Progress;
import org.adcsr.cli.SeedOptions;
import org.adcsr.cli.Values;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.degrade.Degrader;
import org.adcsr.core.degrade.Settings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "adcsr-degrade",
        description = {
            "Makes LR/HR image pairs with the Real-ESRGAN second-order degradation (blur, resize, noise, JPEG, twice;"
                + " then a sinc filter and JPEG in random order), as used to train AdcSR, reproducibly and in"
                + " parallel.",
            "",
            "Writes OUT/hr/ID.png (a --gt-size crop of an input), OUT/lr/ID.png (a quarter of that), OUT/pairs.csv"
                + " (one row per pair: paths, source, crop box, seed and every drawn parameter) and"
                + " OUT/pairs.settings (the parameters in --config form). Pair i's randomness comes from --seed and"
                + " i alone, so the output is byte-identical whatever --threads or --shard; --replay regenerates the"
                + " pairs of a pairs.csv exactly. An interrupted run resumes where it stopped when run again with"
                + " the same arguments; no file is ever half-written.",
            "",
            "Parameters use the names of the Real-ESRGAN/AdcSR YAML options (blur_sigma, kernel_prob,"
                + " resize_range2, jpeg_range, ...); see --print-config.",
            "",
            "Example: adcsr-degrade --preset adcsr --pairs-per-image 4 --seed 1 -o pairs/ photos/"},
        footer = {"", "See also: adcsr-upscale(1), adcsr-eval(1)."})
public class DegradeCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    SeedOptions seed;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "INPUT", arity = "0..*",
            description = "HR images, or directories searched (recursively, sorted) for .png/.jpg/.bmp/.tif/.gif/.webp.")
    List<Path> inputs = new ArrayList<>();

    @Option(names = "--list", paramLabel = "FILE",
            description = "A file naming one input (image or directory) per line, relative to the current directory;"
                    + " blank lines and #-comments are ignored.")
    Path list;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Output directory (created if needed).")
    Path output;

    @Option(names = "--preset", paramLabel = "NAME", defaultValue = "adcsr",
            description = "adcsr (AdcSR's config.yml, gt-size 512, default) or realesrgan"
                    + " (train_realesrgan_x4plus: 400 px crop, USM-sharpened input, gt-size 256).")
    String preset;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Parameters overriding the preset, one 'key: value' per line (the pairs.settings form).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Overrides one parameter, e.g. --set jpeg_range=[70,95] --set sinc_prob=0; repeatable,"
                    + " applied after --config.")
    List<String> sets = new ArrayList<>();

    @Option(names = "--gt-size", paramLabel = "N", converter = Values.Positive.class,
            description = "HR crop size, a multiple of 4 (LR is N/4); with --preset adcsr it also sets the crop"
                    + " that is degraded (crop_pad_size). Default: the preset's (512 or 256).")
    Integer gtSize;

    @Option(names = "--pairs-per-image", paramLabel = "N", defaultValue = "1", converter = Values.Positive.class,
            description = "Pairs drawn from each input (default: 1).")
    int pairsPerImage;

    @Option(names = "--shard", paramLabel = "I/N",
            description = "Makes only pairs with index = I-1 (mod N), I in 1..N, so N machines or array jobs can"
                    + " split a corpus; writes pairs.I-of-N.csv.")
    String shard;

    @Option(names = "--replay", paramLabel = "CSV",
            description = "Regenerates exactly the pairs recorded in a pairs.csv (inputs and parameters come from"
                    + " it).")
    Path replay;

    @Option(names = "--jpeg", paramLabel = "CODEC", defaultValue = Degrader.DIFFJPEG,
            description = "diffjpeg (BasicSR's float DiffJPEG, as in training; default) or imageio (a real"
                    + " baseline JPEG codec: integer quality, 8-bit samples, 4:2:0).")
    String jpeg;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "1", converter = Values.Positive.class,
            description = "Share the per-batch draws of the original (resize type, scale and mode; Gaussian or"
                    + " Poisson; second-blur coin; final order and resize mode; the gray Gaussian noise field) among"
                    + " each B consecutive pairs, for parity with training batches of B. Default 1: every draw per"
                    + " pair.")
    int batchSize;

    @Option(names = "--save-kernels", description = "Also writes the drawn blur kernels as 168x168 gray PNGs to"
            + " OUT/kernels/.")
    boolean saveKernels;

    @Option(names = "--force", description = "Overwrite an output directory that holds pairs of another run.")
    boolean force;

    @Option(names = "--print-config", description = "Print the effective parameters (config-file form) on stdout"
            + " and exit.")
    boolean printConfig;

    public static void main(String[] a) {
        System.exit(Cli.execute(new DegradeCommand(), a));
    }

    @Override
    public Integer call() throws IOException {
        if (common.device() != Engines.Target.CPU) {
            throw new BadInputException("adcsr-degrade runs on the CPU only (no --device gpu)");
        }
        Settings settings = settings();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (printConfig) {
            out.print(settings.describe());
            out.flush();
            return ExitCodes.OK;
        }
        if (output == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--output=DIR'");
        }
        List<Path> all = new ArrayList<>(inputs);
        if (list != null) {
            all.addAll(readList(list));
        }
        if (replay != null && !all.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--replay takes its inputs from the CSV; give no INPUT"
                    + " or --list");
        }
        if (replay == null && all.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "no INPUT given (images, directories or --list FILE)");
        }
        int[] sh = shard();
        String codec;
        try {
            codec = Degrader.codec(jpeg);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--jpeg: " + e.getMessage());
        }
        int threads = common.threads() != null ? common.threads() : Runtime.getRuntime().availableProcessors();
        DegradeRun.Options opts = new DegradeRun.Options(all, output, settings, preset, pairsPerImage, seed.seed(),
                sh[0], sh[1], codec, threads, saveKernels, force, replay, batchSize);
        DegradeRun.Summary summary;
        try (Progress progress = Progress.of(common, err, "pairs")) {
            summary = new DegradeRun(opts, new DegradeRun.Listener() {
                @Override
                public void warn(String message) {
                    if (!common.quiet()) {
                        synchronized (err) {
                            err.println("adcsr-degrade: warning: " + message);
                            err.flush();
                        }
                    }
                }

                @Override
                public void progress(long done, long total) {
                    synchronized (progress) {
                        progress.update(done, total);
                    }
                }
            }).run();
        }
        for (String e : summary.errors()) {
            err.println("adcsr-degrade: " + e);
        }
        if (summary.csv() == null) {
            err.println("adcsr-degrade: no pair could be made; nothing written");
        } else if (common.verbosity() >= 0) {
            err.printf("adcsr-degrade: %d pairs made, %d already done, %d of %d missing -> %s%n", summary.made(),
                    summary.resumed(), summary.total() - summary.made() - summary.resumed(), summary.total(),
                    summary.csv());
        }
        err.flush();
        return summary.errors().isEmpty() ? ExitCodes.OK : ExitCodes.BAD_INPUT;
    }

    private Settings settings() {
        return Settings.of(preset, config, sets, gtSize);
    }

    private int[] shard() {
        if (shard == null) {
            return new int[] {1, 1};
        }
        String[] p = shard.split("/");
        try {
            int i = Integer.parseInt(p[0].strip());
            int n = Integer.parseInt(p[1].strip());
            if (p.length == 2 && n >= 1 && i >= 1 && i <= n) {
                return new int[] {i, n};
            }
        } catch (RuntimeException e) {
            // fall through
        }
        throw new ParameterException(spec.commandLine(), "--shard must be I/N with 1 <= I <= N, got '" + shard
                + "'");
    }

    private static List<Path> readList(Path file) {
        try {
            List<Path> paths = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                String l = line.strip();
                if (!l.isEmpty() && !l.startsWith("#")) {
                    paths.add(Path.of(l));
                }
            }
            return paths;
        } catch (IOException | UncheckedIOException e) {
            throw BadInputException.of(file, "cannot read list (" + e.getMessage() + ")", e);
        }
    }
}
