package org.adcsr.qnn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import onnx.Onnx.ModelProto;
import org.adcsr.cli.ExitCodes;
import org.adcsr.core.BadInputException;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.onnx.Graph;
import org.adcsr.onnx.OnnxExport;

/**
 * Writes the QNN export directory (QNN.md §1): the float ONNX graph, the AIMET encodings calibrated on real tiles,
 * the raw calibration inputs and input lists, goldens, the HTP config, {@code commands.sh}, the QDQ variant and
 * {@code manifest.json}. Everything is written into a hidden sibling directory that is renamed to the output only
 * when complete and linted, so an interrupted or failed export never leaves a directory that looks complete.
 */
final class QnnExporter {
    static final String ONNX = "adcsr.onnx";
    static final String QDQ = "adcsr.qdq.onnx";
    static final String ENCODINGS = "adcsr.encodings";
    /** Calibrated activations with |x| at least this are flagged: fp16 overflows soon after, 16-bit steps get coarse. */
    static final double WIDE_RANGE = 1e4;

    /**
     * @param output the export directory (must not exist unless {@code force})
     * @param calib calibration images
     * @param tile LR tile size (square)
     * @param simulate also run float and QDQ models against the DJL forward
     */
    /**
     * @param weights where the weights came from, for the manifest (a file, or random weights said plainly)
     * @param simulateOn test images to simulate on (centre tiles); empty: the calibration tiles
     */
    record Options(Path output, List<Path> calib, int tile, Encodings.Format format, boolean qdq, boolean simulate,
            boolean force, int threads, String weights, List<Path> simulateOn) {
    }

    /**
     * One simulated tile: float ONNX vs DJL with the most it may be ({@link #tolerance}), and W8A16 QDQ vs float ONNX
     * (PSNR over the [−1, 1] range, peak 2).
     */
    record SimRow(String image, double maxAbsDiffOnnxVsDjl, double toleranceOnnxVsDjl, double psnrW8a16VsFloatDb) {
    }

    /** {@link #tolerance}'s fraction of the DJL output's largest magnitude (at least 1). */
    static final double RELATIVE_TOLERANCE = 1e-3;

    record Result(Path output, int tensors, int encodedActivations, int encodedParams, List<SimRow> simulation,
            List<String> flagged) {
    }

    private QnnExporter() {
    }

    /** Fails early, before any work, if the output cannot be written. */
    static void checkOutput(Path out, boolean force) {
        Path abs = out.toAbsolutePath().normalize();
        if (Files.exists(abs) && !force) {
            throw BadInputException.of(out, "exists (use --force to replace it)");
        }
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw BadInputException.of(out, "exists and is not a directory");
        }
        Path parent = abs.getParent();
        if (parent == null) {
            throw BadInputException.of(out, "cannot be the root directory");
        }
        if (Files.isDirectory(parent) && !Files.isWritable(parent)) {
            throw BadInputException.of(out, "cannot write in " + parent);
        }
    }

    static Result export(AdcsrModel model, NDManager manager, Options o, BiConsumer<Long, Long> progress)
            throws IOException, OrtException {
        AdcsrConfig config = model.config();
        if (o.tile % config.sizeMultiple() != 0) {
            throw new BadInputException("tile " + o.tile + " is not a multiple of " + config.sizeMultiple());
        }
        checkOutput(o.output, o.force);
        Path out = o.output.toAbsolutePath().normalize();
        Path tmp = out.resolveSibling("." + out.getFileName() + ".partial-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            Files.createDirectories(out.getParent()); // missing parents are made, as for every tool's outputs
            Files.createDirectory(tmp);
        } catch (AccessDeniedException e) {
            throw BadInputException.of(o.output, "cannot write in " + out.getParent());
        } catch (FileSystemException e) {
            throw BadInputException.of(o.output, "cannot create it in " + out.getParent() + " ("
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()) + ")", e);
        }
        // an interrupted export (Ctrl-C, kill) removes its hidden work directory too
        Thread cleanup = new Thread(() -> deleteTree(tmp));
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            Result r = write(model, manager, o, tmp, out, progress);
            install(tmp, out, o.force);
            return r;
        } finally {
            deleteTree(tmp);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run
            }
        }
    }

    private static Result write(AdcsrModel model, NDManager manager, Options o, Path dir, Path finalDir,
            BiConsumer<Long, Long> progress) throws IOException, OrtException {
        AdcsrConfig config = model.config();
        int t = o.tile;
        long[] inShape = {1, 3, t, t};
        long[] outShape = {1, 3, 4L * t, 4L * t};
        Map<String, NDArray> params = model.parameters();
        Graph g = OnnxExport.build(config, t, k -> params.get(k).toFloatArray());
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("adcsr.config", config.toJson().replaceAll("\\s+", ""));
        meta.put("adcsr.tile", Integer.toString(t));
        ModelProto floatModel = g.write(dir.resolve(ONNX), ONNX + ".data", OnnxExport.FLOAT, List.of(), meta);
        g.inits.replaceAll((k, init) -> new Graph.Init(init.name(), init.type(), init.shape(),
                fromFile(dir.resolve(ONNX + ".data"), floatModel, init)));
        if (!o.simulate) {
            model.close(); // its weights are on disk now; ONNX Runtime needs the memory
        }

        // what gets encoded: the input, and every op output that survives conversion
        List<String> acts = new ArrayList<>();
        acts.add(OnnxExport.INPUT);
        Map<String, String> opOf = new LinkedHashMap<>();
        for (Graph.Node n : g.nodes) {
            String out = n.outputs().get(0);
            opOf.put(out, n.op());
            if (ENCODED_OPS.contains(n.op()) && !g.internal.contains(out) && n.outputs().size() == 1) {
                acts.add(out);
            }
        }
        // calibration tiles, raw inputs (NCHW and NHWC), ranges, goldens
        Files.createDirectories(dir.resolve("calib/nhwc"));
        Files.createDirectories(dir.resolve("golden"));
        List<float[]> tiles = new ArrayList<>();
        List<String> names = new ArrayList<>();
        StringBuilder list = new StringBuilder();
        StringBuilder listNhwc = new StringBuilder();
        for (int i = 0; i < o.calib.size(); i++) {
            Path img = o.calib.get(i);
            float[] x = CalibImages.tile(img, t);
            String raw = String.format(Locale.ROOT, "%04d.raw", i);
            writeRaw(dir.resolve("calib").resolve(raw), x);
            writeRaw(dir.resolve("calib/nhwc").resolve(raw), CalibImages.nhwc(x, 3, t, t));
            list.append(finalDir.resolve("calib").resolve(raw)).append('\n');
            listNhwc.append(finalDir.resolve("calib/nhwc").resolve(raw)).append('\n');
            tiles.add(x);
            names.add(img.getFileName().toString());
        }
        Map<String, Calibration.Range> ranges = Calibration.ranges(g, floatModel, dir, acts.subList(1, acts.size()),
                OnnxExport.INPUT, tiles, inShape, o.threads, OnnxExport.OUTPUT, (i, y) -> {
                    try {
                        writeRaw(dir.resolve("golden").resolve(String.format(Locale.ROOT, "%04d.raw", i)), y);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, progress);
        Files.writeString(dir.resolve("calib/input_list.txt"), list.toString());
        Files.writeString(dir.resolve("calib/input_list_nhwc.txt"), listNhwc.toString());

        // encodings
        Encodings enc = new Encodings();
        enc.activations.put(OnnxExport.INPUT, Quant.asymmetric(-1, 1, Encodings.ACT_BW));
        for (String a : acts.subList(1, acts.size())) {
            String op = opOf.get(a);
            enc.activations.put(a, op.equals("Sigmoid") || op.equals("Softmax") ? Quant.unitInterval16()
                    : Quant.asymmetric(ranges.get(a).min(), ranges.get(a).max(), Encodings.ACT_BW));
        }
        for (Graph.Node n : g.nodes) {
            if (n.op().equals("Conv") || n.op().equals("MatMul")) {
                Graph.Init w = g.inits.get(n.inputs().get(1));
                if (w != null) {
                    enc.params.put(w.name(), weightEncodings(w, n.op().equals("Conv")));
                }
            }
        }
        String encJson = enc.toJson(o.format);
        Files.writeString(dir.resolve(ENCODINGS), encJson);

        // lint before anything else is written: a failing export leaves nothing behind
        List<String> problems = new ArrayList<>(Lint.graph(floatModel));
        problems.addAll(Lint.encodings(floatModel, encJson));
        if (!problems.isEmpty()) {
            throw new LintException(problems);
        }

        Graph qdq = null;
        if (o.qdq || o.simulate) {
            qdq = Qdq.build(g, enc);
            Qdq.write(qdq, dir.resolve(QDQ), meta);
        }

        List<SimRow> sim = new ArrayList<>();
        if (o.simulate) {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession fs = Calibration.open(env, dir.resolve(ONNX), o.threads);
                 OrtSession qs = Calibration.open(env, dir.resolve(QDQ), o.threads)) {
                List<float[]> simTiles = tiles;
                List<String> simNames = names;
                if (!o.simulateOn.isEmpty()) {
                    simTiles = new ArrayList<>();
                    simNames = new ArrayList<>();
                    for (Path p : o.simulateOn) {
                        simTiles.add(CalibImages.tile(p, t));
                        simNames.add(p.getFileName().toString());
                    }
                }
                for (int i = 0; i < simTiles.size(); i++) {
                    float[] x = simTiles.get(i);
                    float[] f = Calibration.runOnce(fs, OnnxExport.INPUT, x, inShape, OnnxExport.OUTPUT);
                    float[] q = Calibration.runOnce(qs, OnnxExport.INPUT, x, inShape, OnnxExport.OUTPUT);
                    float[] d;
                    try (NDManager m = manager.newSubManager()) {
                        d = model.forward(m.create(x, new Shape(inShape))).toFloatArray();
                    }
                    sim.add(new SimRow(simNames.get(i), maxAbsDiff(f, d), tolerance(d), psnr(q, f)));
                }
            }
            SimulationException failed = verify(sim);
            if (failed != null) { // thrown before anything is installed: a wrong export never appears under its name
                String bad = failed.engineFault ? model.nonFiniteParameter() : null;
                if (bad != null) {
                    throw new BadInputException("the model's weights contain NaN or infinity (" + bad + "): a bad"
                            + " weights file, not an engine fault");
                }
                throw failed;
            }
        }
        if (!o.qdq && qdq != null) {
            Files.delete(dir.resolve(QDQ));
            Files.delete(dir.resolve(QDQ + ".data"));
        }

        List<String> flagged = new ArrayList<>();
        StringBuilder csv = new StringBuilder("tensor,op,min,max,abs_max,scale,offset,flag\n");
        for (String a : acts.subList(1, acts.size())) {
            Calibration.Range r = ranges.get(a);
            Quant q = enc.activations.get(a);
            boolean wide = r.absMax() >= WIDE_RANGE || !Double.isFinite(r.absMax());
            if (wide) {
                flagged.add(a);
            }
            csv.append(csv(a)).append(',').append(opOf.get(a)).append(',').append(r.min()).append(',')
                    .append(r.max()).append(',').append(r.absMax()).append(',').append(q.scale()).append(',')
                    .append(q.offset()).append(',').append(wide ? "wide_range" : "").append('\n');
        }
        Files.writeString(dir.resolve("ranges.csv"), csv.toString());
        Artifacts.htp(dir);
        Artifacts.commands(dir, t, o.qdq);
        Artifacts.manifest(dir, config, t, inShape, outShape, o, enc, acts.size(), flagged, g, sim);
        return new Result(finalDir, g.shapes.size(), enc.activations.size(), enc.params.size(), sim, flagged);
    }

    /** Reads an initializer back from the written model (external data or raw), so the DJL copy can go. */
    private static java.util.function.Supplier<byte[]> fromFile(Path data, ModelProto m, Graph.Init init) {
        return () -> {
            for (onnx.Onnx.TensorProto t : m.getGraph().getInitializerList()) {
                if (!t.getName().equals(init.name())) {
                    continue;
                }
                if (t.getDataLocation() != onnx.Onnx.TensorProto.DataLocation.EXTERNAL) {
                    return t.getRawData().toByteArray();
                }
                long offset = 0;
                int length = 0;
                for (onnx.Onnx.StringStringEntryProto e : t.getExternalDataList()) {
                    if (e.getKey().equals("offset")) {
                        offset = Long.parseLong(e.getValue());
                    } else if (e.getKey().equals("length")) {
                        length = Integer.parseInt(e.getValue());
                    }
                }
                byte[] b = new byte[length];
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(data)) {
                    ByteBuffer bb = ByteBuffer.wrap(b);
                    while (bb.hasRemaining()) {
                        if (ch.read(bb, offset + bb.position()) < 0) {
                            throw new IOException("short read");
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(data + ": " + e.getMessage(), e);
                }
                return b;
            }
            throw new IllegalStateException("no initializer " + init.name());
        };
    }

    /** Ops whose outputs get activation encodings (data movement keeps its input's encoding). */
    static final Set<String> ENCODED_OPS = Set.of("Conv", "MatMul", "Add", "Mul", "Sigmoid", "Softmax",
            "LayerNormalization", "Concat");

    /** 8-bit symmetric weights: per output channel (axis 0) for convs, per tensor for MatMul weights. */
    static List<Quant> weightEncodings(Graph.Init w, boolean perChannel) {
        float[] v = Qdq.floats(w);
        int channels = perChannel ? (int) w.shape()[0] : 1;
        int per = v.length / channels;
        List<Quant> qs = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
            double a = 0;
            for (int i = c * per; i < (c + 1) * per; i++) {
                a = Math.max(a, Math.abs(v[i]));
            }
            qs.add(Quant.symmetric(a, Encodings.PARAM_BW));
        }
        return qs;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /**
     * The most max |Δ| between the float ONNX and the DJL forward may be on a tile:
     * {@value #RELATIVE_TOLERANCE} × max(1, max |DJL output|). The gaps measured so far are float32 rounding (README,
     * precision note): 2.1e-5 and 5.1e-5 on random input, at most 6.5e-4 on photo tiles whose outputs span ±12, that
     * is at most 5.5e-5 of the output's magnitude; 1e-3 of it leaves a margin of about 18 for deeper networks (the
     * paper's), while a wrong graph or a wrong engine is off by the output's own order (9.6 on outputs of ±11 when
     * libtorch's convolutions were wrong). NaN or infinity when the DJL output is not finite.
     */
    static double tolerance(float[] djl) {
        double m = 1;
        for (float v : djl) {
            m = Math.max(m, Math.abs(v)); // NaN stays NaN
        }
        return RELATIVE_TOLERANCE * m;
    }

    /**
     * Checks every simulated tile: a DJL output that is not finite (an infinite or NaN tolerance) is an engine
     * fault; max |Δ| above its tolerance or NaN, or a NaN W8A16 PSNR (the QDQ model gave NaN), fails the check. The
     * PSNR has no floor: how much W8A16 loses depends on the weights and is what the simulation measures; +∞ means
     * identical outputs.
     *
     * @return the failure, with one line per failing tile, or null when every figure passes
     */
    static SimulationException verify(List<SimRow> rows) {
        List<String> problems = new ArrayList<>();
        boolean engine = false;
        for (SimRow r : rows) {
            if (!Double.isFinite(r.toleranceOnnxVsDjl())) {
                engine = true;
                problems.add(r.image() + ": the DJL forward produced NaN or infinity from finite inputs and weights"
                        + " (max_abs_diff_onnx_vs_djl " + figure(r.maxAbsDiffOnnxVsDjl()) + "): an engine fault");
            } else if (!(r.maxAbsDiffOnnxVsDjl() <= r.toleranceOnnxVsDjl())) {
                problems.add(r.image() + ": max_abs_diff_onnx_vs_djl " + figure(r.maxAbsDiffOnnxVsDjl())
                        + " is not within its tolerance " + figure(r.toleranceOnnxVsDjl()) + " (" + RELATIVE_TOLERANCE
                        + " x max(1, max |DJL output|)): the float ONNX export and the DJL forward disagree");
            } else if (Double.isNaN(r.psnrW8a16VsFloatDb())) {
                problems.add(r.image() + ": psnr_w8a16_vs_float_db is NaN: the W8A16 simulation (QDQ model) produced"
                        + " NaN");
            }
        }
        return problems.isEmpty() ? null : new SimulationException(rows, problems, engine);
    }

    private static String figure(double v) {
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** PSNR in dB of {@code a} against {@code ref}, both in [−1, 1] (peak-to-peak 2). */
    static double psnr(float[] a, float[] ref) {
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.max(-1, Math.min(1, a[i])) - Math.max(-1, Math.min(1, ref[i]));
            se += d * d;
        }
        double mse = se / a.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(4 / mse);
    }

    static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static void writeRaw(Path file, float[] v) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        Files.write(file, b.array());
    }

    /** Renames the finished directory into place; with {@code force} an existing one is moved aside first. */
    private static void install(Path tmp, Path out, boolean force) throws IOException {
        Path old = null;
        if (Files.exists(out)) {
            if (!force) {
                throw new FileAlreadyExistsException(out.toString());
            }
            old = out.resolveSibling("." + out.getFileName() + ".old-"
                    + Long.toHexString(ThreadLocalRandom.current().nextLong()));
            Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (IOException | UncheckedIOException e) {
            // best effort: the directory is hidden and named .partial
        }
    }

    /** The export failed its own lint: a bug or an unsupported config, never a partial directory. */
    static final class LintException extends RuntimeException {
        final List<String> problems;

        LintException(List<String> problems) {
            super("lint failed: " + problems.size() + " problem(s); first: " + problems.get(0));
            this.problems = problems;
        }
    }

    /**
     * A simulated figure out of tolerance or not finite: nothing is installed (like a {@link LintException}); the
     * command still prints every row's figures.
     */
    static final class SimulationException extends RuntimeException {
        final List<SimRow> rows;
        final List<String> problems;
        final boolean engineFault;

        SimulationException(List<SimRow> rows, List<String> problems, boolean engineFault) {
            super("simulation check failed: " + problems.get(0));
            this.rows = rows;
            this.problems = problems;
            this.engineFault = engineFault;
        }

        /** 5 (engine fault) when a DJL output was not finite, else 4 (check failed). */
        int exitCode() {
            return engineFault ? ExitCodes.ENGINE_FAULT : ExitCodes.CHECK_FAILED;
        }
    }

    static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeSpecialFloatingPointValues()
            .create();
}
