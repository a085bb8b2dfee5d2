package org.adcsr.upscale;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.ModelOptions;
import org.adcsr.cli.Progress;
import org.adcsr.cli.Terminal;
import org.adcsr.cli.UsageException;
import org.adcsr.cli.Values;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.Messages;
import org.adcsr.core.engine.EngineFaultException;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.image.PilResize;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.upscale.ColorCorrection;
import org.adcsr.core.upscale.Upscaler;
import org.adcsr.onnx.EngineChoice;
import org.adcsr.onnx.OrtNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "adcsr-upscale",
        subcommands = InfoCommand.class,
        versionProvider = VersionWithModel.class,
        description = {
            "Upscale images 4x with an AdcSR model, or with plain bicubic as a baseline: one image, several, or "
                    + "whole directories.",
            "",
            "Without --weights the embedded default model runs: a small AdcSR network (about 6 M parameters) that "
                    + "this suite trained itself on a few real photos (README: the default model; --version names "
                    + "it). The paper's network is --weights net_params_200.pkl --decoder halfDecoder.ckpt.",
            "",
            "Images of any size run whole or in overlapping tiles blended without seams; the colour fix uses "
                    + "whole-image statistics. PNG (8 and 16 bit), JPEG, BMP, GIF, TIFF and WebP are read; gray stays "
                    + "gray, alpha is upscaled separately and kept. Existing outputs are skipped (so an interrupted "
                    + "batch resumes) unless --overwrite; inputs are never overwritten; every output is written "
                    + "under a temporary name and renamed into place.",
            "",
            "--model bicubic needs no weights: PIL's BICUBIC resize (a = -0.5, Pillow 9.4's 8-bit arithmetic), every "
                    + "channel on its own, with the same inputs, outputs, batch behaviour and --report; no tiles and "
                    + "no colour fix.",
            "",
            "Examples:",
            "  adcsr-upscale photo.jpg -o photo_x4.png",
            "  adcsr-upscale --weights adcsr.safetensors photo.jpg -o photo_x4.png",
            "  adcsr-upscale --weights net_params_200.pkl --decoder halfDecoder.ckpt lr/ -o sr/ --report sr.csv",
            "  cat small.png | adcsr-upscale --weights adcsr.safetensors - -o - > big.png",
            "  adcsr-upscale --model bicubic lr/ -o bicubic/ --suffix '' && adcsr-eval --sr bicubic/ --gt hr/",
            ""
        },
        footer = {"", "See also: adcsr-upscale info (parameters and MACs), adcsr-eval(1)."})
public class UpscaleCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    ModelOptions model;

    /** What upscales: the AdcSR network, or the bicubic baseline. */
    enum Method {
        ADCSR, BICUBIC
    }

    @Option(names = "--model", paramLabel = "adcsr|bicubic", defaultValue = "adcsr", converter = MethodConverter.class,
            description = "adcsr: the network given by --weights, or the default model (default); bicubic: PIL's bicubic 4x resize, no "
                    + "weights, as a baseline to score against HR (the model options, --tile, --overlap, --color-fix, "
                    + "--precision and --engine are refused with it).")
    Method method;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "INPUT", arity = "0..*",
            description = "Image files, directories (searched recursively for images), or - for stdin.")
    List<String> inputs = new ArrayList<>();

    @Option(names = {"-o", "--output"}, paramLabel = "PATH",
            description = "Output file (one input), directory (input names mirrored, with --suffix; made if "
                    + "missing), or - for stdout (PNG). Default: next to each input, with --suffix; stdout when the "
                    + "input is - (stdin). A PNG is never written to a terminal.")
    String output;

    @Option(names = "--suffix", paramLabel = "TEXT", defaultValue = "_x4",
            description = "Added to input names for outputs in a directory or next to inputs (default: ${DEFAULT-VALUE}).")
    String suffix;

    @Option(names = "--format", paramLabel = "EXT", defaultValue = "png",
            description = "Output format when the output name is derived from the input: png, jpg, bmp or tif "
                    + "(default: ${DEFAULT-VALUE}). A named output file takes the format of its extension.")
    String format;

    @Option(names = {"--overwrite", "--force"}, description = "Replace existing outputs (default: skip them).")
    boolean overwrite;

    @Option(names = "--tile", paramLabel = "N", defaultValue = "128", converter = Values.Positive.class,
            description = "Tile side in LR pixels, a multiple of 16; images that fit run whole "
                    + "(default: ${DEFAULT-VALUE}; memory grows with N^2: peak RSS about 4.6 GiB at 128 and 9.6 GiB "
                    + "at 256 with the paper's model).")
    int tile;

    @Option(names = "--overlap", paramLabel = "M", defaultValue = "32", converter = Values.NonNegative.class,
            description = "Overlap of neighbouring tiles in LR pixels, a multiple of 16 (default: ${DEFAULT-VALUE}).")
    int overlap;

    @Option(names = "--color-fix", paramLabel = "adain|wavelet|none", converter = ColorFixConverter.class,
            description = "Colour correction from the whole input: adain (the official fix), wavelet (StableSR) "
                    + "or none (default: the one the model card names as color_fix, else adain).")
    ColorCorrection colorFix;

    @Option(names = "--engine", paramLabel = "auto|onnxruntime|djl", defaultValue = "auto",
            converter = EngineChoice.Converter.class,
            description = "What runs the network (default: ${DEFAULT-VALUE}). onnxruntime: ONNX Runtime on the "
                    + "graph adcsr-export-qnn writes (with its upsamplers as sub-pixel convolutions and its attention "
                    + "fused: the same function, faster), built for the tile shape in use, with the weights cached once "
                    + "per weights file under ~/.cache/adcsr/onnx ($XDG_CACHE_HOME/adcsr/onnx; the size of the "
                    + "weights in float32); a session takes seconds to start, once per run with tiles and once per "
                    + "size for images that fit a tile; djl: libtorch "
                    + "through DJL; auto: ONNX Runtime where it loads (for --device gpu: where it has its CUDA "
                    + "provider), else DJL. Both give the same images up to float32 noise; -v and --report say "
                    + "which ran. --device gpu runs ONNX Runtime's CUDA provider when the onnxruntime_gpu jar is put "
                    + "first on the classpath (CLASSPATH_PREFIX; see the README), and is refused in one line "
                    + "without it.")
    EngineChoice engine;

    @Option(names = "--precision", paramLabel = "fp32|fp16", defaultValue = "fp32",
            description = "Arithmetic precision (default: ${DEFAULT-VALUE}). fp16 needs a GPU, which this build "
                    + "cannot use, and is refused.")
    String precision;

    @Option(names = "--jpeg-quality", paramLabel = "Q", defaultValue = "95", converter = Values.Quality.class,
            description = "Quality 1-100 of JPEG outputs (default: ${DEFAULT-VALUE}).")
    int jpegQuality;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Write a CSV row per image: input, output, status, sizes, tiles, seconds, peak memory.")
    Path report;

    @Option(names = "--max-pixels", paramLabel = "N", defaultValue = "268435456", converter = Values.PositiveLong.class,
            description = "Refuse inputs with more pixels than this, checked from the header before decoding "
                    + "(default: ${DEFAULT-VALUE}).")
    long maxPixels;

    /** The bicubic baseline's factor, the paper's. */
    static final int SCALE = 4;

    /** Whether stdout is a terminal; tests replace it. */
    java.util.function.BooleanSupplier stdoutIsTerminal = Terminal::stdout;

    public static void main(String[] args) {
        System.exit(Cli.execute(new UpscaleCommand(), args));
    }

    @Override
    public Integer call() throws IOException {
        if (inputs.isEmpty()) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required parameter: 'INPUT'");
        }
        if (!"fp32".equals(precision)) {
            throw new BadInputException("--precision " + precision + ": only fp32 runs in this build (fp16 needs a "
                    + "CUDA libtorch; on CPU it is slower and overflows in the decoder)");
        }
        if (method == Method.BICUBIC) {
            refuseModelOptions();
        }
        List<Job> jobs = Jobs.plan(inputs, output, suffix, format, overwrite);
        if (jobs.stream().anyMatch(j -> j.output() == null) && stdoutIsTerminal.getAsBoolean()) {
            throw new UsageException("will not write a PNG image to a terminal: redirect stdout (> out.png) or give "
                    + "-o FILE");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (method == Method.BICUBIC) {
            if (common.verbosity() >= 1) {
                err.println("adcsr-upscale: model: bicubic (PIL's BICUBIC 4x resize, a = -0.5; no weights)");
            }
            try (Report csv = Report.open(report, "bicubic", "")) {
                return run(jobs, csv, err, (job, in, progress) -> bicubic(in));
            }
        }
        boolean gpu = common.device() == Engines.Target.GPU;
        EngineChoice chosen = engine.resolve(gpu, engine == EngineChoice.DJL ? null : EngineChoice.probe());
        Upscaler.Options options = new Upscaler.Options(tile, overlap, colorFix());
        if (chosen == EngineChoice.ONNXRUNTIME) {
            int n = common.threads() != null ? common.threads() : Runtime.getRuntime().availableProcessors();
            OrtNetwork.Device device = gpu ? OrtNetwork.Device.CUDA : OrtNetwork.Device.CPU;
            try (OrtNetwork net = model.read((view, config) -> OrtNetwork.open(config, view,
                        Engines.cacheHome().resolve("onnx"), OrtNetwork.cacheKey(config, modelFiles()), n, device));
                    Report csv = Report.open(report, model.label(), chosen.label())) {
                describe(err, net.config(), chosen.label() + " " + OrtNetwork.ORT_VERSION + " ("
                        + device.name().toLowerCase(java.util.Locale.ROOT) + ", " + n + " threads; weights "
                        + (net.wroteCache() ? "written to " : "found in ") + net.cacheDir() + ")");
                Upscaler upscaler = new Upscaler(net, options);
                int code = run(jobs, csv, err, (job, in, progress) -> upscale(upscaler, job, in, progress));
                if (common.verbosity() >= 1) {
                    err.printf(java.util.Locale.ROOT, "adcsr-upscale: onnxruntime sessions built in %.1f s%n",
                            net.sessionSeconds());
                }
                return code;
            }
        }
        Engine djl;
        try {
            djl = Engines.start(common.device(), common.threads());
        } catch (BadInputException e) {
            if (gpu && engine == EngineChoice.AUTO) {
                // neither engine can use a GPU: one line for both, with libtorch's reason up to its details
                String djlReason = e.getMessage().replaceFirst("^--device gpu: ", "").replaceFirst(" \\(.*", "");
                throw new BadInputException("--device gpu: no engine here can use it (ONNX Runtime is the CPU build; "
                        + djlReason + "); for ONNX Runtime, " + EngineChoice.GPU_HINT, e);
            }
            throw e;
        }
        try (NDManager manager = djl.newBaseManager(Engines.device(common.device()));
                AdcsrModel net = model.load(manager, DataType.FLOAT32);
                Report csv = Report.open(report, model.label(), chosen.label())) {
            describe(err, net.config(), "djl (libtorch " + djl.getVersion() + ", "
                    + common.device().name().toLowerCase(java.util.Locale.ROOT) + ")");
            Upscaler upscaler = Upscaler.of(net, manager, options);
            return run(jobs, csv, err, (job, in, progress) -> upscale(upscaler, job, in, progress));
        }
    }

    /** The files the weights come from, for the cache key. */
    private List<Path> modelFiles() {
        List<Path> files = new ArrayList<>(List.of(model.weights()));
        if (model.decoder() != null) {
            files.add(model.decoder());
        }
        return files;
    }

    /** With -v: the model, its files and the engine that runs it. */
    private void describe(PrintWriter err, AdcsrConfig config, String engineText) {
        if (common.verbosity() >= 1) {
            err.println("adcsr-upscale: model: " + config.name() + " from " + model.label()
                    + (model.decoder() != null ? " with decoder " + model.decoder() : "") + "; engine: " + engineText);
        }
    }

    /** Upscales one decoded image of a job. */
    private interface ImageUpscaler {
        Upscaler.Result apply(Job job, Image in, Progress progress);
    }

    /** Runs every job, going on past bad inputs; the exit code. */
    private int run(List<Job> jobs, Report csv, PrintWriter err, ImageUpscaler method4x) {
        int failures = 0;
        int engineFaults = 0;
        for (Job job : jobs) {
            if (job.skip()) {
                csv.row(job, "skipped", null, null, 0, 0, "output exists (use --overwrite)");
                if (common.verbosity() >= 0) {
                    err.println("adcsr-upscale: " + job.output() + ": exists, skipped (use --overwrite)");
                }
                continue;
            }
            long t0 = System.nanoTime();
            String problem;
            try (Progress progress = Progress.of(common, err, job.name())) {
                Image in = read(job);
                Upscaler.Result r = method4x.apply(job, in, progress);
                write(r.image(), job);
                csv.row(job, "ok", in, r.image(), r.tiles(), (System.nanoTime() - t0) / 1e9, "");
                continue;
            } catch (BadInputException e) {
                problem = e.getMessage();
            } catch (EngineFaultException e) {
                // NaN or infinity out of the network: no output for this image, the others may be fine
                engineFaults++;
                problem = e.getMessage();
            }
            failures++;
            err.println(Messages.clip("adcsr-upscale: " + problem, Messages.MAX_MESSAGE));
            csv.row(job, "failed", null, null, 0, (System.nanoTime() - t0) / 1e9, problem);
        }
        if (failures > 0) {
            err.println("adcsr-upscale: " + failures + " of " + jobs.size() + " images failed"
                    + (engineFaults > 0 ? " (" + engineFaults + " by an engine fault)" : ""));
            // an engine fault outranks bad inputs: results from this machine are in doubt, not just some files
            return engineFaults > 0 ? ExitCodes.ENGINE_FAULT : ExitCodes.BAD_INPUT;
        }
        return ExitCodes.OK;
    }

    /** PIL's bicubic 4x resize of every channel; no tiles. */
    private static Upscaler.Result bicubic(Image in) {
        int w = Math.multiplyExact(in.width(), SCALE);
        int h = Math.multiplyExact(in.height(), SCALE);
        return new Upscaler.Result(PilResize.resizeAllChannels(in, w, h, PilResize.Filter.BICUBIC), 0);
    }

    /** The options that only the network uses, given on the command line with --model bicubic: a usage error. */
    private void refuseModelOptions() {
        picocli.CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
        for (String name : List.of("--weights", "--decoder", "--config", "--allow-unknown-globals", "--tile",
                "--overlap", "--color-fix", "--precision", "--engine")) {
            if (parsed.hasMatchedOption(name)) {
                throw new UsageException(name + " does not apply to --model bicubic");
            }
        }
        if (common.device() != Engines.Target.CPU) {
            throw new UsageException("--device " + common.device().name().toLowerCase(java.util.Locale.ROOT)
                    + " does not apply to --model bicubic (it runs on the CPU)");
        }
    }

    /** {@link Upscaler#upscale}, whose failures (which cannot know the file) are given the input's name. */
    private static Upscaler.Result upscale(Upscaler upscaler, Job job, Image in, Progress progress) {
        try {
            return upscaler.upscale(in, progress::update);
        } catch (BadInputException e) {
            throw new BadInputException(job.name() + ": " + e.getMessage(), e);
        } catch (EngineFaultException e) {
            throw new EngineFaultException(job.name() + ": " + e.getMessage());
        }
    }

    private Image read(Job job) {
        if (job.input() == null) {
            try (InputStream in = System.in) {
                return Images.read(in, "-", maxPixels);
            } catch (IOException e) {
                throw new BadInputException("-: cannot read stdin (" + e.getMessage() + ")", e);
            }
        }
        return Images.read(job.input(), maxPixels);
    }

    private void write(Image img, Job job) {
        if (job.output() == null) {
            try {
                OutputStream out = System.out;
                Images.write(img, "png", jpegQuality, out);
                out.flush();
            } catch (IOException e) {
                throw new BadInputException("-: cannot write stdout (" + e.getMessage() + ")", e);
            }
            return;
        }
        try {
            Path parent = job.output().toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw BadInputException.of(job.output(), "cannot create its directory (" + e.getMessage() + ")", e);
        }
        Images.write(img, job.output(), jpegQuality);
    }

    static final class MethodConverter implements picocli.CommandLine.ITypeConverter<Method> {
        @Override
        public Method convert(String value) {
            try {
                return Method.valueOf(value.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "expected adcsr or bicubic, got '" + value + "'");
            }
        }
    }

    /** --color-fix, else the model card's {@code color_fix}, else adain. */
    private ColorCorrection colorFix() {
        if (colorFix != null) {
            return colorFix;
        }
        String named = model.card().get("color_fix");
        if (named == null) {
            return ColorCorrection.ADAIN;
        }
        try {
            return new ColorFixConverter().convert(named);
        } catch (picocli.CommandLine.TypeConversionException e) {
            throw BadInputException.of(model.weights(), "model card color_fix: " + e.getMessage());
        }
    }

    static final class ColorFixConverter implements picocli.CommandLine.ITypeConverter<ColorCorrection> {
        @Override
        public ColorCorrection convert(String value) {
            try {
                return ColorCorrection.valueOf(value.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "expected adain, wavelet or none, got '" + value + "'");
            }
        }
    }
}
