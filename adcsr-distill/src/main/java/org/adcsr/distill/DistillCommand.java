package org.adcsr.distill;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.adcsr.cli.Cli;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.Progress;
import org.adcsr.cli.SeedOptions;
import org.adcsr.cli.TrainOptions;
import org.adcsr.cli.UsageException;
import org.adcsr.cli.Values;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.LoraOps;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdConfigs;
import org.adcsr.core.train.Checkpoints;
import org.adcsr.core.train.DistillTraining;
import org.adcsr.core.train.OnlinePairs;
import org.adcsr.core.train.StopSignal;
import org.adcsr.core.upscale.ColorCorrection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** adcsr-distill: Stage 2, a thin layer over {@link DistillTraining}. */
@Command(name = "adcsr-distill", sortOptions = false,
        description = {
            "Stage 2 of AdcSR: adversarial feature distillation (ADCSR.md section 7). The student (the pruned UNet"
                + " with its connector and a trainable copy of the Stage-1 decoder's mid block) learns the target"
                + " features of each LR image, L_G = mean|f_s - f_t| + lambda * mean softplus(-D(f_s)), against a"
                + " discriminator D: a copy of the SD UNet at t = 999 whose conv_in reads the features (weights"
                + " repeated and divided, as train.py), with PEFT LoRA in three adapters; D learns"
                + " L_D = mean softplus(D(f_s)) + mean softplus(-D(f_GT)). f_GT = decoder mid block of"
                + " post_quant_conv(E(HR).mean) with the frozen encoder and decoder. One G step, then one D step,"
                + " per iteration; Adam (PyTorch defaults), fp32.",
            "",
            "Targets: --teacher osediff.pkl (the paper's: z = E(bicubic x4 LR).mean * 0.18215, eps = UNet(z, 999,"
                + " text), z0 = (z - sqrt(1 - abar) eps) / sqrt(abar), f_t = decoder mid block of"
                + " post_quant_conv(z0 / 0.18215)), --teacher gt (f_t = f_GT, the paper's ablation and the only"
                + " choice without a teacher network) or --teacher-features DIR (DIR/<pair id>.safetensors with a"
                + " tensor 'features' [C, h, w], computed by a teacher run elsewhere).",
            "",
            "OUT gets run.settings, train.csv (distil, adv, D as train.py logs them), checkpoints/step-N.safetensors"
                + " (student, D's trainables, both optimizers) and at the end model.safetensors: the inference"
                + " network with its config (adcsr-upscale --weights runs it as is). --resume OUT continues exactly;"
                + " Ctrl-C or SIGTERM writes a checkpoint and exits 130 or 143.",
            "",
            "Example: adcsr-distill --student random --config tiny.json --decoder vae/decoder.safetensors"
                + " --encoder vae/encoder.safetensors --teacher gt --disc-init random --disc-config disc.json"
                + " --pairs pairs/pairs.csv --steps 300 --batch 4 -o run"
        })
public class DistillCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    SeedOptions seed;

    @Mixin
    TrainOptions train;

    @Spec
    CommandSpec spec;

    @Option(names = "--student", paramLabel = "FILE|random", description = "The student's UNet: adcsr-prune's"
            + " unet_init.safetensors (unet.* keys, its config in the metadata), random (PyTorch's default"
            + " initialisation of --config), or a trained network to fine-tune (adcsr-distill's model.safetensors:"
            + " the UNet, the decoder's mid block and, with --lambda-pixel, its up blocks start from it; D starts"
            + " afresh; --decoder still gives the frozen decoder of f_GT).")
    String student;

    @Option(names = "--config", paramLabel = "FILE", description = "AdcSR config JSON of the student and decoder"
            + " (default: the student file's, else the paper's).")
    Path config;

    @Option(names = "--decoder", paramLabel = "FILE", description = "The Stage-1 decoder (adcsr-train-vae's"
            + " decoder.safetensors: decoder.* from conv_in to conv_out). Its mid block initialises the student's;"
            + " all of it stays frozen for f_GT, and for the output's up blocks unless --lambda-pixel trains a copy.")
    Path decoder;

    @Option(names = "--encoder", paramLabel = "FILE|DIR", description = "The frozen encoder for f_GT (encoder.*,"
            + " quant_conv.*, post_quant_conv.*): adcsr-train-vae's encoder.safetensors (its shape from its"
            + " metadata), or SD's VAE as adcsr-train-vae --encoder reads it (a diffusers model or vae/ folder, a"
            + " diffusers VAE file fp32/fp16, adcsr-prune's vae_encoder.safetensors, a single-file SD checkpoint).")
    Path encoder;

    @Option(names = "--teacher", paramLabel = "gt|FILE", description = "gt: f_teacher = f_GT; or AdcSR's merged"
            + " OSEDiff weights (weight/pretrained/osediff.pkl, read as data): f_teacher from one step at t = 999 on"
            + " the bicubic LR, its UNet of --disc-config's architecture (SD2.1-base), its VAE of the --encoder's.")
    String teacher;

    @Option(names = "--teacher-features", paramLabel = "DIR", description = "Precomputed teacher features:"
            + " DIR/<pair id>.safetensors, tensor 'features' [C, h, w].")
    Path teacherFeatures;

    @Option(names = "--disc-unet", paramLabel = "FILE|DIR", description = "D's SD UNet: a diffusers model or"
            + " unet/ folder (diffusion_pytorch_model[.fp16].safetensors or .bin; its config.json is the default"
            + " --disc-config), a diffusers UNet file, or a single-file SD checkpoint (fp32/fp16/bf16; default"
            + " config SD2.1-base).")
    Path discUnet;

    @Option(names = "--disc-init", paramLabel = "random", description = "random: D from PyTorch's default"
            + " initialisation of --disc-config (for configs without a pretrained UNet).")
    String discInit;

    @Option(names = "--disc-config", paramLabel = "FILE", description = "D's UNet config.json (diffusers keys;"
            + " default: SD2.1-base's).")
    Path discConfig;

    @Option(names = "--disc", paramLabel = "lora|full", description = "Train D's LoRA and conv_in (default, as"
            + " train.py) or all of D (the full fine-tune ablation).")
    String disc = "lora";

    @Option(names = "--lora-rank", paramLabel = "R", converter = Values.Positive.class,
            description = "LoRA rank (default: 4).")
    int loraRank = Discriminator.RANK;

    @Option(names = "--lora-alpha", paramLabel = "A", description = "LoRA alpha; scale alpha/rank (default: PEFT's"
            + " 8).")
    double loraAlpha = LoraOps.PEFT_DEFAULT_ALPHA;

    @Option(names = "--prompt-embeddings", paramLabel = "FILE", description = "Text embeddings for D: one tensor"
            + " [N, tokens, cross width], N = 1 (every pair), one row per pair of --pairs or one per photo of"
            + " --images (default: zeros"
            + " [1, 77, width], no text conditioning).")
    Path promptEmbeddings;

    @Option(names = "--pairs", paramLabel = "CSV", description = "adcsr-degrade's pairs.csv (one LR size; HR 4x).")
    Path pairs;

    @Option(names = "--images", paramLabel = "FILE|DIR", arity = "1..*", description = "Instead of --pairs: photos"
            + " (files, or folders searched for images) degraded on the fly with adcsr-degrade's operations and"
            + " draws (--seed, the batch as --batch-size, the diffjpeg codec); sample k of the run is a crop of"
            + " the photos in seeded epoch order. Each sample's draws go to OUT/pairs.csv: adcsr-degrade --replay"
            + " OUT/pairs.csv writes the very pairs the run trained on.")
    List<Path> images;

    @Option(names = "--degrade-preset", paramLabel = "NAME", description = "With --images: adcsr (default; HR crop"
            + " 512, LR 128) or realesrgan, as adcsr-degrade --preset.")
    String degradePreset;

    @Option(names = "--degrade-config", paramLabel = "FILE", description = "With --images: degradation parameters"
            + " overriding the preset, one 'key: value' per line (adcsr-degrade's pairs.settings form).")
    Path degradeConfig;

    @Option(names = "--gt-size", paramLabel = "N", converter = Values.Positive.class, description = "With --images:"
            + " the HR crop (a multiple of 4; LR is N/4), as adcsr-degrade --gt-size (default: the preset's).")
    Integer gtSize;

    @Option(names = "--batch", paramLabel = "B", converter = Values.Positive.class,
            description = "Pairs per iteration (default: 8, train.py's per GPU).")
    int batch = 8;

    @Option(names = "--lr", paramLabel = "X", description = "The student's learning rate (default: 1e-4).")
    double lr = 1e-4;

    @Option(names = "--disc-lr", paramLabel = "X", description = "D's learning rate (default: 1e-6).")
    double discLr = 1e-6;

    @Option(names = "--lr-milestones", paramLabel = "LIST", split = ",", description = "Iterations after which the"
            + " student's rate is multiplied by --lr-gamma (default: 100000, train.py's epoch 100).")
    long[] milestones = {100_000};

    @Option(names = "--lr-gamma", paramLabel = "X", description = "Multiplier at each milestone (default: 0.5).")
    double gamma = 0.5;

    @Option(names = "--lambda-adv", paramLabel = "X", description = "Weight of the adversarial term (default: 1).")
    double lambdaAdv = 1;

    @Option(names = "--lambda-pixel", paramLabel = "X", description = "Weight of a pixel term mean|SR - HR| (see"
            + " --pixel-loss) on the output (the decoder's up blocks on f_s), which also trains the up blocks,"
            + " conv_norm_out and"
            + " conv_out (default: 0, the paper's Stage 2, which has neither). For a short-trained Stage-1"
            + " autoencoder whose up blocks cannot render f_GT faithfully: the default model uses it.")
    double lambdaPixel = 0;

    @Option(names = "--lambda-ssim", paramLabel = "X", description = "Weight of 1 - SSIM of the output's BT.601"
            + " Y against HR's (adcsr-eval's SSIM: 11x11 Gaussian window, sigma 1.5; on the output as the pixel term"
            + " sees it), added to the pixel term; needs --lambda-pixel (default: 0, none). train.csv then has an"
            + " ssim column (1 - SSIM).")
    double lambdaSsim = 0;

    @Option(names = "--pixel-loss", paramLabel = "l1|l2", description = "The pixel term's error: l1, the mean"
            + " absolute error (the default), or l2, the mean squared error, which PSNR measures and which weighs an"
            + " output's few large errors (an edge overshooting a soft original) more than its many small ones.")
    String pixelLoss = "l1";

    @Option(names = "--pixel-color-fix", paramLabel = "none|wavelet", description = "What the pixel term and the"
            + " validation PSNR compare with HR: the output itself (none, the default) or the output after"
            + " adcsr-upscale's wavelet colour fix, i.e. its high frequencies plus the bicubic LR's low ones (the"
            + " term is then |SR - L(SR) - (HR - L(up(LR)))|, and leaves SR's own low frequencies, which the fix"
            + " replaces, to the distillation term). For a model used with --color-fix wavelet: the model's"
            + " metadata then names wavelet as its colour fix (adcsr.card.color_fix), which adcsr-upscale uses"
            + " unless its --color-fix says otherwise.")
    String pixelColorFix = "none";

    @Option(names = "--adv-real", paramLabel = "gt|teacher", description = "What D learns to accept as real"
            + " (default: gt, as train.py).")
    String advReal = "gt";

    @Option(names = "--on-nan", paramLabel = "stop|skip", description = "A non-finite loss or gradient stops the"
            + " run (exit 6; the newest checkpoint is the last good state) or skips that update (default: stop).")
    String onNan = "stop";

    @Option(names = "--val", paramLabel = "CSV", description = "Held-out pairs (a pairs.csv of the same LR size):"
            + " their mean distillation loss |f_s - f_t| and the output's RGB PSNR against HR (after"
            + " --pixel-color-fix) go to OUT/val.csv"
            + " before the first iteration, every --val-every iterations and at the end.")
    Path val;

    @Option(names = "--val-every", paramLabel = "N", converter = Values.Positive.class,
            description = "Iterations between validations (default: 100).")
    int valEvery = 100;

    public static void main(String[] a) {
        System.exit(Cli.execute(new DistillCommand(), a));
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr();
        train.check(spec, null);
        Path resume = train.resume();
        Path out = train.out();
        for (String[] choice : new String[][] {{"--disc", disc, "lora", "full"}, {"--adv-real", advReal, "gt",
            "teacher"}, {"--on-nan", onNan, "stop", "skip"}, {"--pixel-color-fix", pixelColorFix, "none", "wavelet"},
                {"--pixel-loss", pixelLoss, "l1", "l2"}}) {
            if (!choice[1].equals(choice[2]) && !choice[1].equals(choice[3])) {
                throw new UsageException(choice[0] + " must be " + choice[2] + " or " + choice[3] + ", not "
                        + choice[1]);
            }
        }
        if (lambdaAdv < 0 || lambdaPixel < 0 || lambdaSsim < 0) {
            throw new UsageException("--lambda-adv, --lambda-pixel and --lambda-ssim must be at least 0");
        }
        if (lambdaSsim > 0 && lambdaPixel == 0) {
            throw new UsageException("--lambda-ssim needs --lambda-pixel (the SSIM term trains what the pixel term"
                    + " trains)");
        }
        Path run = train.run();
        DistillTraining.Settings settings;
        if (resume != null) {
            java.util.Properties stored = DistillTraining.settings(resume);
            settings = DistillTraining.resumed(resume, train.steps(), train.checkpointEvery(stored),
                    train.keep(stored));
        } else {
            settings = newRun();
            if (Files.exists(out)) {
                throw BadInputException.of(out, "exists; give a new directory, or --resume it");
            }
        }
        Engine engine = Engines.start(common.device(), common.threads());
        try (NDManager m = engine.newBaseManager(Engines.device(common.device()));
                Progress progress = Progress.of(common, err, "iterations")) {
            if (resume == null) {
                Files.createDirectories(out);
            }
            DistillTraining.writeSettings(run, settings);
            StopSignal.install();
            DistillTraining training = new DistillTraining(line -> {
                if (!common.quiet()) {
                    err.println("adcsr-distill: " + line);
                }
            });
            long done;
            try {
                done = training.run(settings, run, m, step -> progress.update(step, settings.steps()));
            } catch (RuntimeException | IOException | Error e) {
                if (resume == null) {
                    Checkpoints.removeIfNone(out); // failed before its first checkpoint
                }
                throw e;
            }
            String signal = StopSignal.requested();
            if (signal != null) {
                err.println("adcsr-distill: stopped by SIG" + signal + " after iteration " + done + "; checkpoint"
                        + " written, continue with --resume " + run);
                return StopSignal.exitCode(signal);
            }
        }
        return ExitCodes.OK;
    }

    private DistillTraining.Settings newRun() {
        long steps = train.newRunSteps();
        if (student == null || decoder == null || encoder == null || (pairs == null) == (images == null)) {
            throw new UsageException("a new run needs --student, --decoder, --encoder and --pairs or --images");
        }
        if (images == null && (degradePreset != null || degradeConfig != null || gtSize != null)) {
            throw new UsageException("--degrade-preset, --degrade-config and --gt-size go with --images");
        }
        if (images != null && teacherFeatures != null) {
            throw new UsageException("--teacher-features names features by pair id: it needs --pairs");
        }
        if ((teacher != null) == (teacherFeatures != null)) {
            throw new UsageException("give --teacher gt or --teacher-features DIR");
        }
        Path osediff = teacher != null && !teacher.equals("gt") ? Path.of(teacher) : null;
        if (osediff != null && !Files.isRegularFile(osediff)) {
            throw BadInputException.of(osediff, "no such file (--teacher takes gt or the merged osediff.pkl)");
        }
        if ((discUnet != null) == (discInit != null)) {
            throw new UsageException("give --disc-unet FILE|DIR or --disc-init random");
        }
        if (discInit != null && !discInit.equals("random")) {
            throw new UsageException("--disc-init must be random, not " + discInit);
        }
        if (advReal.equals("teacher") && "gt".equals(teacher)) {
            throw new UsageException("--adv-real teacher needs a teacher other than gt");
        }
        if (teacherFeatures != null && !Files.isDirectory(teacherFeatures)) {
            throw BadInputException.of(teacherFeatures, "no such directory");
        }
        Path studentFile = student.equals("random") ? null : Path.of(student);
        AdcsrConfig c = config != null ? AdcsrConfig.read(config)
                : studentFile != null ? configOf(studentFile) : AdcsrConfig.paper();
        Path discFile = discUnet;
        SdConfig dc = SdConfig.sd21Base();
        if (discUnet != null && Files.isDirectory(discUnet)) {
            Path dir = Files.isDirectory(discUnet.resolve("unet")) ? discUnet.resolve("unet") : discUnet;
            if (discConfig == null && Files.isRegularFile(dir.resolve("config.json"))) {
                dc = SdConfigs.read(dir.resolve("config.json"));
            }
        }
        if (discConfig != null) {
            dc = SdConfigs.read(discConfig);
        }
        VaeEncoder.Config enc = DistillTraining.encoderConfigOf(encoder);
        return new DistillTraining.Settings(c, studentFile, decoder, encoder, enc,
                osediff != null ? DistillTraining.Teacher.OSEDIFF : teacher != null ? DistillTraining.Teacher.GT
                        : DistillTraining.Teacher.FEATURES, osediff != null ? osediff : teacherFeatures, dc,
                discFile, disc.equals("full"), loraRank, loraAlpha, promptEmbeddings, pairs, online(), steps, batch,
                seed.seed(), lr, discLr, milestones, gamma, lambdaAdv, lambdaPixel, pixelLoss.equals("l2"), lambdaSsim,
                ColorCorrection.valueOf(pixelColorFix.toUpperCase()), advReal.equals("teacher"),
                onNan.equals("skip"), train.checkpointEvery(null), train.keep(null), val, valEvery);
    }

    /** The photos and degradation of --images (settings built as adcsr-degrade builds them), or null. */
    private OnlinePairs.Spec online() {
        if (images == null) {
            return null;
        }
        String preset = degradePreset != null ? degradePreset : "adcsr";
        if (!org.adcsr.core.degrade.Settings.presets().contains(preset)) {
            throw new UsageException("--degrade-preset must be one of " + org.adcsr.core.degrade.Settings.presets()
                    + ", not " + preset);
        }
        return new OnlinePairs.Spec(OnlinePairs.expand(images),
                org.adcsr.core.degrade.Settings.of(preset, degradeConfig, List.of(), gtSize));
    }

    private static AdcsrConfig configOf(Path file) {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            String json = r.metadata().get(ModelFiles.CONFIG_KEY);
            return json == null ? AdcsrConfig.paper() : AdcsrConfig.fromJson(json);
        }
    }

}
