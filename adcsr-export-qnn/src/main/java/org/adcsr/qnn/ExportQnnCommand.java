package org.adcsr.qnn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import onnx.Onnx.ModelProto;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.ModelOptions;
import org.adcsr.cli.Progress;
import org.adcsr.cli.SeedOptions;
import org.adcsr.cli.Values;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "adcsr-export-qnn",
        description = {
            "Exports AdcSR for the Qualcomm AI Engine Direct SDK (QNN/QAIRT) on Snapdragon 8 Elite (SM8750) at W8A16, "
                + "and verifies what it can with ONNX Runtime.",
            "",
            "Writes, into DIR: adcsr.onnx + adcsr.onnx.data (float32, opset 17, static shape, external weights, "
                + "tensor names = checkpoint keys and module names, HTP-friendly ops only), adcsr.encodings (AIMET "
                + "JSON: int8 symmetric weights, per channel for convs; uint16 activations calibrated on the --calib "
                + "images), calib/*.raw with input_list.txt (NCHW) and input_list_nhwc.txt, golden/*.raw (ONNX Runtime "
                + "outputs), htp/ (SM8750 backend config), commands.sh (the converter, quantizer and context-binary "
                + "command lines), adcsr.qdq.onnx (the W8A16 simulation graph), ranges.csv (calibrated range of every "
                + "encoded tensor; wide ones flagged) and manifest.json. The export is linted against the HTP "
                + "constraints before it is written; DIR appears only when complete.",
            "",
            "The colour fix and the [-1, 1] <-> 8-bit conversions stay on the CPU side (see manifest.json). The SDK is "
                + "not needed; no on-device number is claimed.",
            "",
            "With --simulate (or --simulate-on test images), prints CSV to stdout, one row per calibration (or test) "
                + "tile: max |d| of the float ONNX against "
                + "the DJL forward, and the PSNR of the W8A16-simulated (QDQ) output against the float output. A max "
                + "|d| above 1e-3 x max(1, max |DJL output|) or NaN, or a NaN PSNR, fails the export (exit 4; exit 5 "
                + "when the DJL forward itself gives NaN or infinity): the figures are printed, nothing is written.",
            "",
            "Example: adcsr-export-qnn --weights adcsr.safetensors --calib photos/ -o qnn/",
            "",
            "Lint an export: adcsr-export-qnn --lint qnn/"
        })
public class ExportQnnCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Mixin SeedOptions seed;
    @Mixin ModelOptions model;
    @Spec CommandSpec spec;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Export directory (must not exist, unless "
            + "--force).")
    Path output;

    @Option(names = "--calib", paramLabel = "DIR", description = "Calibration images (a directory, or one image); "
            + "the centre tile of each is used.")
    Path calib;

    @Option(names = "--calib-limit", paramLabel = "N", defaultValue = "32", converter = Values.Positive.class,
            description = "Use at most N calibration images, the first by name (default: ${DEFAULT-VALUE}).")
    int calibLimit;

    @Option(names = "--tile", paramLabel = "PX", defaultValue = "128", converter = Values.Positive.class,
            description = "LR input tile size; the graph is [1,3,PX,PX] -> [1,3,4PX,4PX] (default: ${DEFAULT-VALUE}).")
    int tile;

    @Option(names = "--encodings-version", paramLabel = "V", defaultValue = "0.6.1",
            description = "AIMET encodings format: 0.6.1 (every QNN/QAIRT) or 1.0.0 (default: ${DEFAULT-VALUE}).")
    String encodingsVersion;

    @Option(names = "--no-qdq", description = "Do not write the QDQ ONNX variant.")
    boolean noQdq;

    @Option(names = "--simulate", description = "Run the float and QDQ ONNX models with ONNX Runtime on the "
            + "calibration tiles and print max |d| against the DJL forward and the W8A16 PSNR as CSV; a max |d| out "
            + "of tolerance or a NaN fails the export.")
    boolean simulate;

    @Option(names = "--simulate-on", paramLabel = "DIR|FILE", description = "Simulate on these test images (their "
            + "centre tiles) instead of the calibration tiles; implies --simulate.")
    Path simulateOn;

    @Option(names = "--random-weights", description = "Export seeded random weights of --config (or the paper's "
            + "architecture) instead of --weights: for benchmarks and pipeline tests.")
    boolean randomWeights;

    @Option(names = "--force", description = "Replace an existing DIR (only once the new export is complete).")
    boolean force;

    @Option(names = "--lint", paramLabel = "DIR", description = "Only lint an existing export directory against the "
            + "HTP constraints; exit 4 if it fails.")
    Path lint;

    public static void main(String[] a) {
        System.exit(Cli.execute(new ExportQnnCommand(), a));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (lint != null) {
            return lint(lint, err);
        }
        if (output == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--output=DIR'");
        }
        if (calib == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--calib=DIR'");
        }
        Encodings.Format format;
        try {
            format = Encodings.Format.of(encodingsVersion);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (randomWeights == model.hasWeights()) {
            throw new ParameterException(spec.commandLine(), "give --weights FILE or --random-weights");
        }
        QnnExporter.checkOutput(output, force);
        List<Path> images = CalibImages.list(calib, calibLimit);
        int threads = common.threads() == null ? 1 : common.threads();
        Engine engine = Engines.start(common.device(), common.threads());
        String weights = randomWeights
                ? "random weights (seed " + seed.seed() + "): not a trained model; for benchmarks and pipeline tests"
                : model.weights().toAbsolutePath() + (model.decoder() == null ? ""
                        : " with decoder " + model.decoder().toAbsolutePath());
        List<Path> testImages = simulateOn == null ? List.of() : CalibImages.list(simulateOn, Integer.MAX_VALUE);
        QnnExporter.Options o = new QnnExporter.Options(output, images, tile, format, !noQdq,
                simulate || simulateOn != null, force, threads, weights, testImages);
        QnnExporter.Result r;
        try (NDManager m = engine.newBaseManager(Engines.device(common.device()));
             AdcsrModel net = randomWeights
                     ? AdcsrModel.random(model.config() != null ? model.config() : AdcsrConfig.paper(), seed.seed(),
                             m, DataType.FLOAT32)
                     : model.load(m, DataType.FLOAT32);
             Progress progress = Progress.of(common, err, "calibration runs")) {
            r = QnnExporter.export(net, m, o, progress::update);
        } catch (QnnExporter.LintException e) {
            e.problems.forEach(p -> err.println("adcsr-export-qnn: lint: " + p));
            err.println("adcsr-export-qnn: the export failed its HTP lint; nothing was written");
            err.flush();
            return ExitCodes.CHECK_FAILED;
        } catch (QnnExporter.SimulationException e) {
            printSimulation(e.rows);
            e.problems.forEach(p -> err.println("adcsr-export-qnn: " + p));
            err.println("adcsr-export-qnn: the export failed its simulation check; nothing was written");
            err.flush();
            return e.exitCode();
        }
        if (o.simulate()) {
            printSimulation(r.simulation());
        }
        for (String f : r.flagged()) {
            err.println("adcsr-export-qnn: warning: " + f + " has a very wide range (see ranges.csv); fp16 would "
                    + "overflow near it and 16-bit steps are coarse");
        }
        if (common.verbosity() >= 0) {
            err.printf(Locale.ROOT, "adcsr-export-qnn: wrote %s (%d activation and %d weight encodings, %d calibration "
                    + "tiles, lint passed%s)%n", r.output(), r.encodedActivations(), r.encodedParams(), images.size(),
                    o.simulate() ? ", simulation within tolerance" : "");
        }
        err.flush();
        return ExitCodes.OK;
    }

    /** The simulation's figures as CSV on stdout, one row per tile. */
    private void printSimulation(List<QnnExporter.SimRow> rows) {
        PrintWriter out = spec.commandLine().getOut();
        out.print("image,max_abs_diff_onnx_vs_djl,psnr_w8a16_vs_float_db\r\n");
        for (QnnExporter.SimRow s : rows) {
            out.print(QnnExporter.csv(s.image()) + "," + String.format(Locale.ROOT, "%.3e,%.2f", s.maxAbsDiffOnnxVsDjl(),
                    s.psnrW8a16VsFloatDb()) + "\r\n");
        }
        out.flush();
    }

    private int lint(Path dir, PrintWriter err) throws IOException {
        Path onnx = dir.resolve(QnnExporter.ONNX);
        Path enc = dir.resolve(QnnExporter.ENCODINGS);
        for (Path p : List.of(onnx, enc)) {
            if (!Files.isRegularFile(p)) {
                throw BadInputException.of(p, "no such file (not an adcsr-export-qnn directory?)");
            }
        }
        ModelProto m;
        try (InputStream in = Files.newInputStream(onnx)) {
            m = ModelProto.parseFrom(in);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw BadInputException.of(onnx, "not an ONNX model (" + e.getMessage() + ")", e);
        }
        List<String> problems = new ArrayList<>(Lint.graph(m));
        problems.addAll(Lint.encodings(m, Files.readString(enc)));
        problems.forEach(p -> err.println("adcsr-export-qnn: lint: " + p));
        if (common.verbosity() >= 0) {
            err.println("adcsr-export-qnn: " + dir + ": " + (problems.isEmpty() ? "lint passed"
                    : problems.size() + " problem(s)"));
        }
        err.flush();
        return problems.isEmpty() ? ExitCodes.OK : ExitCodes.CHECK_FAILED;
    }
}
