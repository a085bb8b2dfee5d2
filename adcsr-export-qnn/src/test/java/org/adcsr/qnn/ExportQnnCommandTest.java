package org.adcsr.qnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import org.adcsr.core.Engines;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.io.DType;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.cli.Cli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ExportQnnCommandTest {
    @TempDir static Path shared;
    static Path weights;
    static Path calib;
    static Path export;
    static String exportOut;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cl = Cli.commandLine(new ExportQnnCommand());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = Cli.execute(cl, args);
        return new Run(code, out.toString(), err.toString());
    }

    /** A smooth synthetic RGB image with some texture, 8-bit. */
    static void image(Path file, int w, int h, int seed) {
        Image img = Image.blank(w, h, 3, 255);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double v = 127.5 + 100 * Math.sin((x + 3 * c + seed) / 5.0) * Math.cos((y - seed) / 7.0);
                    img.setSample(c, y, x, (float) Math.round(v));
                }
            }
        }
        Images.write(img, file, 95);
    }

    @BeforeAll
    static void exportOnce() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        weights = shared.resolve("tiny.safetensors");
        try (NDManager m = engine.newBaseManager();
             AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 3, m, DataType.FLOAT32)) {
            ModelFiles.save(model, weights, Map.of(), DType.F32);
        }
        calib = Files.createDirectories(shared.resolve("calib"));
        image(calib.resolve("a.png"), 40, 36, 0);
        image(calib.resolve("b.png"), 32, 48, 5);
        export = shared.resolve("qnn");
        Run r = run("--weights", weights.toString(), "--calib", calib.toString(), "-o", export.toString(),
                "--tile", "32", "--simulate");
        assertEquals(0, r.code, r.err);
        exportOut = r.out;
    }

    @Test
    void writesEveryArtifact() {
        for (String f : List.of("adcsr.onnx", "adcsr.onnx.data", "adcsr.encodings", "adcsr.qdq.onnx",
                "adcsr.qdq.onnx.data", "calib/input_list.txt", "calib/input_list_nhwc.txt", "calib/0000.raw",
                "calib/nhwc/0001.raw", "golden/0000.raw", "htp/htp_ext.json", "htp/htp_v79.json", "commands.sh",
                "manifest.json", "ranges.csv")) {
            assertTrue(Files.isRegularFile(export.resolve(f)), f);
        }
        assertFalse(Files.exists(export.resolve("calibration.onnx")));
        try (Stream<Path> s = Files.list(shared)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".partial-")));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void simulationMatchesDjlAndQuantisedOutputIsClose() {
        String[] lines = exportOut.split("\r\n");
        assertEquals("image,max_abs_diff_onnx_vs_djl,psnr_w8a16_vs_float_db", lines[0]);
        assertEquals(3, lines.length, exportOut);
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",");
            assertTrue(Double.parseDouble(f[1]) <= 1e-4, lines[i]);
            assertTrue(Double.parseDouble(f[2]) > 25, "W8A16 PSNR " + lines[i]);
        }
    }

    @Test
    void simulationOnTestImages() throws Exception {
        Path tests = Files.createDirectories(shared.resolve("test-images"));
        image(tests.resolve("t.png"), 48, 40, 9);
        Run r = run("--weights", weights.toString(), "--calib", calib.toString(), "-o",
                shared.resolve("qnn-test-images").toString(), "--tile", "32", "--simulate-on", tests.toString());
        assertEquals(0, r.code, r.err);
        String[] lines = r.out.split("\r\n");
        assertEquals(2, lines.length, r.out);
        assertTrue(lines[1].startsWith("t.png,"), r.out);
        assertTrue(Double.parseDouble(lines[1].split(",")[1]) <= 1e-4, lines[1]);
    }

    @Test
    void simulationFiguresOutOfToleranceOrNotFiniteFail() {
        assertEquals(0.011, QnnExporter.tolerance(new float[] {0.5f, -11f, 3f}), 1e-12);
        assertEquals(1e-3, QnnExporter.tolerance(new float[] {0.2f, -0.1f}), 1e-12); // at least 1e-3
        assertTrue(Double.isNaN(QnnExporter.tolerance(new float[] {1f, Float.NaN, 2f})));
        assertTrue(Double.isInfinite(QnnExporter.tolerance(new float[] {Float.NEGATIVE_INFINITY})));

        assertNull(QnnExporter.verify(List.of(new QnnExporter.SimRow("ok.png", 6.5e-4, 0.012, 41.0),
                new QnnExporter.SimRow("same.png", 0, 1e-3, Double.POSITIVE_INFINITY))));

        QnnExporter.SimulationException e = QnnExporter.verify(List.of(
                new QnnExporter.SimRow("ok.png", 2e-5, 1e-3, 40.0),
                new QnnExporter.SimRow("far.png", 9.6, 0.011, 30.0)));
        assertEquals(4, e.exitCode());
        assertEquals(List.of("far.png: max_abs_diff_onnx_vs_djl 9.600e+00 is not within its tolerance 1.100e-02 (0.001"
                + " x max(1, max |DJL output|)): the float ONNX export and the DJL forward disagree"), e.problems);

        e = QnnExporter.verify(List.of(new QnnExporter.SimRow("nan.png", Double.NaN, 0.011, 30.0)));
        assertEquals(4, e.exitCode());
        assertEquals(List.of("nan.png: max_abs_diff_onnx_vs_djl NaN is not within its tolerance 1.100e-02 (0.001"
                + " x max(1, max |DJL output|)): the float ONNX export and the DJL forward disagree"), e.problems);

        e = QnnExporter.verify(List.of(new QnnExporter.SimRow("qdq.png", 1e-5, 1e-3, Double.NaN)));
        assertEquals(4, e.exitCode());
        assertEquals(List.of("qdq.png: psnr_w8a16_vs_float_db is NaN: the W8A16 simulation (QDQ model) produced NaN"),
                e.problems);

        // a DJL output that is not finite outranks the others: the engine
        e = QnnExporter.verify(List.of(new QnnExporter.SimRow("far.png", 9.6, 0.011, 30.0),
                new QnnExporter.SimRow("djl.png", Double.NaN, Double.NaN, 30.0)));
        assertEquals(5, e.exitCode());
        assertEquals(2, e.problems.size());
        assertEquals("djl.png: the DJL forward produced NaN or infinity from finite inputs and weights"
                + " (max_abs_diff_onnx_vs_djl NaN): an engine fault", e.problems.get(1));
    }


    @Test
    void aDjlForwardGivingNaNFailsTheSimulationAndLeavesNothing(@TempDir Path t) throws Exception {
        Path out = t.resolve("qnn");
        Run r;
        Convolution.simulateFault((mode, shape) -> true); // only the simulation's DJL forward convolves in libtorch
        try {
            r = run("--weights", weights.toString(), "--calib", calib.toString(), "-o", out.toString(), "--tile",
                    "32", "--simulate");
        } finally {
            Convolution.simulateFault(null);
        }
        assertEquals(5, r.code, r.err);
        String[] lines = r.out.split("\r\n");
        assertEquals(3, lines.length, r.out);
        assertTrue(lines[1].startsWith("a.png,NaN,"), r.out);
        assertTrue(r.err.contains("adcsr-export-qnn: a.png: the DJL forward produced NaN or infinity from finite"
                + " inputs and weights (max_abs_diff_onnx_vs_djl NaN): an engine fault\n"), r.err);
        assertTrue(r.err.endsWith("adcsr-export-qnn: the export failed its simulation check; nothing was written\n"),
                r.err);
        assertFalse(r.err.contains("lint passed"), r.err);
        try (Stream<Path> s = Files.list(t)) {
            assertEquals(List.of(), s.toList(), "no export, no hidden work directory");
        }
    }

    @Test
    void rawInputsAndListsHaveTheRecordedLayout() throws Exception {
        assertEquals(4L * 3 * 32 * 32, Files.size(export.resolve("calib/0000.raw")));
        assertEquals(4L * 3 * 128 * 128, Files.size(export.resolve("golden/0000.raw")));
        List<String> list = Files.readAllLines(export.resolve("calib/input_list.txt"));
        assertEquals(List.of(export.resolve("calib/0000.raw").toString(), export.resolve("calib/0001.raw").toString()),
                list);
        JsonObject m = JsonParser.parseString(Files.readString(export.resolve("manifest.json"))).getAsJsonObject();
        assertTrue(m.getAsJsonObject("calibration").get("layout").getAsString().startsWith("NCHW"));
        assertTrue(m.get("cpu_side").getAsString().contains("colour fix"));
        assertTrue(m.get("weights").getAsString().endsWith(weights.getFileName().toString()), m.get("weights").toString());
    }

    @Test
    void encodingsCoverGraphTensorsAndLintPasses() throws Exception {
        ModelProto m;
        try (InputStream in = Files.newInputStream(export.resolve("adcsr.onnx"))) {
            m = ModelProto.parseFrom(in);
        }
        assertEquals(17, m.getOpsetImport(0).getVersion());
        Set<String> outs = new HashSet<>();
        Set<String> ops = new HashSet<>();
        for (NodeProto n : m.getGraph().getNodeList()) {
            outs.addAll(n.getOutputList());
            ops.add(n.getOpType());
        }
        assertTrue(ops.contains("SpaceToDepth") && ops.contains("InstanceNormalization") && ops.contains("Resize"));
        assertTrue(outs.contains("unet.conv_in") && outs.contains("unet.mid_block.attentions.0.transformer_blocks.0.attn1.to_q"));
        JsonObject enc = JsonParser.parseString(Files.readString(export.resolve("adcsr.encodings"))).getAsJsonObject();
        assertEquals("0.6.1", enc.get("version").getAsString());
        JsonObject acts = enc.getAsJsonObject("activation_encodings");
        assertTrue(acts.has("lr") && acts.has("sr") && acts.has("unet.conv_in"));
        JsonObject lr = acts.getAsJsonArray("lr").get(0).getAsJsonObject();
        assertEquals("False", lr.get("is_symmetric").getAsString());
        assertEquals(-32768, lr.get("offset").getAsLong());
        for (String a : acts.keySet()) {
            assertTrue(outs.contains(a) || a.equals("lr"), a);
        }
        JsonObject params = enc.getAsJsonObject("param_encodings");
        assertEquals(8, params.getAsJsonArray("unet.conv_in.weight").size()); // tiny: 8 output channels
        assertEquals("True", params.getAsJsonArray("unet.conv_in.weight").get(0).getAsJsonObject()
                .get("is_symmetric").getAsString());
        Run r = run("--lint", export.toString());
        assertEquals(0, r.code, r.err);
    }

    @Test
    void qdqModelRunsAndIsOpset21() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = Calibration.open(env, export.resolve("adcsr.qdq.onnx"), 1)) {
            float[] y = Calibration.runOnce(s, "lr", new float[3 * 32 * 32], new long[] {1, 3, 32, 32}, "sr");
            assertEquals(3 * 128 * 128, y.length);
        }
    }

    @Test
    void encodings100AndNoQdq(@TempDir Path t) {
        Path out = t.resolve("v1");
        Run r = run("--weights", weights.toString(), "--calib", calib.resolve("a.png").toString(), "-o",
                out.toString(), "--tile", "32", "--encodings-version", "1.0.0", "--no-qdq", "-q");
        assertEquals(0, r.code, r.err);
        assertFalse(Files.exists(out.resolve("adcsr.qdq.onnx")));
        assertEquals(0, run("--lint", out.toString()).code);
    }

    @Test
    void badInputsAreOneLineErrorsAndLeaveNothing(@TempDir Path t) throws Exception {
        Run missing = run("--weights", weights.toString(), "--calib", t.resolve("nope").toString(), "-o",
                t.resolve("o").toString(), "--tile", "32");
        assertEquals(3, missing.code);
        assertTrue(missing.err.contains("nope: no such file or directory"), missing.err);

        Files.createDirectories(t.resolve("empty"));
        assertEquals(3, run("--weights", weights.toString(), "--calib", t.resolve("empty").toString(), "-o",
                t.resolve("o").toString(), "--tile", "32").code);

        Run exists = run("--weights", weights.toString(), "--calib", calib.toString(), "-o", export.toString(),
                "--tile", "32");
        assertEquals(3, exists.code);
        assertTrue(exists.err.contains("exists"), exists.err);

        Files.writeString(t.resolve("file"), "x");
        Run unwritable = run("--weights", weights.toString(), "--calib", calib.toString(), "-o",
                t.resolve("file/out").toString(), "--tile", "32");
        assertEquals(3, unwritable.code, unwritable.err);

        Path cfg = t.resolve("paper.json");
        Files.writeString(cfg, AdcsrConfig.paper().toJson());
        Run other = run("--weights", weights.toString(), "--config", cfg.toString(), "--calib", calib.toString(),
                "-o", t.resolve("o").toString(), "--tile", "32");
        assertEquals(3, other.code, other.err);
        assertEquals(1, other.err.strip().lines().count(), other.err);

        // a calibration image smaller than the tile fails mid-export: no output, no partial directory
        Path mixed = Files.createDirectories(t.resolve("mixed"));
        image(mixed.resolve("a.png"), 40, 40, 1);
        image(mixed.resolve("b.png"), 16, 16, 2);
        Run small = run("--weights", weights.toString(), "--calib", mixed.toString(), "-o", t.resolve("o").toString(),
                "--tile", "32");
        assertEquals(3, small.code);
        assertTrue(small.err.contains("smaller than the 32x32 tile"), small.err);
        try (Stream<Path> s = Files.list(t)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".o") || p.endsWith("o")));
        }
    }

    @Test
    void calibrationInManyGroupsGivesTheSameEncodings(@TempDir Path t) throws Exception {
        long old = Calibration.maxBytesPerGroup;
        Calibration.maxBytesPerGroup = 1 << 20; // many variants, each declaring a few outputs
        try {
            Path out = t.resolve("grouped");
            Run r = run("--weights", weights.toString(), "--calib", calib.toString(), "-o", out.toString(),
                    "--tile", "32", "--no-qdq", "-q");
            assertEquals(0, r.code, r.err);
            assertEquals(Files.readString(export.resolve("adcsr.encodings")), Files.readString(out.resolve("adcsr.encodings")));
            assertEquals(-1, Files.mismatch(export.resolve("golden/0001.raw"), out.resolve("golden/0001.raw")));
        } finally {
            Calibration.maxBytesPerGroup = old;
        }
    }
}
