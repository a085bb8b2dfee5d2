package org.adcsr.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Rng;
import org.adcsr.core.image.Images;
import org.adcsr.core.io.AtomicFiles;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.KeyCheck;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.sd.DecoderSlices;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;

/**
 * Stage 1 as a resumable run (spec ADCSR.md §6): the pruned decoder (and, with {@code trainEncoder}, a KL encoder)
 * trained with LDM's loss ({@link AutoencoderLoss}) against a PatchGAN, on random crops of the images. The run
 * directory holds {@code run.settings} (every setting and the image list), {@code train.csv}, {@code checkpoints/}
 * and, at the end, {@code decoder.safetensors} (and {@code encoder.safetensors}). {@link #run} continues a run that
 * has checkpoints exactly where it stopped.
 */
public final class VaeTraining {
    /**
     * Everything that defines a run; stored in {@code run.settings} and compared on resume.
     *
     * @param encoderFile the SD VAE whose encoder, {@code quant_conv} and {@code post_quant_conv} are frozen, in any
     *     form {@link SdInputs#openVae} reads (adcsr-prune's {@code vae_encoder.safetensors} too), or null with
     *     {@code trainEncoder}
     * @param decoderFile with {@link DecoderInit#FILE}: the decoder to start from ({@link ModelFiles#withDecoder})
     * @param milestones steps after which both optimizers' rate is multiplied by {@code gamma}
     *     ({@link LrSchedule#multiStep}; none for LDM's fixed rate)
     * @param perceptualWeight LPIPS-VGG's weight; 0 for none
     * @param valDir images for {@link Validation} every {@code valEvery} steps, at step 0 and at the end, centre
     *     crops of {@code valCrop} pixels, into {@code val.csv}; null for none
     */
    public record Settings(AdcsrConfig decoder, VaeEncoder.Config encoder, boolean trainEncoder, Path encoderFile,
            DecoderInit decoderInit, Path decoderFile, long steps, int batch, int crop, long seed, double lr,
            long[] milestones, double gamma, long discStart, double discWeight, double klWeight,
            double perceptualWeight, int discWidth, int discLayers, boolean samplePosterior, int checkpointEvery,
            int keep, boolean strict, Path valDir, int valEvery, int valCrop) {}

    /**
     * Where the decoder starts: PyTorch's default initialisation (the paper trains it from scratch), the first
     * channels of the SD VAE decoder of the encoder file (what adcsr-prune writes, {@link DecoderSlices}), or a
     * decoder file.
     */
    public enum DecoderInit { RANDOM, SLICE, FILE }

    /** The perceptual network, when {@code perceptualWeight > 0}: LPIPS distance of images in [−1, 1]. */
    private final AutoencoderLoss.Perceptual perceptual;
    private final Consumer<String> warn;
    private final PicklePolicy picklePolicy;
    private final AutoencoderLoss.Perceptual valLpips;

    /**
     * @param perceptual the perceptual distance (LPIPS-VGG) of the loss, or null for none
     * @param valLpips LPIPS for {@code val.csv}, or null (then its column is NaN)
     * @param warn one-line warnings (skipped images, the run resuming)
     * @param picklePolicy for a PyTorch checkpoint among the inputs (the official halfDecoder.ckpt)
     */
    public VaeTraining(AutoencoderLoss.Perceptual perceptual, AutoencoderLoss.Perceptual valLpips,
            Consumer<String> warn, PicklePolicy picklePolicy) {
        this.perceptual = perceptual;
        this.valLpips = valLpips;
        this.warn = warn;
        this.picklePolicy = picklePolicy;
    }

    static final List<String> COLUMNS = List.of("step", "rec", "nll", "kl", "g", "d_weight", "disc_factor", "loss",
            "d_loss", "logits_real", "logits_fake", "lr", "seconds", "images_per_s");

    /**
     * Refuses a run that cannot start, before anything is written: no image can give a crop, or, with
     * {@code strict}, one image cannot (its header is unreadable or it is smaller than the crop).
     */
    public static void checkImages(List<Path> images, int crop, boolean strict) {
        if (images.isEmpty()) {
            throw new BadInputException("no training images");
        }
        boolean usable = false;
        for (Path p : images) {
            int[] s;
            try {
                s = Images.size(p);
            } catch (BadInputException e) {
                if (strict) {
                    throw e;
                }
                continue; // the sampler warns about it when it meets it
            }
            if (s[0] >= crop && s[1] >= crop) {
                usable = true;
                if (!strict) {
                    return;
                }
            } else if (strict) {
                throw BadInputException.of(p, "is " + s[0] + "x" + s[1] + ", smaller than the " + crop
                        + "-pixel crop (--strict)");
            }
        }
        if (!usable) {
            throw new BadInputException(images.size() == 1 ? images.get(0) + ": unreadable or smaller than the "
                    + crop + "-pixel crop" : "no usable training image: all " + images.size()
                            + " are unreadable or smaller than the " + crop + "-pixel crop");
        }
    }

    /**
     * Trains until {@code settings.steps()} (from the newest checkpoint of {@code out}, if any) and writes the
     * results. Returns the step reached; stops early, after a checkpoint, when {@link StopSignal} reports a signal.
     *
     * @param progress told the step after each one
     */
    public long run(Settings s, List<Path> images, Path out, NDManager parent, LongConsumer progress)
            throws IOException {
        try (ParameterStore store = new ParameterStore(parent)) {
            Rng init = new Rng(Rng.pairSeed(s.seed(), -1));
            List<TensorInfo> params = Stage1.parameters(s.encoder(), s.decoder());
            List<TensorInfo> encoderParams = new ArrayList<>();
            List<TensorInfo> decoderParams = new ArrayList<>();
            for (TensorInfo t : params) {
                (t.name().startsWith("decoder.") ? decoderParams : encoderParams).add(t);
            }
            Path latest = Checkpoints.latest(out);
            if (s.trainEncoder()) {
                Stage1.initialise(store, encoderParams, init, true);
                Stage1.initialise(store, decoderParams, init, true);
            } else {
                // the checkpoint has the decoder: the VAE's decoder is needed only to start a sliced one
                boolean slice = s.decoderInit() == DecoderInit.SLICE && latest == null;
                try (SdInputs vae = SdInputs.openVae(s.encoderFile(), sdConfig(s.encoder()), slice)) {
                    for (TensorInfo t : encoderParams) {
                        store.add(t.name(), store.manager().create(vae.vae().readFloats(t.name()),
                                new Shape(t.shape())), false);
                    }
                    Stage1.initialise(store, decoderParams, init, true);
                    if (slice) {
                        for (DecoderSlices.Cut cut : DecoderSlices.plan(sdConfig(s.encoder()), s.decoder())) {
                            store.get(cut.key()).set(cut.read(vae.vae()));
                        }
                    }
                }
            }
            if (s.decoderInit() == DecoderInit.FILE && latest == null) {
                loadDecoder(store, decoderParams, s.decoderFile(), picklePolicy);
            }
            List<String> ae = new ArrayList<>(store.trainable());
            PatchDiscriminator disc = new PatchDiscriminator("discriminator", s.discWidth(), s.discLayers(), store,
                    init);
            Adam optAe = new Adam("autoencoder", Adam.Settings.ldm(), store, ae);
            Adam optD = new Adam("discriminator", Adam.Settings.ldm(), store, disc.parameters());
            AutoencoderLoss loss = new AutoencoderLoss(new AutoencoderLoss.Settings(s.perceptualWeight(),
                    s.klWeight(), s.discWeight(), 1.0, s.discStart()), perceptual, disc);
            CropSampler data = new CropSampler(images, s.crop(), true, s.seed(), s.strict(), warn);
            Rng noise = new Rng(Rng.pairSeed(s.seed(), -2));
            long step = 0;
            if (latest != null) {
                Checkpoints.State state = Checkpoints.load(latest, store, List.of(optAe, optD));
                String digest = state.metadata().get(SETTINGS_DIGEST);
                if (digest != null && !digest.equals(digest(s, images))) {
                    throw BadInputException.of(latest, "was written by a run with other settings or images than "
                            + out.resolve("run.settings") + " now holds (edited?); resume with the run's own");
                }
                step = state.step();
                data.restore(state.rngs().get("data"));
                noise = Rng.restore(state.rngs().get("noise"));
                warn.accept("resuming " + out + " at step " + step + " of " + s.steps());
            }
            DjlOps ops = new DjlOps(store.all());
            int shape = s.crop();
            Validation val = s.valDir() == null ? null : Validation.load(imagesIn(s.valDir()), s.valCrop());
            long total = s.steps();
            try (MetricsLog log = MetricsLog.open(out.resolve("train.csv"), COLUMNS, step);
                    MetricsLog valLog = val == null ? null : MetricsLog.open(out.resolve("val.csv"),
                            Validation.COLUMNS, step, st -> st % s.valEvery() == 0 || st == total)) {
                if (val != null && step == 0) {
                    valLog.append(0, validate(val, s, store, ops, parent));
                }
                LrSchedule schedule = LrSchedule.multiStep(s.lr(), s.milestones(), s.gamma());
                while (step < s.steps()) {
                    long t0 = System.nanoTime();
                    double lr = schedule.lr(step + 1);
                    double[] row;
                    try (NDManager m = parent.newSubManager()) {
                        NDArray x = m.create(data.next(s.batch()), new Shape(s.batch(), 3, shape, shape));
                        if (step > 0) {
                            store.zeroGradients();
                        }
                        NDArray[] xhat = new NDArray[1];
                        AutoencoderLoss.Terms t;
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray moments = VaeEncoder.forward(ops, s.encoder(), x);
                            Stage1.Posterior post = Stage1.posterior(moments, s.samplePosterior(), noise);
                            NDArray h = Stage1.decoderFeatures(ops, s.decoder(), s.encoder().latentChannels(),
                                    post.z());
                            t = loss.generatorStep(x, h, store.get("decoder.conv_out.weight"),
                                    store.get("decoder.conv_out.bias"), s.trainEncoder() ? post.kl() : null, step,
                                    xhat);
                        }
                        TrainingDivergedException.check(step + 1, new String[] {"rec", "nll", "kl", "g", "loss"},
                                new double[] {t.rec(), t.nll(), t.kl(), t.g(), t.total()}, store);
                        optAe.step(lr);
                        for (String name : disc.parameters()) { // the generator's step leaves D no gradient
                            Gradients.zero(store.get(name));
                        }
                        double[] d;
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            d = loss.discriminatorStep(x, xhat[0], step);
                        }
                        TrainingDivergedException.check(step + 1, new String[] {"d_loss"}, new double[] {d[0]},
                                store);
                        optD.step(lr);
                        double seconds = (System.nanoTime() - t0) / 1e9;
                        row = new double[] {t.rec(), t.nll(), t.kl(), t.g(), t.discWeight(), t.discFactor(),
                            t.total(), d[0], d[1], d[2], lr, seconds, s.batch() / seconds};
                    }
                    step++;
                    log.append(step, row);
                    if (val != null && (step % s.valEvery() == 0 || step == s.steps())) {
                        valLog.append(step, validate(val, s, store, ops, parent)); // before the checkpoint
                    }
                    progress.accept(step);
                    boolean stop = StopSignal.requested() != null;
                    if (step % s.checkpointEvery() == 0 || step == s.steps() || stop) {
                        Checkpoints.save(out, step, store, List.of(optAe, optD),
                                Map.of("data", data.position(), "noise", noise.state()),
                                Map.of("adcsr.run", "adcsr-train-vae", SETTINGS_DIGEST, digest(s, images)), s.keep());
                    }
                    if (stop) {
                        return step;
                    }
                }
            }
            writeResults(s, store, out);
            if (data.skipped() > 0) {
                warn.accept(data.skipped() + " of " + images.size() + " images were skipped");
            }
            return step;
        }
    }

    private double[] validate(Validation val, Settings s, ParameterStore store, DjlOps ops, NDManager parent) {
        return val.evaluate(parent, ops, s.encoder(), s.decoder(), store.get("decoder.conv_out.weight"),
                store.get("decoder.conv_out.bias"), valLpips);
    }

    /** The images under {@code dir} (recursively, sorted), by extension; refuses a directory without any. */
    public static List<Path> imagesIn(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw BadInputException.of(dir, Files.exists(dir) ? "not a directory" : "no such directory");
        }
        List<Path> found;
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            found = walk.filter(Files::isRegularFile).filter(Images::isImageName).sorted().toList();
        }
        if (found.isEmpty()) {
            throw BadInputException.of(dir, "no images (" + String.join(", ", new java.util.TreeSet<>(
                    Images.EXTENSIONS)) + ")");
        }
        return found;
    }

    /**
     * The SD architecture whose VAE has this encoder: SD2.1-base itself for its encoder (so that messages name it),
     * else the same with the encoder's widths (tests use small ones).
     */
    public static SdConfig sdConfig(VaeEncoder.Config e) {
        SdConfig sd = SdConfig.sd21Base();
        VaeEncoder.Config ref = VaeEncoder.Config.sd();
        if (Arrays.equals(e.blockOutChannels(), ref.blockOutChannels()) && e.layersPerBlock() == ref.layersPerBlock()
                && e.latentChannels() == ref.latentChannels() && e.normGroups() == ref.normGroups()) {
            return sd;
        }
        return new SdConfig("SD-shaped VAE " + Arrays.toString(e.blockOutChannels()), sd.unetWidths(),
                sd.unetHeads(), sd.unetLayers(), sd.unetAttention(), sd.crossAttentionDim(), e.latentChannels(),
                e.blockOutChannels(), e.layersPerBlock(), e.normGroups());
    }

    /** The architecture a decoder file records (adcsr-prune's and our outputs do), or null (halfDecoder.ckpt). */
    public static AdcsrConfig recordedConfig(Path decoderFile, PicklePolicy policy) {
        return ModelFiles.withDecoder(decoderFile, policy, (v, c) -> c);
    }

    /** Overwrites the decoder's parameters with those of a decoder file, every key and shape checked first. */
    private static void loadDecoder(ParameterStore store, List<TensorInfo> params, Path file, PicklePolicy policy) {
        ModelFiles.withDecoder(file, policy, (v, recorded) -> {
            KeyCheck.check(v, params, n -> false);
            for (TensorInfo t : params) {
                store.get(t.name()).set(v.readFloats(t.name()));
            }
            return null;
        });
    }

    /** {@code decoder.safetensors} (keys {@code decoder.*}, the config in its metadata), and the encoder if trained. */
    private static void writeResults(Settings s, ParameterStore store, Path out) throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(ModelFiles.CONFIG_KEY, s.decoder().toJson());
        meta.put("adcsr.stage", "1 (adcsr-train-vae, " + s.steps() + " steps)");
        write(out.resolve("decoder.safetensors"), store, "decoder.", meta);
        if (s.trainEncoder()) {
            Map<String, String> em = new LinkedHashMap<>();
            em.put("adcsr.encoder", Arrays.toString(s.encoder().blockOutChannels()) + " layers "
                    + s.encoder().layersPerBlock() + " latent " + s.encoder().latentChannels() + " groups "
                    + s.encoder().normGroups());
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : store.all().keySet()) {
                if (n.startsWith("encoder.") || n.startsWith("quant_conv.") || n.startsWith("post_quant_conv.")) {
                    entries.add(entry(n, store.get(n)));
                }
            }
            SafetensorsWriter.write(out.resolve("encoder.safetensors"), em, entries, DType.F32);
        }
    }

    private static void write(Path file, ParameterStore store, String prefix, Map<String, String> meta)
            throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (String n : store.all().keySet()) {
            if (n.startsWith(prefix)) {
                entries.add(entry(n, store.get(n)));
            }
        }
        SafetensorsWriter.write(file, meta, entries, DType.F32);
    }

    private static SafetensorsWriter.Entry entry(String name, NDArray a) {
        return new SafetensorsWriter.Entry(name, a.getShape().getShape(),
                () -> a.toType(DataType.FLOAT32, false).toFloatArray());
    }

    // ---- run.settings ----------------------------------------------------------------------------------------

    /** Checkpoint metadata: SHA-256 of the run's settings but the step count ({@link #digest}). */
    static final String SETTINGS_DIGEST = "adcsr.run.settings_sha256";

    /** SHA-256 of {@link #describe} without the total step count (which --resume may raise). */
    static String digest(Settings s, List<Path> images) {
        String text = describe(s, images).lines().filter(l -> !l.startsWith("steps="))
                .collect(java.util.stream.Collectors.joining("\n"));
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The settings and the image list as {@code key=value} lines, in a fixed order. */
    public static String describe(Settings s, List<Path> images) {
        StringBuilder sb = new StringBuilder("# adcsr-train-vae run settings; --resume continues with these\n");
        Map<String, String> v = new LinkedHashMap<>();
        v.put("decoder_config", s.decoder().toJson().replaceAll("\\s+", ""));
        v.put("encoder", s.trainEncoder() ? "train" : String.valueOf(s.encoderFile().toAbsolutePath()));
        v.put("decoder_init", s.decoderInit() == DecoderInit.FILE ? "file:" + s.decoderFile().toAbsolutePath()
                : s.decoderInit().name().toLowerCase(java.util.Locale.ROOT));
        v.put("encoder_widths", join(s.encoder().blockOutChannels()));
        v.put("encoder_layers", Integer.toString(s.encoder().layersPerBlock()));
        v.put("latent_channels", Integer.toString(s.encoder().latentChannels()));
        v.put("encoder_groups", Integer.toString(s.encoder().normGroups()));
        v.put("steps", Long.toString(s.steps()));
        v.put("batch", Integer.toString(s.batch()));
        v.put("crop", Integer.toString(s.crop()));
        v.put("seed", Long.toString(s.seed()));
        v.put("lr", Double.toString(s.lr()));
        if (s.milestones().length > 0) { // absent from runs with LDM's fixed rate, as from runs before the option
            v.put("lr_milestones", Arrays.stream(s.milestones()).mapToObj(Long::toString)
                    .collect(java.util.stream.Collectors.joining(",")));
            v.put("lr_gamma", Double.toString(s.gamma()));
        }
        v.put("disc_start", Long.toString(s.discStart()));
        v.put("disc_weight", Double.toString(s.discWeight()));
        v.put("kl_weight", Double.toString(s.klWeight()));
        v.put("perceptual_weight", Double.toString(s.perceptualWeight()));
        v.put("disc_width", Integer.toString(s.discWidth()));
        v.put("disc_layers", Integer.toString(s.discLayers()));
        v.put("posterior", s.samplePosterior() ? "sample" : "mean");
        v.put("strict", Boolean.toString(s.strict()));
        v.put("checkpoint_every", Integer.toString(s.checkpointEvery()));
        v.put("keep", Integer.toString(s.keep()));
        if (s.valDir() != null) {
            v.put("val", s.valDir().toAbsolutePath().toString());
            v.put("val_every", Integer.toString(s.valEvery()));
            v.put("val_crop", Integer.toString(s.valCrop()));
        }
        for (Map.Entry<String, String> e : v.entrySet()) {
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        }
        for (int i = 0; i < images.size(); i++) {
            sb.append("image.").append(i).append('=').append(images.get(i).toAbsolutePath()).append('\n');
        }
        return sb.toString();
    }

    private static String join(int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int x : v) {
            sb.append(sb.length() == 0 ? "" : ",").append(x);
        }
        return sb.toString();
    }

    /** Writes {@code run.settings} (checkpoint frequency and keep are not part of it: they may change). */
    public static void writeSettings(Path out, Settings s, List<Path> images) throws IOException {
        String text = describe(s, images);
        AtomicFiles.writeStream(out.resolve("run.settings"), os -> os.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** The image list stored in a run's {@code run.settings}. */
    public static List<Path> images(Path out) throws IOException {
        Properties p = settings(out);
        List<Path> images = new ArrayList<>();
        for (int i = 0; p.getProperty("image." + i) != null; i++) {
            images.add(Path.of(p.getProperty("image." + i)));
        }
        return images;
    }

    /** {@code OUT/run.settings} as properties; refuses a directory that is not a run. */
    public static Properties settings(Path out) throws IOException {
        Path f = out.resolve("run.settings");
        if (!Files.isRegularFile(f)) {
            throw BadInputException.of(out, "not an adcsr-train-vae run (no run.settings)");
        }
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
            p.load(in);
        }
        return p;
    }

    private static long[] milestones(String list) {
        return list.isEmpty() ? new long[0] : Arrays.stream(list.split(",")).mapToLong(Long::parseLong).toArray();
    }

    /** Settings rebuilt from a run's {@code run.settings}, with the new step count and checkpoint options. */
    public static Settings resumed(Path out, long steps, int checkpointEvery, int keep) throws IOException {
        Properties p = settings(out);
        try {
            AdcsrConfig decoder = AdcsrConfig.fromJson(p.getProperty("decoder_config"));
            String[] w = p.getProperty("encoder_widths").split(",");
            int[] widths = new int[w.length];
            for (int i = 0; i < w.length; i++) {
                widths[i] = Integer.parseInt(w[i]);
            }
            VaeEncoder.Config enc = new VaeEncoder.Config(widths, Integer.parseInt(p.getProperty("encoder_layers")),
                    Integer.parseInt(p.getProperty("latent_channels")), Integer.parseInt(p.getProperty("encoder_groups")));
            boolean train = p.getProperty("encoder").equals("train");
            String init = p.getProperty("decoder_init", "random");
            DecoderInit decoderInit = init.startsWith("file:") ? DecoderInit.FILE
                    : DecoderInit.valueOf(init.toUpperCase(java.util.Locale.ROOT));
            return new Settings(decoder, enc, train, train ? null : Path.of(p.getProperty("encoder")), decoderInit,
                    decoderInit == DecoderInit.FILE ? Path.of(init.substring("file:".length())) : null, steps,
                    Integer.parseInt(p.getProperty("batch")), Integer.parseInt(p.getProperty("crop")),
                    Long.parseLong(p.getProperty("seed")), Double.parseDouble(p.getProperty("lr")),
                    milestones(p.getProperty("lr_milestones", "")),
                    Double.parseDouble(p.getProperty("lr_gamma", "0.5")),
                    Long.parseLong(p.getProperty("disc_start")), Double.parseDouble(p.getProperty("disc_weight")),
                    Double.parseDouble(p.getProperty("kl_weight")),
                    Double.parseDouble(p.getProperty("perceptual_weight")),
                    Integer.parseInt(p.getProperty("disc_width")), Integer.parseInt(p.getProperty("disc_layers")),
                    p.getProperty("posterior").equals("sample"), checkpointEvery, keep,
                    Boolean.parseBoolean(p.getProperty("strict")),
                    p.getProperty("val") == null ? null : Path.of(p.getProperty("val")),
                    Integer.parseInt(p.getProperty("val_every", "1")),
                    Integer.parseInt(p.getProperty("val_crop", "8")));
        } catch (RuntimeException e) {
            throw BadInputException.of(out.resolve("run.settings"), "damaged (" + e.getMessage() + ")");
        }
    }
}
