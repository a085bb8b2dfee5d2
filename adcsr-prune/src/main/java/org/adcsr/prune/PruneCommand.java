package org.adcsr.prune;

import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.Progress;
import org.adcsr.cli.SeedOptions;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

@Command(name = "adcsr-prune",
        description = {
            "Builds AdcSR's starting weights from Stable Diffusion 2.1-base.",
            "",
            "Writes the student initialisation (the UNet without time embedding and cross-attention, conv_in and "
                + "conv_out widened by repetition, then the first 75%% of channels kept everywhere), the pruned VAE "
                + "decoder for Stage 1 (first 50%% of channels) and the frozen SD VAE encoder.",
            "",
            "Input: a diffusers model directory or the original single-file checkpoint (v2-1_512-ema-pruned"
                + ".safetensors or .ckpt) with --sd, or the two diffusers files with --unet and --vae (either alone "
                + "writes only its outputs); fp32 or fp16. Output, in DIR: " + Pruner.UNET_FILE + " (keys unet.<name>), "
                + Pruner.DECODER_FILE + " (decoder.<name>) and " + Pruner.ENCODER_FILE + " (encoder.<name>, "
                + "quant_conv, post_quant_conv), all fp32, written all or nothing. Tensors are streamed one at a "
                + "time, so memory stays far below the input size.",
            "",
            "Example: adcsr-prune --sd stable-diffusion-2-1-base -o init --report layers.csv",
            "",
            "Paper ablation 50/50: adcsr-prune --sd v2-1_512-ema-pruned.safetensors -o init-50 --unet-keep 0.5"
        })
public class PruneCommand implements Callable<Integer> {
    @Mixin CommonOptions common;
    @Mixin SeedOptions seed;
    @Spec CommandSpec spec;

    @Option(names = "--sd", paramLabel = "PATH",
            description = "SD2.1-base: a diffusers model directory (unet/, vae/) or a single-file checkpoint.")
    Path sd;

    @Option(names = "--unet", paramLabel = "FILE", description = "The diffusers UNet file (instead of --sd).")
    Path unet;

    @Option(names = "--vae", paramLabel = "FILE", description = "The diffusers VAE file (instead of --sd).")
    Path vae;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR",
            description = "Output directory (created if needed); required unless --dry-run.")
    Path output;

    @Option(names = "--dry-run",
            description = "Check the inputs and plan every tensor (and write --report), but write no weights.")
    boolean dryRun;

    @Option(names = "--unet-keep", paramLabel = "R", defaultValue = "0.75",
            description = "Fraction of UNet channels kept (default: ${DEFAULT-VALUE}; paper ablations 0.5, 1.0).")
    double unetKeep;

    @Option(names = "--decoder-keep", paramLabel = "R", defaultValue = "0.5",
            description = "Fraction of VAE decoder channels kept (default: ${DEFAULT-VALUE}).")
    double decoderKeep;

    @Option(names = "--decoder-init", paramLabel = "slice|random", defaultValue = "slice",
            converter = InitConverter.class,
            description = "Decoder initialisation: the first channels of the SD decoder, or PyTorch's default "
                    + "random initialisation seeded by --seed (default: ${DEFAULT-VALUE}).")
    Pruner.DecoderInit decoderInit;

    @Option(names = "--report", paramLabel = "FILE",
            description = "Write a CSV of every tensor (shapes and parameters before and after, totals); - for "
                    + "stdout.")
    Path report;

    @Option(names = "--force", description = "Replace existing output files.")
    boolean force;

    /** The SD architecture expected; tests set a small one. */
    SdConfig config = SdConfig.sd21Base();

    public static void main(String[] a) {
        System.exit(Cli.execute(new PruneCommand(), a));
    }

    @Override
    public Integer call() throws IOException {
        if ((sd == null) == (unet == null && vae == null)) {
            throw new ParameterException(spec.commandLine(), "give either --sd PATH or --unet FILE and/or --vae FILE");
        }
        if (output == null && !dryRun) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--output=DIR'");
        }
        PrintWriter err = spec.commandLine().getErr();
        Pruner.Options options = new Pruner.Options(unetKeep, decoderKeep, decoderInit, seed.seed());
        boolean toStdout = report != null && report.toString().equals("-");
        if (report != null && !toStdout && !force && Files.exists(report)) {
            throw BadInputException.of(report, "exists (use --force to replace it)");
        }
        try (SdInputs in = sd != null ? SdInputs.openModel(sd, config) : SdInputs.openFiles(unet, vae, config)) {
            Pruner.Plan plan = Pruner.plan(in, config, options);
            if (!dryRun) {
                Pruner.checkTargets(plan, output, force);
                try (Progress progress = Progress.of(common, err, "tensors")) {
                    int total = plan.tensors();
                    Pruner.write(plan, output, force, n -> progress.update(n, total));
                }
            }
            String csv = report == null ? null : LayerReport.csv(plan.rows());
            if (toStdout) {
                spec.commandLine().getOut().print(csv);
                spec.commandLine().getOut().flush();
            } else if (report != null) {
                AtomicFiles.writeStream(report, s -> s.write(csv.getBytes(StandardCharsets.UTF_8)));
            }
            if (common.verbosity() >= 0) {
                for (Pruner.Output o : plan.outputs()) {
                    err.printf(Locale.ROOT, "adcsr-prune: %s %s: %d tensors, %,d parameters%n",
                            dryRun ? "would write" : "wrote", output == null ? o.file() : output.resolve(o.file()),
                            o.entries().size(), o.parameters());
                }
                err.flush();
            }
        }
        return ExitCodes.OK;
    }

    static final class InitConverter implements ITypeConverter<Pruner.DecoderInit> {
        @Override
        public Pruner.DecoderInit convert(String value) {
            switch (value) {
                case "slice": return Pruner.DecoderInit.SLICE;
                case "random": return Pruner.DecoderInit.RANDOM;
                default: throw new TypeConversionException(
                        "expected slice or random, got '" + value + "'");
            }
        }
    }
}
