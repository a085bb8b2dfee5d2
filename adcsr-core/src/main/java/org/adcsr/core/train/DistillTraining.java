package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Rng;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.io.AtomicFiles;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.DefaultModel;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.LoraOps;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.model.Ops;
import org.adcsr.core.model.SdUnet;
import org.adcsr.core.model.ShapeOps;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdConfigs;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.upscale.ColorCorrection;

/**
 * Stage 2 as a resumable run (ADCSR.md §7, {@link Stage2}): the student distilled from a teacher's features with a
 * LoRA discriminator, on adcsr-degrade's pairs. The run directory holds {@code run.settings}, {@code train.csv}
 * (train.py's {@code distil}, {@code adv}, {@code D}), {@code checkpoints/} (student, D's trainables, both
 * optimizers; the batches are a function of the step, so nothing else is needed to continue exactly) and at the end
 * {@code model.safetensors}: the whole inference network (student + the frozen decoder's up blocks) with its config,
 * which adcsr-upscale runs as is.
 */
public final class DistillTraining {
    /** Where the target features come from. */
    public enum Teacher {
        /** f_t = f_GT (the paper's ablation; the only choice without a teacher network). */
        GT,
        /** Precomputed per-pair files {@code DIR/<id>.safetensors} holding {@code features} [C, h, w]. */
        FEATURES,
        /** The merged OSEDiff weights ({@code osediff.pkl}): one-step diffusion of the bicubic LR, {@link Teacher}. */
        OSEDIFF
    }

    /**
     * Everything that defines a run; stored in {@code run.settings} and rebuilt on resume.
     *
     * @param studentFile adcsr-prune's {@code unet_init.safetensors} (keys {@code unet.*}), a trained network to
     *     fine-tune (adcsr-distill's {@code model.safetensors}: every trainable of the student starts from it), or
     *     null for PyTorch's default initialisation of {@code config}
     * @param decoderFile the Stage-1 decoder ({@code decoder.*} from {@code conv_in} to {@code conv_out})
     * @param encoderFile the frozen encoder ({@code encoder.*}, {@code quant_conv.*}, {@code post_quant_conv.*}):
     *     adcsr-train-vae's {@code encoder.safetensors} or an SD VAE in any form {@link SdInputs#openVae} reads
     * @param teacherPath the features directory ({@link Teacher#FEATURES}) or {@code osediff.pkl}
     *     ({@link Teacher#OSEDIFF}; its UNet has the architecture of {@code disc}, its VAE encoder that of
     *     {@code encoder}), else null
     * @param discUnet an SD UNet in any form {@link SdInputs#openUnet} reads, config {@code disc}; null: random
     * @param discFull train all of D (the full fine-tune ablation) instead of LoRA + conv_in
     * @param promptEmbeddings safetensors with one tensor [N, M, cross width] (N = 1 or one row per pair), or null
     *     for a zero text embedding [1, 77, cross width]
     * @param lambdaPixel weight of the L1 pixel term on the output, which also trains the decoder's up blocks
     *     ({@link Stage2}; 0: the paper's Stage 2)
     * @param pixelSquared the pixel term as a mean squared error (what PSNR measures) instead of L1
     * @param lambdaSsim weight of {@code 1 − SSIM} (Y) of the output as the pixel term sees it, with the pixel term
     *     only (0: none; {@link Stage2.PixelTerm#ssimLoss})
     * @param pixelFix the colour fix the pixel term (and the validation PSNR) sees the output through:
     *     {@link ColorCorrection#NONE} or {@link ColorCorrection#WAVELET} ({@link Stage2.PixelTerm})
     * @param pairs adcsr-degrade's pairs.csv, or null when {@code online} is given
     * @param online photos degraded on the fly ({@link OnlinePairs}; each sample's draws go to {@code pairs.csv} of
     *     the run), or null when {@code pairs} is given
     * @param val held-out pairs (a pairs.csv), or null: their mean distillation loss and the output's PSNR go to
     *     {@code val.csv} before the first step, every {@code valEvery} steps and at the end
     */
    public record Settings(AdcsrConfig config, Path studentFile, Path decoderFile, Path encoderFile,
            VaeEncoder.Config encoder, Teacher teacher, Path teacherPath, SdConfig disc, Path discUnet,
            boolean discFull, int loraRank, double loraAlpha, Path promptEmbeddings, Path pairs,
            OnlinePairs.Spec online, long steps, int batch,
            long seed, double lr, double discLr, long[] milestones, double gamma, double lambdaAdv,
            double lambdaPixel, boolean pixelSquared, double lambdaSsim, ColorCorrection pixelFix,
            boolean advRealTeacher, boolean skipNonFinite,
            int checkpointEvery, int keep, Path val, int valEvery) {}

    static final List<String> COLUMNS = List.of("step", "distil", "adv", "pixel", "loss", "D", "logits_real",
            "logits_fake", "lr", "lr_d", "seconds", "images_per_s");

    /** train.csv's columns: {@link #COLUMNS}, with {@code ssim} after {@code pixel} when the run has that term. */
    static List<String> columns(Settings s) {
        if (s.lambdaSsim() == 0) {
            return COLUMNS;
        }
        List<String> c = new ArrayList<>(COLUMNS);
        c.add(c.indexOf("pixel") + 1, "ssim");
        return List.copyOf(c);
    }
    static final List<String> VAL_COLUMNS = List.of("step", "distil", "psnr", "pairs");
    /** With {@code --images}: each sample's degradation draws, {@code adcsr-degrade --replay}'s input. */
    public static final String DRAWS = "pairs.csv";
    /** Length of the zero text embedding when no prompt embeddings are given (CLIP's 77 tokens). */
    static final int TOKENS = 77;

    private final Consumer<String> warn;

    /** @param warn one-line messages (resuming, skipped steps, what was chosen for the teacher and D) */
    public DistillTraining(Consumer<String> warn) {
        this.warn = warn;
    }

    /**
     * Trains to {@code s.steps()} from the newest checkpoint of {@code out}, if any, and writes
     * {@code model.safetensors}. Returns the step reached; stops early, after a checkpoint, on a signal.
     */
    public long run(Settings s, Path out, NDManager parent, LongConsumer progress) throws IOException {
        TrainingPairs data = s.online() != null ? OnlinePairs.open(s.online(), s.seed())
                : PairData.open(s.pairs(), s.seed());
        try (ParameterStore store = new ParameterStore(parent); NDManager frozenManager = parent.newSubManager()) {
            Rng init = new Rng(Rng.pairSeed(s.seed(), -1));
            List<TensorInfo> studentParams = studentParameters(s.config());
            Map<String, NDArray> frozen = new HashMap<>();
            loadStudent(s, store, studentParams, frozen, frozenManager, init);
            List<String> student = new ArrayList<>(store.trainable());
            try (SdInputs vae = SdInputs.openVae(s.encoderFile(), VaeTraining.sdConfig(s.encoder()), false)) {
                for (TensorInfo t : encoderParameters(s.encoder())) {
                    frozen.put(t.name(), frozenManager.create(vae.vae().readFloats(t.name()), new Shape(t.shape())));
                }
            }
            int width = s.config().connectorOutChannels();
            Map<String, NDArray> discBase = new HashMap<>();
            Ops<NDArray> discOps = loadDisc(s, width, store, discBase, frozenManager, init);
            List<String> disc = new ArrayList<>(store.trainable());
            disc.removeAll(student);
            // the student's ops render the output with the frozen up blocks unless the pixel term trains them
            Stage2.Nets nets = new Stage2.Nets(s.config(), s.encoder(), new DjlOps(frozen::get),
                    new DjlOps(name -> store.all().containsKey(name) ? store.get(name) : frozen.get(name)), s.disc(),
                    discOps);
            OsediffTeacher osediff = s.teacher() == Teacher.OSEDIFF
                    ? OsediffTeacher.open(s.teacherPath(), teacherConfig(s), frozenManager) : null;
            float[][] context = context(s, data.size());
            long[] contextShape = contextShape(s, data.size());
            Adam.Settings torch = new Adam.Settings(0.9, 0.999, 1e-8, 0, false);
            Adam optG = new Adam("student", torch, store, student);
            Adam optD = new Adam("discriminator", torch, store, disc);
            LrSchedule lrG = LrSchedule.multiStep(s.lr(), s.milestones(), s.gamma());
            long step = 0;
            Path latest = Checkpoints.latest(out);
            if (latest != null) {
                step = Checkpoints.load(latest, store, List.of(optG, optD)).step();
                warn.accept("resuming " + out + " at step " + step + " of " + s.steps());
            } else {
                warn.accept("teacher: " + describeTeacher(s) + "; discriminator: " + describeDisc(s));
            }
            PairData val = s.val() == null ? null : PairData.open(s.val(), s.seed());
            try (MetricsLog log = MetricsLog.open(out.resolve("train.csv"), columns(s), step);
                    MetricsLog valLog = val == null ? null : MetricsLog.open(out.resolve("val.csv"), VAL_COLUMNS,
                            step);
                    MetricsLog drawLog = data instanceof OnlinePairs ? MetricsLog.open(out.resolve(DRAWS),
                            OnlinePairs.logColumns(), step) : null) {
                if (val != null && step == 0) {
                    double[] v = validate(s, nets, val, parent, osediff, context[0], contextShape);
                    valLog.append(0, v[0], v[1], val.size());
                }
                while (step < s.steps()) {
                    long t0 = System.nanoTime();
                    long next = step + 1;
                    Stage2.Terms t;
                    try (NDManager m = parent.newSubManager()) {
                        PairData.Batch b = data.batch(next, s.batch());
                        int[] lrSize = data.lrSize();
                        NDArray lr = Scalars.owned(m.create(b.lr(), new Shape(s.batch(), 3, lrSize[0], lrSize[1])),
                                DataType.FLOAT32);
                        NDArray hr = Scalars.owned(m.create(b.hr(), new Shape(s.batch(), 3, 4 * lrSize[0],
                                4 * lrSize[1])), DataType.FLOAT32);
                        NDArray fGt = Stage2.groundTruthFeatures(nets, hr);
                        NDArray ctx = Stage2.context(m, context[0], contextShape, b.indices());
                        NDArray fT = switch (s.teacher()) {
                            case GT -> fGt;
                            case FEATURES -> teacherFeatures(s, (PairData) data, b.indices(), m, fGt);
                            case OSEDIFF -> osediff.features(nets, b.lr(), lr.getShape(), ctx);
                        };
                        Stage2.PixelTerm pixel = s.lambdaPixel() > 0 ? Stage2.PixelTerm.of(s.pixelFix(), m, b.lr(),
                                b.hr(), s.batch(), lrSize[0], lrSize[1]).squared(s.pixelSquared()) : null;
                        t = Stage2.iteration(nets, store, optG, optD, lrG.lr(next), s.discLr(), lr, fT,
                                s.advRealTeacher() ? fT : fGt, ctx, s.lambdaAdv(), pixel, s.lambdaPixel(),
                                s.lambdaSsim(), next,
                                guard(s, store));
                    }
                    step = next;
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    List<Double> cells = new ArrayList<>(List.of(t.distil(), t.adv(), t.pixel()));
                    if (s.lambdaSsim() > 0) { // columns(s)
                        cells.add(t.ssim());
                    }
                    cells.addAll(List.of(t.loss(), t.d(), t.logitsReal(), t.logitsFake(), lrG.lr(step), s.discLr(),
                            seconds, s.batch() / seconds));
                    log.append(step, cells.stream().mapToDouble(Double::doubleValue).toArray());
                    if (drawLog != null) {
                        for (List<String> row : OnlinePairs.logRows(((OnlinePairs) data).draws(step, s.batch()))) {
                            drawLog.appendCells(step, row);
                        }
                    }
                    progress.accept(step);
                    if (val != null && (step % s.valEvery() == 0 || step == s.steps())) {
                        double[] vv = validate(s, nets, val, parent, osediff, context[0], contextShape);
                        valLog.append(step, vv[0], vv[1], val.size());
                    }
                    boolean stop = StopSignal.requested() != null;
                    if (step % s.checkpointEvery() == 0 || step == s.steps() || stop) {
                        Checkpoints.save(out, step, store, List.of(optG, optD), Map.of(),
                                Map.of("adcsr.run", "adcsr-distill"), s.keep());
                    }
                    if (stop) {
                        return step;
                    }
                }
            }
            writeModel(s, store, frozen, out.resolve("model.safetensors"));
            return step;
        }
    }

    /**
     * Over the held-out pairs, in batches of the run's size, without gradients: the mean of {@code |f_s − f_t|} and
     * the mean PSNR of the output (the up blocks on {@code f_s}, RGB in [0, 1], clamped) against HR.
     */
    private static double[] validate(Settings s, Stage2.Nets nets, PairData val, NDManager parent,
            OsediffTeacher osediff, float[] embeddings, long[] embeddingShape) {
        double sum = 0;
        double psnr = 0;
        int n = val.size();
        int[] size = val.lrSize();
        for (int start = 0; start < n; start += s.batch()) {
            int[] idx = new int[Math.min(s.batch(), n - start)];
            for (int j = 0; j < idx.length; j++) {
                idx[j] = start + j;
            }
            try (NDManager m = parent.newSubManager()) {
                PairData.Batch b = val.load(idx);
                NDArray lr = m.create(b.lr(), new Shape(idx.length, 3, size[0], size[1]));
                NDArray hr = m.create(b.hr(), new Shape(idx.length, 3, 4 * size[0], 4 * size[1]));
                NDArray fGt = Stage2.groundTruthFeatures(nets, hr);
                NDArray fT = switch (s.teacher()) {
                    case GT -> fGt;
                    case FEATURES -> teacherFeatures(s, val, idx, m, fGt);
                    case OSEDIFF -> osediff.features(nets, b.lr(), lr.getShape(),
                            Stage2.context(m, embeddings, embeddingShape, new int[idx.length]));
                };
                NDArray fs = Stage2.studentFeatures(nets, lr);
                // per-pair means, weighted by pair, so batches of any size give the same mean
                long per = fs.getShape().size() / idx.length;
                sum += fs.sub(fT).abs().sum().toType(DataType.FLOAT64, false).getDouble() / per;
                NDArray sr = Stage2.render(nets, fs);
                if (s.pixelFix() != ColorCorrection.NONE) { // as the pixel term sees it (no copy of HR without a fix)
                    sr = Stage2.PixelTerm.of(s.pixelFix(), m, b.lr(), b.hr(), idx.length, size[0], size[1])
                            .fixed(sr, hr);
                }
                sr = sr.clip(-1, 1);
                double[] mse = sr.sub(hr).square().reshape(idx.length, -1).mean(new int[] {1})
                        .toType(DataType.FLOAT64, false).toDoubleArray();
                for (double e : mse) {
                    psnr += 10 * Math.log10(4 / e); // [−1, 1]: (1 − (−1))² = 4 is the peak
                }
            }
        }
        return new double[] {sum / n, psnr / n};
    }

    private Stage2.Guard guard(Settings s, ParameterStore store) {
        return (step, names, values, params) -> {
            String bad = null;
            for (int i = 0; i < values.length && bad == null; i++) {
                if (!Double.isFinite(values[i])) {
                    bad = "the loss term " + names[i] + " is " + values[i];
                }
            }
            for (int i = 0; i < params.size() && bad == null; i++) {
                if (!Double.isFinite(Gradients.maxAbs(store, params.get(i)))) {
                    bad = "the gradient of " + params.get(i) + " is not finite";
                }
            }
            if (bad == null) {
                return true;
            }
            if (s.skipNonFinite()) {
                warn.accept("step " + step + ": " + bad + "; its update is skipped (--on-nan skip)");
                return false;
            }
            throw new TrainingDivergedException("step " + step + ": " + bad + "; the newest checkpoint is the last"
                    + " good state (lower the learning rate, resume from it, or use --on-nan skip)");
        };
    }

    // ---- networks -------------------------------------------------------------------------------------------

    /** The student's parameters: the pruned UNet with its connector, and the decoder mid block (trainable copy). */
    public static List<TensorInfo> studentParameters(AdcsrConfig c) {
        ShapeOps o = new ShapeOps();
        AdcsrNetwork.student(o, c, new long[] {1, 3, c.sizeMultiple(), c.sizeMultiple()});
        return o.parameters();
    }

    /** The frozen Stage-1 decoder: {@code conv_in}, mid block, up blocks, {@code conv_norm_out}, {@code conv_out}. */
    public static List<TensorInfo> decoderParameters(AdcsrConfig c, int latent) {
        ShapeOps o = new ShapeOps();
        long[] h = AdcsrNetwork.decoderMid(o, c, AdcsrNetwork.decoderConvIn(o, c, new long[] {1, latent, 8, 8}));
        AdcsrNetwork.decoderUp(o, c, h);
        return o.parameters();
    }

    /** The frozen encoder with {@code quant_conv} and {@code post_quant_conv}. */
    public static List<TensorInfo> encoderParameters(VaeEncoder.Config e) {
        ShapeOps o = new ShapeOps();
        int scale = 1 << (e.blockOutChannels().length - 1);
        long[] moments = VaeEncoder.forward(o, e, new long[] {1, 3, scale, scale});
        o.conv2d(new long[] {1, e.latentChannels(), moments[2], moments[3]}, Stage1.POST_QUANT_CONV,
                e.latentChannels(), 1, 1, 0);
        return o.parameters();
    }

    private void loadStudent(Settings s, ParameterStore store, List<TensorInfo> params, Map<String, NDArray> frozen,
            NDManager fm, Rng init) {
        List<TensorInfo> unet = new ArrayList<>();
        for (TensorInfo t : params) {
            if (t.name().startsWith(AdcsrNetwork.UNET)) {
                unet.add(t);
            }
        }
        // the decoder: frozen in full (f_GT, f_teacher and, without the pixel term, the output's up blocks); its mid
        // block is also the student's, and with the pixel term so are the up blocks, conv_norm_out and conv_out
        List<TensorInfo> dec = decoderParameters(s.config(), s.encoder().latentChannels());
        loadFrozen(frozen, fm, s.decoderFile(), dec, "the decoder");
        Set<String> trained = new HashSet<>();
        params.forEach(t -> trained.add(t.name()));
        if (s.lambdaPixel() > 0) {
            ShapeOps up = new ShapeOps();
            int[] w = s.config().decoderBlockOutChannels();
            AdcsrNetwork.decoderUp(up, s.config(), new long[] {1, w[w.length - 1], 8, 8});
            up.parameters().forEach(t -> trained.add(t.name()));
        }
        List<TensorInfo> decTrained = new ArrayList<>();
        for (TensorInfo t : dec) {
            if (trained.contains(t.name())) {
                decTrained.add(t);
            }
        }
        if (s.studentFile() == null) {
            Stage1.initialise(store, unet, init, true);
            decTrained.forEach(t -> store.add(t.name(), frozen.get(t.name()).duplicate(), true));
            return;
        }
        // a pruned UNet (unet.* only: the decoder's trainables start as the Stage-1 decoder's), or a trained network
        // (adcsr-distill's model.safetensors: every trainable starts from it, a warm start)
        try (SafetensorsReader r = SafetensorsReader.open(s.studentFile())) {
            boolean whole = isWholeNetwork(r);
            if (whole && s.lambdaPixel() == 0) {
                warn.accept(s.studentFile() + ": a trained network; without --lambda-pixel its up blocks are not used"
                        + " (the output renders with --decoder's)");
            }
            for (TensorInfo t : unet) {
                store.add(t.name(), fm.create(read(r, s.studentFile(), t), new Shape(t.shape())), true);
            }
            for (TensorInfo t : decTrained) {
                store.add(t.name(), whole ? fm.create(read(r, s.studentFile(), t), new Shape(t.shape()))
                        : frozen.get(t.name()).duplicate(), true);
            }
        }
    }

    /** Whether a student file is a whole inference network (decoder keys beside the UNet's), not a pruned UNet. */
    static boolean isWholeNetwork(SafetensorsReader r) {
        return r.names().stream().anyMatch(n -> n.startsWith(AdcsrNetwork.DECODER));
    }

    private static void loadFrozen(Map<String, NDArray> into, NDManager m, Path file, List<TensorInfo> params,
            String what) {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (TensorInfo t : params) {
                into.put(t.name(), m.create(read(r, file, t), new Shape(t.shape())));
            }
        } catch (BadInputException e) {
            throw e.getMessage().contains(file.toString()) ? e
                    : BadInputException.of(file, "as " + what + ": " + e.getMessage());
        }
    }

    /** A tensor's values after checking that the file has it with the shape the architecture needs. */
    private static float[] read(SafetensorsReader r, Path file, TensorInfo t) {
        TensorInfo have = r.info(t.name());
        if (have == null) {
            throw BadInputException.of(file, "has no " + t.name() + " (the architecture needs it; is this the"
                    + " right file, and the right --config?)");
        }
        if (!Arrays.equals(have.shape(), t.shape())) {
            throw BadInputException.of(file, t.name() + " has shape " + have.shapeString() + ", the architecture"
                    + " needs " + t.shapeString() + " (another config?)");
        }
        float[] v = r.readFloats(t.name());
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw BadInputException.of(file, t.name() + " holds " + v[i] + " at element " + i
                        + " (weights must be finite)");
            }
        }
        return v;
    }

    /**
     * D: base weights frozen (from a file or random), conv_in widened, LoRA added (or all trainable). Tensor by
     * tensor, so that no second copy of the 3.46 GB SD UNet is ever held.
     */
    private Ops<NDArray> loadDisc(Settings s, int width, ParameterStore store, Map<String, NDArray> base,
            NDManager fm, Rng init) {
        SdConfig c = s.disc();
        Map<String, TensorInfo> sd = new HashMap<>();
        SdUnet.parameters(c, c.latentChannels()).forEach(t -> sd.put(t.name(), t));
        List<TensorInfo> layout = s.discFull() ? SdUnet.parameters(c, width)
                : Discriminator.parameters(c, width, s.loraRank(), s.loraAlpha());
        Ops<NDArray> engine = new DjlOps(name -> {
            NDArray p = store.all().get("disc." + name);
            return p != null ? p : base.get(name);
        });
        LoraOps<NDArray> lora = Discriminator.ops(engine, s.loraRank(), s.loraAlpha());
        try (SdInputs in = s.discUnet() == null ? null : SdInputs.openUnet(s.discUnet(), c)) {
            for (TensorInfo t : layout) {
                float[] v;
                if (LoraOps.isLoraParameter(t.name())) {
                    v = lora.gaussianInit(t, init);
                } else {
                    TensorInfo of = sd.get(t.name());
                    v = in != null ? in.unet().readFloats(t.name()) : Stage1.defaultInit(of, sd, init);
                    if (t.name().equals("conv_in.weight")) {
                        v = Discriminator.widenConvIn(v, of.shape(), width);
                    }
                }
                NDArray a = fm.create(v, new Shape(t.shape()));
                if (s.discFull() || Discriminator.isTrainable(t.name())) {
                    store.add("disc." + t.name(), a, true);
                } else {
                    base.put(t.name(), a);
                }
            }
        }
        return s.discFull() ? engine : lora;
    }

    // ---- teacher and text embedding ---------------------------------------------------------------------------

    private static NDArray teacherFeatures(Settings s, PairData data, int[] indices, NDManager m, NDArray like) {
        long[] shape = like.getShape().getShape();
        NDList rows = new NDList();
        for (int i : indices) {
            String id = data.pairs().get(i).id();
            Path f = s.teacherPath().resolve(id + ".safetensors");
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                TensorInfo t = r.info("features");
                long[] want = {shape[1], shape[2], shape[3]};
                if (t == null || !Arrays.equals(t.shape(), want)) {
                    throw BadInputException.of(f, "needs a tensor 'features' of shape " + Arrays.toString(want)
                            + (t == null ? "" : ", not " + t.shapeString()));
                }
                rows.add(m.create(r.readFloats("features"), new Shape(1, shape[1], shape[2], shape[3])));
            }
        }
        return NDArrays.concat(rows, 0).toType(like.getDataType(), false);
    }

    private static long[] contextShape(Settings s, int pairs) {
        if (s.promptEmbeddings() == null) {
            return new long[] {1, TOKENS, s.disc().crossAttentionDim()};
        }
        try (SafetensorsReader r = SafetensorsReader.open(s.promptEmbeddings())) {
            if (r.names().size() != 1) {
                throw BadInputException.of(s.promptEmbeddings(), "must hold exactly one tensor [N, tokens, "
                        + s.disc().crossAttentionDim() + "], not " + r.names().size());
            }
            long[] shape = r.info(r.names().get(0)).shape();
            if (shape.length != 3 || (shape[0] != 1 && shape[0] != pairs)
                    || shape[2] != s.disc().crossAttentionDim()) {
                throw BadInputException.of(s.promptEmbeddings(), "has shape " + Arrays.toString(shape) + "; needs [1 or "
                        + pairs + " (one row per pair), tokens, " + s.disc().crossAttentionDim() + "]");
            }
            return shape;
        }
    }

    private static float[][] context(Settings s, int pairs) {
        long[] shape = contextShape(s, pairs);
        if (s.promptEmbeddings() == null) {
            return new float[][] {new float[(int) (shape[1] * shape[2])]};
        }
        try (SafetensorsReader r = SafetensorsReader.open(s.promptEmbeddings())) {
            return new float[][] {r.readFloats(r.names().get(0))};
        }
    }

    static String describeTeacher(Settings s) {
        return switch (s.teacher()) {
            case GT -> "gt (f_teacher = f_GT, the paper's ablation)";
            case FEATURES -> "precomputed features from " + s.teacherPath();
            case OSEDIFF -> "OSEDiff " + s.teacherPath() + " (one step at t = 999 on the bicubic LR)";
        };
    }

    /** The teacher's architecture: D's UNet config (both are SD2.1-base's) with the VAE of {@code encoder}. */
    static SdConfig teacherConfig(Settings s) {
        SdConfig d = s.disc();
        VaeEncoder.Config e = s.encoder();
        return new SdConfig("OSEDiff teacher", d.unetWidths(), d.unetHeads(), d.unetLayers(), d.unetAttention(),
                d.crossAttentionDim(), e.latentChannels(), e.blockOutChannels(), e.layersPerBlock(), e.normGroups(),
                d.unetNormGroups());
    }

    static String describeDisc(Settings s) {
        String init = s.discUnet() == null ? "random SD UNet (no pretrained weights)" : s.discUnet().toString();
        return init + (s.discFull() ? ", fully trained" : ", LoRA rank " + s.loraRank() + " alpha " + s.loraAlpha())
                + (s.promptEmbeddings() == null ? ", zero text embedding" : ", prompts " + s.promptEmbeddings());
    }

    // ---- results -------------------------------------------------------------------------------------------

    /** The inference network: the trained student and the decoder's up blocks (trained or frozen), with the config. */
    private static void writeModel(Settings s, ParameterStore store, Map<String, NDArray> frozen, Path file)
            throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelFiles.FORMAT_KEY, ModelFiles.FORMAT);
        meta.put(ModelFiles.CONFIG_KEY, s.config().toJson().replaceAll("\\s+", ""));
        meta.put("adcsr.stage", "2 (adcsr-distill, " + s.steps() + " steps)");
        meta.put("adcsr.teacher", describeTeacher(s));
        if (s.lambdaPixel() > 0) {
            meta.put("adcsr.pixel_loss", s.lambdaPixel() + (s.pixelSquared() ? " x squared error" : " x L1")
                    + (s.lambdaSsim() > 0 ? " + " + s.lambdaSsim() + " x (1 - SSIM of Y)" : "")
                    + " (up blocks trained in Stage 2"
                    + (s.pixelFix() == ColorCorrection.NONE ? ")" : "; after the " + pixelFixName(s) + " colour fix)"));
        }
        if (s.pixelFix() != ColorCorrection.NONE) {
            // the fix the output was trained to be seen through, as a model card names it: adcsr-upscale then uses it
            // unless --color-fix says otherwise (its default for weights without a card is adain)
            meta.put(DefaultModel.CARD_PREFIX + "color_fix", pixelFixName(s));
        }
        meta.put("adcsr.discriminator", describeDisc(s));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (TensorInfo t : AdcsrModel.parameterList(s.config())) {
            NDArray a = store.all().containsKey(t.name()) ? store.get(t.name()) : frozen.get(t.name());
            entries.add(new SafetensorsWriter.Entry(t.name(), t.shape(),
                    () -> a.toType(DataType.FLOAT32, false).toFloatArray()));
        }
        SafetensorsWriter.write(file, meta, entries, DType.F32);
    }

    // ---- run.settings ----------------------------------------------------------------------------------------

    /** The settings as {@code key=value} lines, in a fixed order. */
    public static String describe(Settings s) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("config", s.config().toJson().replaceAll("\\s+", ""));
        v.put("student", s.studentFile() == null ? "random" : s.studentFile().toAbsolutePath().toString());
        v.put("decoder", s.decoderFile().toAbsolutePath().toString());
        v.put("encoder", s.encoderFile().toAbsolutePath().toString());
        v.put("encoder_config", encoderString(s.encoder()));
        v.put("teacher", s.teacher().name().toLowerCase());
        v.put("teacher_path", s.teacherPath() == null ? "" : s.teacherPath().toAbsolutePath().toString());
        v.put("disc_config", SdConfigs.toJson(s.disc()));
        v.put("disc_unet", s.discUnet() == null ? "random" : s.discUnet().toAbsolutePath().toString());
        v.put("disc_full", Boolean.toString(s.discFull()));
        v.put("lora_rank", Integer.toString(s.loraRank()));
        v.put("lora_alpha", Double.toString(s.loraAlpha()));
        v.put("prompt_embeddings", s.promptEmbeddings() == null ? "" : s.promptEmbeddings().toAbsolutePath().toString());
        v.put("pairs", s.pairs() == null ? "" : s.pairs().toAbsolutePath().toString());
        v.put("images", s.online() == null ? "" : new com.google.gson.Gson().toJson(s.online().images().stream()
                .map(Path::toString).toList()));
        v.put("degrade", s.online() == null ? "" : s.online().degrade().describe().strip().replace("\n", "; "));
        v.put("steps", Long.toString(s.steps()));
        v.put("batch", Integer.toString(s.batch()));
        v.put("seed", Long.toString(s.seed()));
        v.put("lr", Double.toString(s.lr()));
        v.put("disc_lr", Double.toString(s.discLr()));
        v.put("milestones", join(s.milestones()));
        v.put("gamma", Double.toString(s.gamma()));
        v.put("lambda_adv", Double.toString(s.lambdaAdv()));
        v.put("lambda_pixel", Double.toString(s.lambdaPixel()));
        v.put("pixel_loss", s.pixelSquared() ? "l2" : "l1");
        v.put("lambda_ssim", Double.toString(s.lambdaSsim()));
        v.put("pixel_color_fix", pixelFixName(s));
        v.put("adv_real", s.advRealTeacher() ? "teacher" : "gt");
        v.put("on_nan", s.skipNonFinite() ? "skip" : "stop");
        v.put("checkpoint_every", Integer.toString(s.checkpointEvery()));
        v.put("keep", Integer.toString(s.keep()));
        v.put("val", s.val() == null ? "" : s.val().toAbsolutePath().toString());
        v.put("val_every", Integer.toString(s.valEvery()));
        StringBuilder sb = new StringBuilder("# adcsr-distill run settings; --resume continues with these\n");
        v.forEach((k, x) -> sb.append(k).append('=').append(x).append('\n'));
        return sb.toString();
    }

    private static String pixelFixName(Settings s) {
        return s.pixelFix().name().toLowerCase();
    }

    private static String join(long[] v) {
        StringBuilder sb = new StringBuilder();
        for (long x : v) {
            sb.append(sb.length() == 0 ? "" : ",").append(x);
        }
        return sb.toString();
    }

    /** Writes {@code run.settings} (checkpoint frequency and keep are in it, but a resume may change them). */
    public static void writeSettings(Path out, Settings s) throws IOException {
        String text = describe(s);
        AtomicFiles.writeStream(out.resolve("run.settings"), os -> os.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** {@code OUT/run.settings} as properties; refuses a directory that is not a run. */
    public static Properties settings(Path out) throws IOException {
        Path f = out.resolve("run.settings");
        if (!Files.isRegularFile(f)) {
            throw BadInputException.of(out, "not an adcsr-distill run (no run.settings)");
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        return p;
    }

    /**
     * Settings rebuilt from a run's {@code run.settings}, with a new step count (null: the stored one) and
     * checkpoint options.
     */
    public static Settings resumed(Path out, Long newSteps, int checkpointEvery, int keep) throws IOException {
        Path f = out.resolve("run.settings");
        Properties p = settings(out);
        try {
            long steps = newSteps != null ? newSteps : Long.parseLong(p.getProperty("steps"));
            String[] ms = p.getProperty("milestones").split(",");
            long[] milestones = ms.length == 1 && ms[0].isEmpty() ? new long[0]
                    : Arrays.stream(ms).mapToLong(Long::parseLong).toArray();
            return new Settings(AdcsrConfig.fromJson(p.getProperty("config")), pathOrNull(p, "student", "random"),
                    Path.of(p.getProperty("decoder")), Path.of(p.getProperty("encoder")),
                    encoderConfig(p.getProperty("encoder_config")),
                    Teacher.valueOf(p.getProperty("teacher").toUpperCase()), pathOrNull(p, "teacher_path", ""),
                    SdConfigs.fromJson(p.getProperty("disc_config")), pathOrNull(p, "disc_unet", "random"),
                    Boolean.parseBoolean(p.getProperty("disc_full")), Integer.parseInt(p.getProperty("lora_rank")),
                    Double.parseDouble(p.getProperty("lora_alpha")), pathOrNull(p, "prompt_embeddings", ""),
                    pathOrNull(p, "pairs", ""), online(p), steps, Integer.parseInt(p.getProperty("batch")),
                    Long.parseLong(p.getProperty("seed")), Double.parseDouble(p.getProperty("lr")),
                    Double.parseDouble(p.getProperty("disc_lr")), milestones,
                    Double.parseDouble(p.getProperty("gamma")), Double.parseDouble(p.getProperty("lambda_adv")),
                    Double.parseDouble(p.getProperty("lambda_pixel", "0")),
                    p.getProperty("pixel_loss", "l1").equals("l2"),
                    Double.parseDouble(p.getProperty("lambda_ssim", "0")),
                    ColorCorrection.valueOf(p.getProperty("pixel_color_fix", "none").toUpperCase()),
                    p.getProperty("adv_real").equals("teacher"),
                    p.getProperty("on_nan").equals("skip"),
                    checkpointEvery, keep, pathOrNull(p, "val", ""), Integer.parseInt(p.getProperty("val_every")));
        } catch (RuntimeException e) {
            throw BadInputException.of(f, "damaged (" + e.getMessage() + ")");
        }
    }

    /** The photos and degradation of an {@code --images} run (runs from before have no such keys), else null. */
    private static OnlinePairs.Spec online(Properties p) {
        String images = p.getProperty("images", "");
        if (images.isEmpty()) {
            return null;
        }
        String[] files = new com.google.gson.Gson().fromJson(images, String[].class);
        org.adcsr.core.degrade.Settings d = org.adcsr.core.degrade.Settings.preset("adcsr");
        for (String kv : p.getProperty("degrade").split("; ")) {
            d.set(kv, "degrade: ");
        }
        return new OnlinePairs.Spec(Arrays.stream(files).map(Path::of).toList(), d.validate());
    }

    private static Path pathOrNull(Properties p, String key, String none) {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IllegalArgumentException("no " + key);
        }
        return v.equals(none) ? null : Path.of(v);
    }

    // ---- the encoder's config --------------------------------------------------------------------------------

    private static final Pattern ENCODER = Pattern.compile("\\[([0-9, ]+)] layers (\\d+) latent (\\d+) groups (\\d+)");

    /** The form adcsr-train-vae writes in {@code encoder.safetensors}'s {@code adcsr.encoder} metadata. */
    public static String encoderString(VaeEncoder.Config e) {
        return Arrays.toString(e.blockOutChannels()) + " layers " + e.layersPerBlock() + " latent "
                + e.latentChannels() + " groups " + e.normGroups();
    }

    /** Parses {@link #encoderString}. */
    public static VaeEncoder.Config encoderConfig(String s) {
        Matcher m = ENCODER.matcher(s.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("not an encoder description: " + s);
        }
        int[] w = Arrays.stream(m.group(1).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        return new VaeEncoder.Config(w, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)),
                Integer.parseInt(m.group(4)));
    }

    /**
     * The encoder config of an encoder file: adcsr-train-vae's metadata, else SD's VAE (any form
     * {@link SdInputs#openVae} reads: diffusers folders and files, adcsr-prune's {@code vae_encoder.safetensors},
     * single-file SD checkpoints).
     */
    public static VaeEncoder.Config encoderConfigOf(Path file) {
        if (!file.getFileName().toString().endsWith(".safetensors") || !Files.isRegularFile(file)) {
            return VaeEncoder.Config.sd();
        }
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            String d = r.metadata().get("adcsr.encoder");
            if (d == null) {
                return VaeEncoder.Config.sd();
            }
            try {
                return encoderConfig(d);
            } catch (RuntimeException e) {
                throw BadInputException.of(file, "adcsr.encoder metadata is damaged: " + e.getMessage());
            }
        }
    }
}
