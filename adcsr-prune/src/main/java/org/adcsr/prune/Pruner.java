package org.adcsr.prune;

import org.adcsr.core.sd.DecoderSlices;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.sd.SdLayout;
import org.adcsr.core.sd.Slices;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.Supplier;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.ShapeOps;

/**
 * Builds AdcSR's starting weights from SD (ADCSR.md §2, §6, §8), one tensor at a time:
 * <ul>
 *   <li>{@value #UNET_FILE}: the student initialisation as the official {@code model.py} builds it. The time
 *       embedding, every {@code time_emb_proj} and every cross-attention ({@code attn2}, {@code norm2}) are dropped;
 *       {@code conv_in} is widened for the PixelUnshuffle input by repeating kernels along the input axis and
 *       {@code conv_out} to the connector by repeating rows; then every conv, linear and norm keeps the first
 *       {@code int(n·r)} of each channel axis (kernels untouched). Keys {@code unet.…}.</li>
 *   <li>{@value #DECODER_FILE}: the Stage-1 decoder at {@code decoder-keep} width, keys {@code decoder.…}: the first
 *       channels of the SD decoder ({@link DecoderInit#SLICE}) or PyTorch's default initialisation
 *       ({@link DecoderInit#RANDOM}, the paper trains it from scratch).</li>
 *   <li>{@value #ENCODER_FILE}: the frozen SD VAE encoder with {@code quant_conv} and {@code post_quant_conv}, as
 *       stored (diffusers names).</li>
 * </ul>
 * Every output shape comes from {@link ShapeOps} for the matching {@link AdcsrConfig} and is checked against the
 * pruning rule applied to the SD shape; a keep ratio for which the two disagree is refused.
 *
 * <p>For a keep ratio r other than 0.75 the widened layers follow the spec's trick (§8): the smallest N with
 * {@code int(N·r)} equal to the needed width (12 PixelUnshuffle channels for {@code conv_in}, the decoder mid width
 * for the connector); r = 0.75 gives the official 16 and 342. The result is the same for any such N.
 */
public final class Pruner {
    public static final String UNET_FILE = "unet_init.safetensors";
    public static final String DECODER_FILE = "decoder_init.safetensors";
    public static final String ENCODER_FILE = "vae_encoder.safetensors";

    /** {@code __metadata__} keys, as {@code org.adcsr.core.model.ModelFiles} reads them. */
    static final String FORMAT_KEY = "format";
    static final String FORMAT = "adcsr-weights/1";
    static final String CONFIG_KEY = "adcsr.config";

    /** Channels after PixelUnshuffle(2) of an RGB image. */
    static final int UNSHUFFLED = 12;

    public enum DecoderInit { SLICE, RANDOM }

    /**
     * @param unetKeep fraction of UNet channels kept, in (0, 1] (paper: 0.75)
     * @param decoderKeep fraction of VAE decoder channels kept, in (0, 1] (paper: 0.5)
     * @param seed seeds {@link DecoderInit#RANDOM}
     */
    public record Options(double unetKeep, double decoderKeep, DecoderInit decoderInit, long seed) {
        public Options {
            if (!(unetKeep > 0 && unetKeep <= 1) || !(decoderKeep > 0 && decoderKeep <= 1)) {
                throw new BadInputException("keep ratios must be in (0, 1], got --unet-keep " + unetKeep
                        + " --decoder-keep " + decoderKeep);
            }
        }
    }

    /** One report row: a tensor of the input and what became of it. */
    public record Row(String part, String source, String output, String action, long[] before, long[] after) {
        public long paramsBefore() {
            return numel(before);
        }

        public long paramsAfter() {
            return after == null ? 0 : numel(after);
        }
    }

    /** One output file: its name in the output directory, metadata and tensors in order. */
    public record Output(String file, Map<String, String> metadata, List<SafetensorsWriter.Entry> entries) {
        public long parameters() {
            return entries.stream().mapToLong(e -> numel(e.shape())).sum();
        }
    }

    /** What a run writes: the pruned network's config, the files, and the report rows. */
    public record Plan(AdcsrConfig config, List<Output> outputs, List<Row> rows) {
        public int tensors() {
            return outputs.stream().mapToInt(o -> o.entries().size()).sum();
        }
    }

    private Pruner() {
    }

    /** The AdcSR network that keep ratios give for an SD config: widths {@code int(w·r)}, heads unchanged. */
    public static AdcsrConfig config(SdConfig sd, Options o) {
        int[] unet = scale(sd.unetWidths(), o.unetKeep());
        int[] dec = scale(sd.vaeWidths(), o.decoderKeep());
        try {
            return new AdcsrConfig("adcsr-prune u" + o.unetKeep() + " d" + o.decoderKeep(), UNSHUFFLED, unet,
                    sd.unetHeads(), sd.unetLayers(), sd.unetAttention(), dec[dec.length - 1], dec, sd.vaeLayers(),
                    sd.vaeNormGroups());
        } catch (BadInputException e) {
            throw new BadInputException("--unet-keep " + o.unetKeep() + " --decoder-keep " + o.decoderKeep()
                    + " give UNet widths " + Arrays.toString(unet) + " and decoder widths " + Arrays.toString(dec)
                    + ", which AdcSR cannot use (" + e.getMessage() + ")");
        }
    }

    /** Plans every output of the inputs given (no tensor data is read until the entries are written). */
    public static Plan plan(SdInputs in, SdConfig sd, Options o) {
        AdcsrConfig config = config(sd, o);
        List<Output> outputs = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        if (in.unet() != null) {
            outputs.add(unet(in, sd, o, config, rows));
        }
        if (in.vae() != null) {
            outputs.add(decoder(in, sd, o, config, rows));
            outputs.add(encoder(in, sd, rows));
        }
        return new Plan(config, List.copyOf(outputs), List.copyOf(rows));
    }

    private static Output unet(SdInputs in, SdConfig sd, Options o, AdcsrConfig config, List<Row> rows) {
        double r = o.unetKeep();
        Map<String, long[]> want = new LinkedHashMap<>();
        for (TensorInfo t : ShapeOps.inferenceParameters(config)) {
            if (t.name().startsWith(AdcsrNetwork.UNET)) {
                want.put(t.name().substring(AdcsrNetwork.UNET.length()), t.shape());
            }
        }
        int connector = config.connectorOutChannels();
        int inWide = widen(UNSHUFFLED, r);
        int outWide = widen(connector, r);
        TensorSource src = in.unet();
        Map<String, SafetensorsWriter.Entry> entries = new HashMap<>();
        for (TensorInfo t : SdLayout.unet(sd)) {
            String key = t.name();
            long[] before = t.shape();
            long[] after = want.get(key);
            String stored = in.unetOrigin(key);
            if (after == null) {
                rows.add(new Row("unet", stored, "", "removed", before, null));
                continue;
            }
            // the official rule on the (widened) SD shape, kernels untouched
            long[] wide = before.clone();
            int[][] maps = new int[before.length][];
            String action = "sliced";
            if (key.equals("conv_in.weight")) {
                wide[1] = inWide;
                action = "repeated+sliced";
            } else if (key.startsWith("conv_out.")) {
                wide[0] = outWide;
                action = "repeated+sliced";
            }
            long[] rule = wide.clone();
            for (int d = 0; d < Math.min(2, rule.length); d++) {
                rule[d] = (long) (wide[d] * r);
            }
            if (!Arrays.equals(rule, after)) {
                throw new BadInputException("--unet-keep " + r + " is not supported: the pruning rule gives "
                        + key + " " + Arrays.toString(rule) + " but the pruned network needs "
                        + Arrays.toString(after));
            }
            for (int d = 0; d < before.length; d++) {
                maps[d] = wide[d] != before[d] ? Slices.repeat(after[d], before[d]) : Slices.first(after[d]);
            }
            rows.add(new Row("unet", stored, AdcsrNetwork.UNET + key, action, before, after));
            entries.put(key, new SafetensorsWriter.Entry(AdcsrNetwork.UNET + key, after,
                    () -> Slices.gather(src.readFloats(key), before, maps)));
        }
        List<SafetensorsWriter.Entry> ordered = new ArrayList<>();
        for (String key : want.keySet()) {
            ordered.add(entries.get(key)); // ShapeOps order = the reference key list's order
        }
        return new Output(UNET_FILE, metadata(config, o), ordered);
    }

    private static Output decoder(SdInputs in, SdConfig sd, Options o, AdcsrConfig config, List<Row> rows) {
        double r = o.decoderKeep();
        List<DecoderSlices.Cut> cuts = DecoderSlices.plan(sd, config);
        Map<String, long[]> want = new LinkedHashMap<>();
        cuts.forEach(c -> want.put(c.key(), c.after()));
        TensorSource src = in.vae();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (DecoderSlices.Cut cut : cuts) {
            String key = cut.key();
            long[] before = cut.before();
            long[] after = cut.after();
            long[] rule = before.clone();
            for (int d = 0; d < Math.min(2, rule.length); d++) {
                boolean fixed = d == 1 && key.equals("decoder.conv_in.weight")
                        || d == 0 && key.startsWith("decoder.conv_out.");
                rule[d] = fixed ? before[d] : (long) (before[d] * r);
            }
            if (!Arrays.equals(rule, after)) {
                throw new BadInputException("--decoder-keep " + r + " is not supported: the pruning rule gives "
                        + key + " " + Arrays.toString(rule) + " but the pruned decoder needs "
                        + Arrays.toString(after));
            }
            Supplier<float[]> data;
            String action;
            if (o.decoderInit() == DecoderInit.SLICE) {
                data = () -> cut.read(src);
                action = "sliced";
            } else {
                long seed = o.seed();
                data = () -> RandomInit.tensor(key, after, want, seed);
                action = "random";
            }
            rows.add(new Row("decoder", in.vaeOrigin(key), key, action, before, after));
            entries.add(new SafetensorsWriter.Entry(key, after, data));
        }
        Map<String, String> meta = metadata(config, o);
        meta.put("adcsr.decoder_init", o.decoderInit().name().toLowerCase(Locale.ROOT));
        return new Output(DECODER_FILE, meta, entries);
    }

    private static Output encoder(SdInputs in, SdConfig sd, List<Row> rows) {
        TensorSource src = in.vae();
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (TensorInfo t : SdLayout.vae(sd)) {
            String key = t.name();
            if (key.startsWith(AdcsrNetwork.DECODER)) {
                continue;
            }
            rows.add(new Row("encoder", in.vaeOrigin(key), key, "copied", t.shape(), t.shape()));
            entries.add(new SafetensorsWriter.Entry(key, t.shape(), () -> src.readFloats(key)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(FORMAT_KEY, "sd-vae-encoder/1");
        meta.put("producer", "adcsr-prune");
        meta.put("source", sd.name());
        return new Output(ENCODER_FILE, meta, entries);
    }

    private static Map<String, String> metadata(AdcsrConfig config, Options o) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(FORMAT_KEY, FORMAT);
        m.put(CONFIG_KEY, config.toJson());
        m.put("producer", "adcsr-prune");
        m.put("adcsr.unet_keep", Double.toString(o.unetKeep()));
        m.put("adcsr.decoder_keep", Double.toString(o.decoderKeep()));
        return m;
    }

    /**
     * Writes every output into {@code dir} (created if needed), all or nothing: each file goes to a hidden partial
     * name first and the partial files are renamed into place only when all are complete; on failure they are
     * deleted.
     *
     * @param force replace existing files; without it an existing output is a {@link BadInputException}
     * @param done called with the number of tensors written so far
     */
    public static void write(Plan plan, Path dir, boolean force, LongConsumer done) throws IOException {
        checkTargets(plan, dir, force);
        try {
            Files.createDirectories(dir);
        } catch (java.nio.file.FileSystemException e) {
            throw BadInputException.of(dir, "cannot create the output directory ("
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName() + " " + e.getFile()) + ")",
                    e);
        }
        List<Path> partials = new ArrayList<>();
        try {
            long[] count = {0};
            for (Output out : plan.outputs()) {
                Path partial = dir.resolve("." + out.file() + ".partial");
                partials.add(partial);
                List<SafetensorsWriter.Entry> counted = new ArrayList<>();
                for (SafetensorsWriter.Entry e : out.entries()) {
                    counted.add(new SafetensorsWriter.Entry(e.name(), e.shape(), () -> {
                        float[] v = e.data().get();
                        done.accept(++count[0]);
                        return v;
                    }));
                }
                SafetensorsWriter.write(partial, out.metadata(), counted, DType.F32);
            }
            for (int i = 0; i < partials.size(); i++) {
                Path target = dir.resolve(plan.outputs().get(i).file());
                try {
                    Files.move(partials.get(i), target, StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(partials.get(i), target, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException | RuntimeException | Error e) {
            for (Path p : partials) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (e instanceof InternalError) {
                // a fault in a memory-mapped read: the input shrank after it was opened
                throw new BadInputException("an input file could not be read while writing (was it truncated or "
                        + "replaced?): " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** Refuses to replace outputs without {@code force}. */
    public static void checkTargets(Plan plan, Path dir, boolean force) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw BadInputException.of(dir, "exists and is not a directory");
        }
        for (Output out : plan.outputs()) {
            Path target = dir.resolve(out.file());
            if (Files.isDirectory(target)) {
                throw BadInputException.of(target, "is a directory");
            }
            if (!force && Files.exists(target)) {
                throw BadInputException.of(target, "exists (use --force to replace it)");
            }
        }
    }

    /** The smallest N with {@code int(N·r) = width} (AdcSR's 342 for a 256-wide connector at r = 0.75). */
    static int widen(int width, double r) {
        for (long n = width; n <= (long) Math.ceil(width / r) + 2; n++) {
            if ((long) (n * r) == width) {
                return Math.toIntExact(n);
            }
        }
        throw new BadInputException("--unet-keep " + r + ": no layer width N gives int(N·" + r + ") = " + width);
    }

    static int[] scale(int[] widths, double r) {
        int[] s = new int[widths.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (int) (widths[i] * r);
        }
        return s;
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
