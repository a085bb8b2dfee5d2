package org.adcsr.trainvae;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.Progress;
import org.adcsr.cli.SeedOptions;
import org.adcsr.cli.TrainOptions;
import org.adcsr.cli.UsageException;
import org.adcsr.cli.Values;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.nets.Lpips;
import org.adcsr.core.train.AutoencoderLoss;
import org.adcsr.core.train.StopSignal;
import org.adcsr.core.train.VaeTraining;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** adcsr-train-vae: Stage 1, a thin layer over {@link VaeTraining}. */
@Command(name = "adcsr-train-vae", sortOptions = false,
        description = {
            "Stage 1 of AdcSR: pretrain the pruned VAE decoder with the LDM autoencoder recipe (L1 + LPIPS-VGG, a"
                + " hinge PatchGAN from --disc-start, the adaptive weight on decoder.conv_out, Adam betas (0.5, 0.9))"
                + " on random crops of IMAGES, resumably. The decoder's input is post_quant_conv(z) of the VAE"
                + " encoder's posterior (our reading of the unpublished recipe: Stage 2 feeds the decoder exactly"
                + " that). The encoder is SD's, frozen, read from any form of the SD VAE (--encoder), or trained"
                + " jointly (--train-encoder, with the KL term), for configs without a pretrained encoder. The"
                + " decoder starts random (as in the paper), sliced from the SD decoder as adcsr-prune cuts it, or"
                + " from a decoder file (--decoder-init).",
            "",
            "OUT gets run.settings, train.csv (one row per step), checkpoints/step-N.safetensors (the newest"
                + " --keep), with --val val.csv, and at the end decoder.safetensors (decoder.* keys, the config in"
                + " its metadata: give it to adcsr-upscale --decoder) and, with --train-encoder,"
                + " encoder.safetensors. --resume OUT continues from the newest checkpoint to --steps, exactly as an"
                + " uninterrupted run; it takes its settings from OUT/run.settings and refuses options that would"
                + " change them. Ctrl-C or SIGTERM writes a checkpoint and exits 130 or 143.",
            "",
            "Examples: adcsr-train-vae --encoder stable-diffusion-2-1-base --weights-dir weights --steps 250000"
                + " --val held-out/ -o run photos/",
            "  adcsr-train-vae --encoder v2-1_512-ema-pruned.safetensors --decoder-init slice --perceptual none"
                + " --steps 1000 -o run - < photo-list.txt",
            "  adcsr-train-vae --train-encoder --config tiny.json --steps 2000 --batch 4 --crop 128"
                + " --perceptual none -o run photos/"
        })
public class TrainVaeCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    SeedOptions seed;

    @Mixin
    TrainOptions train;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "IMAGES", arity = "0..*",
            description = "Training images: files or directories (walked recursively, sorted); - reads a list of"
                    + " them from stdin, one per line (blank lines and lines starting with # are skipped).")
    List<Path> inputs = new ArrayList<>();

    @Option(names = "--config", paramLabel = "FILE", description = "AdcSR config JSON giving the decoder's widths"
            + " (default: the paper's half decoder).")
    Path config;

    @Option(names = "--encoder", paramLabel = "PATH", description = "The SD VAE whose encoder, quant_conv and"
            + " post_quant_conv are frozen: a diffusers model directory or its vae/ directory, a diffusers VAE file"
            + " (vae/diffusion_pytorch_model[.fp16].safetensors), adcsr-prune's vae_encoder.safetensors, or a"
            + " single-file SD checkpoint (.safetensors or .ckpt, first_stage_model.* LDM names); fp32 or fp16.")
    Path encoder;

    @Option(names = "--decoder-init", paramLabel = "random|slice|FILE", description = "Where the decoder starts:"
            + " PyTorch's default initialisation (the paper trains it from scratch), slice (the first channels of"
            + " the SD VAE decoder in --encoder's file, as adcsr-prune cuts it; needs a full VAE), or a decoder"
            + " file: adcsr-prune's decoder_init.safetensors, an earlier decoder.safetensors, or the official"
            + " halfDecoder.ckpt; its recorded config is the default --config (a file named random or slice: give"
            + " ./random). Default: random.")
    String decoderInit = "random";

    @Option(names = "--allow-unknown-globals", description = "Accept pickle globals of unknown classes in a PyTorch"
            + " checkpoint (--encoder, --decoder-init) as inert data; calls and code-running modules are still"
            + " refused.")
    boolean allowUnknownGlobals;

    @Option(names = "--train-encoder", description = "Train a KL encoder jointly instead (no pretrained one).")
    boolean trainEncoder;

    @Option(names = "--encoder-widths", paramLabel = "LIST", split = ",", description = "With --train-encoder: the"
            + " encoder's widths per level (default: SD's 128,256,512,512; the levels must match the decoder's).")
    int[] encoderWidths = VaeEncoder.Config.sd().blockOutChannels();

    @Option(names = "--encoder-layers", paramLabel = "N", converter = Values.Positive.class,
            description = "With --train-encoder: resnets per encoder level (default: 2).")
    int encoderLayers = 2;

    @Option(names = "--latent-channels", paramLabel = "N", converter = Values.Positive.class,
            description = "With --train-encoder: channels of the latent (default: SD's 4). Only training sees the"
                    + " latent (adcsr-upscale's network predicts the decoder's features), so a wider one lifts the"
                    + " reconstruction ceiling of a small model at no cost to its inference.")
    int latentChannels = 4;

    @Option(names = "--batch", paramLabel = "B", converter = Values.Positive.class,
            description = "Crops per step (default: 4).")
    int batch = 4;

    @Option(names = "--crop", paramLabel = "C", converter = Values.Positive.class,
            description = "Crop size in pixels, a multiple of 8 (default: 256).")
    int crop = 256;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate of both optimizers (default: the"
            + " paper's 1.3e-6).")
    double lr = 1.3e-6;

    @Option(names = "--lr-milestones", paramLabel = "LIST", split = ",", converter = Values.PositiveLong.class,
            description = "Steps after which the learning rate is multiplied by --lr-gamma (default: none, LDM's"
            + " fixed rate).")
    long[] milestones = {};

    @Option(names = "--lr-gamma", paramLabel = "X", description = "Multiplier at each milestone (default: 0.5).")
    double gamma = 0.5;

    @Option(names = "--disc-start", paramLabel = "N", description = "Steps before the adversarial term (default:"
            + " LDM's 50001).")
    long discStart = 50001;

    @Option(names = "--disc-weight", paramLabel = "X", description = "Adversarial weight (default: LDM's 0.5).")
    double discWeight = 0.5;

    @Option(names = "--kl-weight", paramLabel = "X", description = "KL weight with --train-encoder (default: 1e-6).")
    double klWeight = 1e-6;

    @Option(names = "--perceptual", paramLabel = "lpips-vgg|none", description = "The perceptual term: LDM's"
            + " LPIPS-VGG with weight 1 (needs --weights-dir) or none (default: lpips-vgg).")
    String perceptual = "lpips-vgg";

    @Option(names = "--weights-dir", paramLabel = "DIR", description = "Where " + Lpips.HEADS_VGG + " and "
            + Lpips.BACKBONE_VGG + " are (they cannot be downloaded here).")
    Path weightsDir;

    @Option(names = "--disc-width", paramLabel = "N", converter = Values.Positive.class,
            description = "The PatchGAN's first width (default: LDM's 64).")
    int discWidth = 64;

    @Option(names = "--disc-layers", paramLabel = "N", converter = Values.Positive.class,
            description = "The PatchGAN's strided layers (default: LDM's 3).")
    int discLayers = 3;

    @Option(names = "--posterior", paramLabel = "sample|mean", description = "Decode a posterior sample (LDM) or"
            + " its mean (default: sample).")
    String posterior = "sample";

    @Option(names = "--val", paramLabel = "DIR", description = "Held-out images (walked recursively): at step 0,"
            + " every --val-every steps and at the end, their centre crops are reconstructed (posterior mean) and"
            + " OUT/val.csv gets step, psnr (dB, mean over images), lpips (LPIPS-VGG when --weights-dir has it,"
            + " else nan) and l1 (in [-1, 1], as the loss's L1).")
    Path valDir;

    @Option(names = "--val-every", paramLabel = "N", converter = Values.Positive.class,
            description = "Steps between validations (default: 1000).")
    int valEvery = 1000;

    @Option(names = "--val-crop", paramLabel = "C", converter = Values.Positive.class,
            description = "Validation crop size, a multiple of 8 (default: --crop).")
    Integer valCrop;

    @Option(names = "--strict", description = "Refuse unreadable or too small images instead of skipping them.")
    boolean strict;

    /** The SD VAE's shape for a frozen --encoder (tests set a small one). */
    VaeEncoder.Config sdVae = VaeEncoder.Config.sd();

    public static void main(String[] a) {
        System.exit(Cli.execute(new TrainVaeCommand(), a));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        train.check(spec, inputs.isEmpty() ? null : "IMAGES", "--weights-dir", "--allow-unknown-globals");
        Path resume = train.resume();
        Path out = train.out();
        if (!perceptual.equals("none") && !perceptual.equals("lpips-vgg")) {
            throw new UsageException("--perceptual must be lpips-vgg or none, not " + perceptual);
        }
        if (!posterior.equals("sample") && !posterior.equals("mean")) {
            throw new UsageException("--posterior must be sample or mean, not " + posterior);
        }
        Path run = train.run();
        VaeTraining.Settings settings;
        List<Path> images;
        if (resume != null) {
            images = VaeTraining.images(resume);
            java.util.Properties stored = VaeTraining.settings(resume);
            long total = train.steps() != null ? train.steps() : Long.parseLong(stored.getProperty("steps", "0"));
            settings = VaeTraining.resumed(resume, total, train.checkpointEvery(stored), train.keep(stored));
        } else {
            long steps = train.newRunSteps();
            if (trainEncoder == (encoder != null)) {
                throw new UsageException("give --encoder FILE (a pretrained VAE) or --train-encoder, not both");
            }
            boolean encoderShape = spec.commandLine().getParseResult().hasMatchedOption("--encoder-widths")
                    || spec.commandLine().getParseResult().hasMatchedOption("--encoder-layers")
                    || spec.commandLine().getParseResult().hasMatchedOption("--latent-channels")
                    || spec.commandLine().getParseResult().hasMatchedOption("--kl-weight");
            if (encoderShape && !trainEncoder) {
                throw new UsageException("--encoder-widths, --encoder-layers, --latent-channels and --kl-weight apply"
                        + " to --train-encoder"
                        + " only (a pretrained encoder has SD's shape and no KL term)");
            }
            if (spec.commandLine().getParseResult().hasMatchedOption("--lr-gamma") && milestones.length == 0) {
                throw new UsageException("--lr-gamma needs --lr-milestones");
            }
            if (!(gamma > 0) || Double.isInfinite(gamma)) {
                throw new UsageException("--lr-gamma must be a positive number, not " + gamma);
            }
            if (crop % 8 != 0) {
                throw new UsageException("--crop must be a multiple of 8, not " + crop);
            }
            VaeTraining.DecoderInit init = switch (decoderInit) {
                case "random" -> VaeTraining.DecoderInit.RANDOM;
                case "slice" -> VaeTraining.DecoderInit.SLICE;
                default -> VaeTraining.DecoderInit.FILE;
            };
            if (init == VaeTraining.DecoderInit.SLICE && trainEncoder) {
                throw new UsageException("--decoder-init slice cuts the decoder of --encoder's SD VAE; with"
                        + " --train-encoder there is none (give random or a decoder file)");
            }
            Path decoderFile = init == VaeTraining.DecoderInit.FILE ? Path.of(decoderInit) : null;
            images = imageList(inputs, stdin);
            AdcsrConfig recorded = decoderFile == null || config != null ? null
                    : VaeTraining.recordedConfig(decoderFile, picklePolicy());
            AdcsrConfig decoder = config != null ? AdcsrConfig.read(config)
                    : recorded != null ? recorded : AdcsrConfig.paper();
            VaeEncoder.Config enc = trainEncoder
                    ? new VaeEncoder.Config(encoderWidths, encoderLayers, latentChannels, decoder.decoderNormGroups())
                    : sdVae;
            if (enc.blockOutChannels().length != decoder.decoderBlockOutChannels().length) {
                throw new BadInputException("the encoder has " + enc.blockOutChannels().length + " levels, the"
                        + " decoder " + decoder.decoderBlockOutChannels().length + ": the latent would not match");
            }
            settings = new VaeTraining.Settings(decoder, enc, trainEncoder, encoder, init, decoderFile, steps, batch,
                    crop,
                    seed.seed(), lr, milestones, gamma, discStart, discWeight, klWeight,
                    perceptual.equals("none") ? 0 : 1, discWidth,
                    discLayers, posterior.equals("sample"), train.checkpointEvery(null), train.keep(null), strict, valDir, valEvery,
                    valCrop != null ? valCrop : crop);
            VaeTraining.checkImages(images, crop, strict);
            int vc = valCrop != null ? valCrop : crop;
            if (valDir == null && (valCrop != null
                    || spec.commandLine().getParseResult().hasMatchedOption("--val-every"))) {
                throw new UsageException("--val-every and --val-crop need --val DIR");
            }
            if (vc % 8 != 0) {
                throw new UsageException("--val-crop must be a multiple of 8, not " + vc);
            }
            if (valDir != null) {
                org.adcsr.core.train.Validation.check(VaeTraining.imagesIn(valDir), vc);
            }
            if (Files.exists(out)) {
                throw BadInputException.of(out, "exists; give a new directory, or --resume it");
            }
        }
        Engine engine = Engines.start(common.device(), common.threads());
        try (NDManager m = engine.newBaseManager(Engines.device(common.device()));
                Progress progress = Progress.of(common, err, "steps")) {
            // the loss needs LPIPS; validation measures it when the weights are at hand
            AutoencoderLoss.Perceptual lpips = settings.perceptualWeight() > 0
                    || settings.valDir() != null && weightsDir != null ? lpips(m) : null;
            if (resume == null) {
                Files.createDirectories(out);
            }
            VaeTraining.writeSettings(run, settings, images); // on resume: the new --steps, if given
            StopSignal.install();
            VaeTraining training = new VaeTraining(settings.perceptualWeight() > 0 ? lpips : null, lpips, line -> {
                if (!common.quiet()) {
                    err.println("adcsr-train-vae: " + line);
                }
            }, picklePolicy());
            long done;
            try {
                done = training.run(settings, images, run, m, step -> progress.update(step, settings.steps()));
            } catch (RuntimeException | IOException | Error e) {
                if (resume == null) {
                    org.adcsr.core.train.Checkpoints.removeIfNone(out); // failed before its first checkpoint
                }
                throw e;
            }
            String signal = StopSignal.requested();
            if (signal != null) {
                err.println("adcsr-train-vae: stopped by SIG" + signal + " after step " + done + "; checkpoint written,"
                        + " continue with --resume " + run);
                return StopSignal.exitCode(signal);
            }
        }
        return ExitCodes.OK;
    }

    private PicklePolicy picklePolicy() {
        return allowUnknownGlobals ? PicklePolicy.allowingUnknownClasses()
                : PicklePolicy.strictWithHint(" (if it is a data-only class, --allow-unknown-globals accepts it)");
    }


    /** LDM's LPIPS on images in [−1, 1]: our LPIPS takes [0, 1]. */
    private AutoencoderLoss.Perceptual lpips(NDManager m) {
        if (weightsDir == null) {
            throw new BadInputException("--perceptual lpips-vgg (the default) needs --weights-dir with "
                    + Lpips.HEADS_VGG + " and " + Lpips.BACKBONE_VGG + "; or give --perceptual none");
        }
        Path heads = weightsDir.resolve(Lpips.HEADS_VGG);
        Path backbone = weightsDir.resolve(Lpips.BACKBONE_VGG);
        for (Path p : new Path[] {heads, backbone}) {
            if (!Files.isRegularFile(p)) {
                throw BadInputException.of(p, "missing (LPIPS-VGG's weights; or give --perceptual none)");
            }
        }
        try (TorchCheckpoint h = TorchCheckpoint.open(heads); TorchCheckpoint b = TorchCheckpoint.open(backbone)) {
            Lpips net = Lpips.load(Lpips.Backbone.VGG, m, b.tensors(), h.tensors());
            // Scalars, not div(Number): autograd keeps the divisor for the backward pass
            return (a, c) -> net.forward(Scalars.mul(a.add(1), 0.5), Scalars.mul(c.add(1), 0.5));
        }
    }

    /** Where IMAGES {@code -} reads its list (tests set another). */
    java.io.InputStream stdin = System.in;

    /** Files and directories (recursively, sorted) of images, by extension; {@code -} reads a list from {@code in}. */
    static List<Path> imageList(List<Path> inputs, java.io.InputStream in) throws IOException {
        if (inputs.isEmpty()) {
            throw new UsageException("no IMAGES given");
        }
        List<Path> images = new ArrayList<>();
        boolean stdinRead = false;
        for (Path p : inputs) {
            if (p.toString().equals("-")) {
                if (stdinRead) {
                    throw new UsageException("- (the list on stdin) given twice");
                }
                stdinRead = true;
                List<Path> listed = new ArrayList<>();
                int n = 0;
                for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                        .split("\r?\n")) {
                    n++;
                    String name = line.strip();
                    if (name.isEmpty() || name.startsWith("#")) {
                        continue;
                    }
                    Path f;
                    try {
                        f = Path.of(name);
                    } catch (java.nio.file.InvalidPathException e) {
                        throw new BadInputException("stdin line " + n + ": not a path (" + e.getReason() + ")");
                    }
                    if (!Files.exists(f)) {
                        throw new BadInputException("stdin line " + n + ": " + name + ": no such file or directory");
                    }
                    listed.add(f);
                }
                if (listed.isEmpty()) {
                    throw new BadInputException("stdin: the image list (IMAGES -) is empty");
                }
                images.addAll(imageList(listed, in));
                continue;
            }
            if (Files.isDirectory(p)) {
                images.addAll(VaeTraining.imagesIn(p));
            } else if (Files.isRegularFile(p)) {
                images.add(p);
            } else {
                throw BadInputException.of(p, "no such file or directory");
            }
        }
        return images;
    }
}
