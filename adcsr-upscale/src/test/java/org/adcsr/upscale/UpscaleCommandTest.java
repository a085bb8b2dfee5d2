package org.adcsr.upscale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.adcsr.cli.Cli;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.DefaultModel;
import org.adcsr.core.model.ModelFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The tool end to end on a tiny random-weight model (the official-procedure parity is tested in adcsr-core). */
class UpscaleCommandTest {
    @TempDir
    static Path models;
    static Path weights;

    @TempDir
    Path tmp;

    String out;
    String err;

    @BeforeAll
    static void tinyModel() throws Exception {
        System.setProperty("adcsr.cache.dir", models.resolve("cache").toString()); // ONNX Runtime's weights
        weights = models.resolve("tiny.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 3, m, DataType.FLOAT32)) {
            ModelFiles.save(model, weights, Map.of(), DType.F32);
        }
    }

    private int run(String... args) {
        CommandLine cl = Cli.commandLine(new UpscaleCommand());
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        cl.setOut(new PrintWriter(o, true));
        cl.setErr(new PrintWriter(e, true));
        int code = Cli.execute(cl, args);
        out = o.toString();
        err = e.toString();
        return code;
    }

    private int upscale(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "--weights=" + weights;
        all[1] = "--tile=32";
        all[2] = "--overlap=16";
        System.arraycopy(args, 0, all, 3, args.length);
        return run(all);
    }

    private Path image(String name, int w, int h, int channels, int max) {
        Random r = new Random(name.hashCode());
        Image img = Image.blank(w, h, channels, max);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = r.nextInt(max + 1);
        }
        Path f = tmp.resolve(name);
        Images.write(img, f, 95);
        return f;
    }

    @Test
    void oneImageAnySizeKeepsGrayAlphaAndDepth() {
        Path in = image("odd.png", 21, 13, 4, 65535);
        Path target = tmp.resolve("odd_big.png");
        assertEquals(0, upscale(in.toString(), "-o", target.toString()), err);
        Image result = Images.read(target);
        assertEquals(84, result.width());
        assertEquals(52, result.height());
        assertEquals(4, result.channels());
        assertEquals(65535, result.maxValue());

        Path gray = image("gray.png", 16, 16, 1, 255);
        assertEquals(0, upscale(gray.toString()), err);
        assertEquals(1, Images.read(tmp.resolve("gray_x4.png")).channels());
    }

    @Test
    void batchGoesOnPastBadFilesAndReportsThem() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("lr/sub"));
        image("lr/a.png", 16, 16, 3, 255);
        image("lr/sub/b.jpg", 20, 16, 3, 255);
        Files.writeString(tmp.resolve("lr/sub/broken.png"), "not a png");
        Files.write(tmp.resolve("lr/empty.png"), new byte[0]);
        Path sr = tmp.resolve("sr");
        Path report = tmp.resolve("report.csv");
        assertEquals(3, upscale(tmp.resolve("lr").toString(), "-o", sr.toString(), "--report", report.toString()));
        assertTrue(Files.exists(sr.resolve("a_x4.png")));
        assertTrue(Files.exists(sr.resolve("sub/b_x4.png")));
        assertTrue(err.contains("broken.png: not an image in a supported format"), err);
        assertTrue(err.contains("empty.png: empty file"), err);
        assertTrue(err.contains("2 of 4 images failed"), err);
        List<String> rows = Files.readAllLines(report);
        assertEquals(5, rows.size());
        assertTrue(rows.get(0).startsWith("input,output,model,engine,status,width,height,out_width,out_height,tiles,"
                + "seconds"));
        assertEquals(2, rows.stream().filter(r -> r.contains("," + weights + ",onnxruntime,ok,")).count(),
                rows.toString());
        assertEquals(2, rows.stream().filter(r -> r.contains(",failed,")).count());
        try (var files = Files.list(sr)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }

        // a rerun resumes: existing outputs are skipped, and replaced only with --overwrite
        long before = Files.getLastModifiedTime(sr.resolve("a_x4.png")).toMillis();
        upscale(tmp.resolve("lr").toString(), "-o", sr.toString());
        assertTrue(err.contains("a_x4.png: exists, skipped"), err);
        assertEquals(before, Files.getLastModifiedTime(sr.resolve("a_x4.png")).toMillis());
        upscale(tmp.resolve("lr").toString(), "-o", sr.toString(), "--overwrite");
        assertFalse(err.contains("a_x4.png: exists"), err);
    }


    @Test
    void batchGoesOnPastNonFiniteNetworkOutputAndExits5() throws Exception {
        Path lr = Files.createDirectories(tmp.resolve("nan-lr"));
        image("nan-lr/a.png", 16, 16, 3, 255);
        image("nan-lr/b.png", 80, 16, 3, 255);
        image("nan-lr/c.png", 16, 16, 3, 255);
        Path sr = tmp.resolve("nan-sr");
        Path report = tmp.resolve("nan.csv");
        // b's UNet convolves 40-pixel-wide maps (80 / PixelUnshuffle's 2); the 16-pixel images never do (a fault
        // simulated in DJL's convolutions)
        Convolution.simulateFault((mode, shape) -> shape.get(3) == 40);
        try {
            assertEquals(5, run("--engine=djl", "--weights=" + weights, "--tile=80", "--overlap=16", lr.toString(), "-o",
                    sr.toString(), "--report", report.toString()), err);
            assertTrue(err.contains("adcsr-upscale: " + lr.resolve("b.png") + ": the network produced NaN or infinity"
                    + " (float32) from finite inputs and weights: an engine fault, not a bad input\n"), err);
            assertTrue(err.contains("1 of 3 images failed (1 by an engine fault)"), err);
            assertTrue(Files.exists(sr.resolve("a_x4.png")));
            assertFalse(Files.exists(sr.resolve("b_x4.png")));
            assertTrue(Files.exists(sr.resolve("c_x4.png")));
            try (var files = Files.list(sr)) {
                assertEquals(2, files.count(), "no temporary or partial files");
            }
            List<String> rows = Files.readAllLines(report);
            assertEquals(4, rows.size(), rows.toString());
            assertTrue(rows.get(1).contains("a.png,") && rows.get(1).contains(",ok,"), rows.get(1));
            assertTrue(rows.get(2).contains("b.png,") && rows.get(2).contains(",failed,")
                    && rows.get(2).contains("the network produced NaN or infinity"), rows.get(2));
            assertTrue(rows.get(3).contains("c.png,") && rows.get(3).contains(",ok,"), rows.get(3));

            // one image alone: exit 5 and the one-line message, no output
            Path one = tmp.resolve("one_x4.png");
            assertEquals(5, run("--engine=djl", "--weights=" + weights, "--tile=80", "--overlap=16",
                    lr.resolve("b.png").toString(),
                    "-o", one.toString()));
            assertEquals(2, err.lines().count(), err);
            assertTrue(err.startsWith("adcsr-upscale: " + lr.resolve("b.png") + ": the network produced NaN"), err);
            assertFalse(Files.exists(one));

            // with a bad input in the same batch, the engine fault decides the exit code
            Files.writeString(lr.resolve("broken.png"), "not a png");
            assertEquals(5, run("--engine=djl", "--weights=" + weights, "--tile=80", "--overlap=16", lr.toString(),
                    "-o", sr.toString(), "--overwrite"));
            assertTrue(err.contains("2 of 4 images failed (1 by an engine fault)"), err);
        } finally {
            Convolution.simulateFault(null);
        }
    }

    @Test
    void inputsAreNeverOverwritten() throws Exception {
        Path in = image("same.png", 16, 16, 3, 255);
        byte[] original = Files.readAllBytes(in);
        assertEquals(3, upscale(in.toString(), "-o", in.toString(), "--overwrite"));
        assertTrue(err.contains("is an input; refusing to overwrite it"), err);
        assertArrayEquals(original, Files.readAllBytes(in));
    }

    @Test
    void stdinToStdout() throws Exception {
        Path in = image("pipe.png", 16, 16, 3, 255);
        InputStream stdin = System.in;
        PrintStream stdout = System.out;
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(Files.readAllBytes(in)));
            System.setOut(new PrintStream(png, true));
            assertEquals(0, upscale("-", "-o", "-"), err);
        } finally {
            System.setIn(stdin);
            System.setOut(stdout);
        }
        Image result = Images.decode(png.toByteArray(), "stdout", Images.DEFAULT_MAX_PIXELS);
        assertEquals(64, result.width());
    }

    @Test
    void bothEnginesGiveTheSameImageAndSayWhichRan() throws Exception {
        Path in = image("both.png", 40, 24, 3, 255); // padded to 48x32: 2x1 tiles of 32
        Map<String, Image> results = new java.util.LinkedHashMap<>();
        for (String engine : List.of("djl", "onnxruntime", "auto")) {
            Path o = tmp.resolve(engine + ".png");
            Path report = tmp.resolve(engine + ".csv");
            assertEquals(0, upscale("-v", "--engine=" + engine, in.toString(), "-o", o.toString(), "--report",
                    report.toString()), err);
            String ran = engine.equals("djl") ? "djl" : "onnxruntime";
            assertTrue(err.contains("; engine: " + ran + " "), err);
            assertTrue(Files.readAllLines(report).get(1).contains("," + weights + "," + ran + ",ok,40,24,160,96,2,"),
                    Files.readAllLines(report).toString());
            results.put(engine, Images.read(o));
        }
        Image djl = results.get("djl");
        for (Image ort : List.of(results.get("onnxruntime"), results.get("auto"))) {
            int off = 0;
            for (int i = 0; i < djl.data().length; i++) {
                float d = Math.abs(djl.data()[i] - ort.data()[i]);
                assertTrue(d <= 1, "value " + i + " differs by " + d);
                off += (int) d;
            }
            assertTrue(off <= djl.data().length / 500, off + " values off by one");
        }
        assertEquals(2, upscale("--engine=tensorflow", in.toString()));
        assertTrue(err.contains("expected auto, onnxruntime or djl, got 'tensorflow'"), err);
    }

    @Test
    void gpuWithoutCudaIsOneLineForEitherEngine() {
        Path in = image("g.png", 16, 16, 3, 255);
        // this build's ONNX Runtime is the CPU one and its libtorch has no CUDA
        assertEquals(3, upscale("--device=gpu", "--engine=onnxruntime", in.toString()));
        assertEquals(1, err.lines().count(), err);
        assertEquals("adcsr-upscale: --device gpu: this ONNX Runtime is the CPU build; put onnxruntime_gpu-1.29.0.jar"
                + " in CLASSPATH_PREFIX, with CUDA 12 and cuDNN 9 (README: adcsr-upscale, GPU)\n", err);
        assertEquals(3, upscale("--device=gpu", in.toString()));
        assertEquals(1, err.lines().count(), err);
        assertEquals("adcsr-upscale: --device gpu: no engine here can use it (ONNX Runtime is the CPU build; this"
                + " build has only the CPU libtorch); for ONNX Runtime, put onnxruntime_gpu-1.29.0.jar in"
                + " CLASSPATH_PREFIX, with CUDA 12 and cuDNN 9 (README: adcsr-upscale, GPU)\n", err);
        assertEquals(3, upscale("--device=gpu", "--engine=djl", in.toString()));
        assertEquals(1, err.lines().count(), err);
        assertFalse(err.contains("onnxruntime_gpu"), err);
        assertFalse(Files.exists(tmp.resolve("g_x4.png")));
    }

    @Test
    void clearErrorsForBadSettingsAndFiles() throws Exception {
        Path in = image("x.png", 16, 16, 3, 255);
        assertEquals(3, run("--weights=" + weights, "--tile=40", in.toString()));
        assertTrue(err.contains("tile size 40 must be a positive multiple of 16"), err);
        assertEquals(3, upscale("--precision=fp16", in.toString()));
        assertEquals(2, upscale("--color-fix=blue", in.toString()));
        assertEquals(3, upscale("--format=xyz", in.toString()));

        Path wrong = tmp.resolve("paper-config.json");
        Files.writeString(wrong, AdcsrConfig.paper().toJson());
        assertEquals(3, upscale("--config=" + wrong, in.toString()));
        assertTrue(err.contains("does not fit the model") && err.contains("shape mismatches"), err);

        assertEquals(3, upscale("--max-pixels=100", in.toString()));
        assertTrue(err.contains("over the limit of 100 pixels"), err);
        assertEquals(3, upscale(tmp.resolve("absent.png").toString()));
        assertTrue(err.contains("absent.png: no such file"), err);
    }

    @Test
    void infoDescribesTheLoadedModel() {
        assertEquals(0, run("info", "--weights=" + weights, "--size=32x48", "--depth=1"));
        assertTrue(out.startsWith("module,kind,params,macs,attention_macs,output_shape"), out);
        long params = AdcsrModel.parameterList(AdcsrConfig.tiny()).stream().mapToLong(t -> t.numel()).sum();
        assertTrue(out.contains("total,," + params + ","), out);
        assertEquals(0, run("info", "--config=paper", "--size=128x128"));
        assertTrue(out.contains("total,,456073683,494972174336,54525427712,"), out);
        // any size, described as adcsr-upscale runs it: padded to multiples of 16
        assertEquals(0, run("info", "--config=paper", "--size=112x112"));
        String padded = out;
        assertEquals("", err);
        assertEquals(0, run("info", "--config=paper", "--size=100x97"));
        assertEquals(padded, out);
        assertTrue(err.contains("100x97 is run padded to 112x112"), err);
        assertEquals(2, run("info", "--size=100"));
        assertEquals(2, run("info", "--size=0x16"));
    }

    @Test
    void severalInputsToAFileNamedLikeAnImageIsAUsageError() {
        Path a = image("a.png", 16, 16, 3, 255);
        Path b = image("b.png", 16, 16, 3, 255);
        Path o = tmp.resolve("o14.png");
        assertEquals(2, upscale(a.toString(), b.toString(), "-o", o.toString()));
        assertTrue(err.contains("need an output directory"), err);
        assertFalse(Files.exists(o));
        assertEquals(0, upscale(a.toString(), b.toString(), "-o", o + "/"));
        assertTrue(Files.isRegularFile(o.resolve("a_x4.png")) && Files.isRegularFile(o.resolve("b_x4.png")));
    }

    @Test
    void noImageToATerminal() {
        Path a = image("a.png", 16, 16, 3, 255);
        CommandLine cl = Cli.commandLine(new UpscaleCommand());
        ((UpscaleCommand) cl.getCommand()).stdoutIsTerminal = () -> true;
        StringWriter e = new StringWriter();
        cl.setErr(new PrintWriter(e, true));
        assertEquals(2, Cli.execute(cl, "--weights=" + weights, a.toString(), "-o", "-"));
        assertTrue(e.toString().contains("will not write a PNG image to a terminal"), e.toString());
    }

    /** A fixture image: {@code tools/fixtures/make_bicubic_fixture.py}. */
    private static Path fixture(String name) throws Exception {
        return Path.of(UpscaleCommandTest.class.getResource("/fixtures/bicubic/" + name).toURI());
    }

    @Test
    void bicubicBaselineMatchesPilWithoutWeights() throws Exception {
        Path lr = Files.createDirectories(tmp.resolve("lr"));
        for (String name : List.of("rgb.png", "gray.png")) {
            Files.copy(fixture("lr/" + name), lr.resolve(name));
        }
        Path sr = tmp.resolve("sr");
        Path report = tmp.resolve("bicubic.csv");
        assertEquals(0, run("--model", "bicubic", "-v", lr.toString(), "-o", sr.toString(), "--suffix=",
                "--report", report.toString()), err);
        assertTrue(err.contains("adcsr-upscale: model: bicubic"), err);
        for (String name : List.of("rgb.png", "gray.png")) {
            Image want = Images.read(fixture("x4/" + name));
            Image got = Images.read(sr.resolve(name));
            assertEquals(want.width(), got.width(), name);
            assertEquals(want.height(), got.height(), name);
            assertEquals(want.channels(), got.channels(), name);
            float worst = 0;
            for (int i = 0; i < want.data().length; i++) {
                worst = Math.max(worst, Math.abs(want.data()[i] - got.data()[i]));
            }
            assertTrue(worst <= 1, name + ": off PIL's bicubic by " + worst);
        }
        List<String> rows = Files.readAllLines(report);
        assertEquals(3, rows.size(), rows.toString());
        assertTrue(rows.get(1).contains(",bicubic,,ok,13,9,52,36,0,") || rows.get(2).contains(",bicubic,,ok,13,9,52,36,0,"),
                rows.toString());

        // same batch behaviour as the model: existing outputs are skipped
        assertEquals(0, run("--model=bicubic", lr.toString(), "-o", sr.toString(), "--suffix="));
        assertTrue(err.contains("rgb.png: exists, skipped"), err);
    }

    @Test
    void bicubicKeepsAlphaAndDepthAndRefusesModelOptions() {
        Path in = image("rgba16.png", 5, 3, 4, 65535);
        Path target = tmp.resolve("rgba16_big.png");
        assertEquals(0, run("--model=bicubic", in.toString(), "-o", target.toString()), err);
        Image result = Images.read(target);
        assertEquals(20, result.width());
        assertEquals(12, result.height());
        assertEquals(4, result.channels());
        assertEquals(65535, result.maxValue());

        for (String option : List.of("--weights=" + weights, "--color-fix=none", "--tile=32", "--overlap=16",
                "--precision=fp32", "--engine=djl")) {
            assertEquals(2, run("--model=bicubic", option, in.toString(), "-o", target.toString(), "--overwrite"),
                    option);
            assertTrue(err.startsWith("adcsr-upscale: " + option.substring(0, option.indexOf('='))
                    + " does not apply to --model bicubic"), err);
        }
        assertEquals(2, run("--model=nearest", in.toString()));
        assertTrue(err.contains("expected adcsr or bicubic, got 'nearest'"), err);
    }

    // ---- the embedded default model, as a user meets it: no --weights. The input is a committed real-photo crop
    // (CC0, tools/fixtures/make_default_model_photos.sh), the expected output was written by the djl engine when the
    // model was installed (tools/fixtures/make_default_model_expected.sh). A change that breaks the model, its packing
    // or its loading fails here.
    static final Path DEFAULT_MODEL = Path.of("src/test/resources/default-model");

    /** Largest difference of two images' samples, after checking their sizes. */
    private static float maxDifference(Image a, Image b) {
        assertEquals(a.width(), b.width());
        assertEquals(a.height(), b.height());
        assertEquals(a.channels(), b.channels());
        float max = 0;
        for (int i = 0; i < a.data().length; i++) {
            max = Math.max(max, Math.abs(a.data()[i] - b.data()[i]));
        }
        return max;
    }

    @Test
    void upscalesTheCommittedCropToTheCommittedOutputOnBothEngines() throws Exception {
        Image expected = Images.read(DEFAULT_MODEL.resolve("expected_x4.png"));
        for (String engine : new String[] {"djl", "onnxruntime"}) {
            Path o = tmp.resolve(engine + ".png");
            Path report = tmp.resolve(engine + ".csv");
            assertEquals(0, run("--engine=" + engine, "--threads=1", DEFAULT_MODEL.resolve("input.png").toString(), "-o",
                    o.toString(), "--report", report.toString()), err);
            // the expected output was written by the djl engine on the machine that trained the model: other
            // CPUs and ONNX Runtime round a few samples the other way
            assertTrue(maxDifference(expected, Images.read(o)) <= 1, engine);
            assertTrue(Files.readString(report).contains("default model adcsr-default-s"), engine);
        }
    }

    @Test
    void versionAndInfoNameIt() {
        assertEquals(0, run("--version"));
        assertTrue(out.contains("default model: adcsr-default-s; quality held-out mean"), out);
        assertEquals(0, run("info", "--size=32x32"));
        assertTrue(err.startsWith("adcsr-upscale info: default model adcsr-default-s"), err);
        long params;
        try (SafetensorsReader r = SafetensorsReader.open(DefaultModel.path())) {
            params = r.names().stream().mapToLong(n -> r.info(n).numel()).sum();
        }
        assertTrue(out.contains("total,," + params + ","), out);
        // the card is in the file itself, next to the architecture the network is built from
        assertEquals("adcsr-default-s", DefaultModel.card(DefaultModel.path()).get("name"));
        assertEquals("adcsr-default-s", ModelFiles.check(DefaultModel.path(), null, null).name());
    }

    /** A model card may name the colour fix its model was measured with; --color-fix still overrides it. */
    @Test
    void theModelCardsColourFixIsTheDefault() throws Exception {
        Path card = Files.writeString(tmp.resolve("card.txt"), "name: tiny\ncolor_fix: wavelet\n");
        Path carded = tmp.resolve("carded.safetensors");
        DefaultModel.main(new String[] {"pack", weights.toString(), card.toString(), carded.toString()});
        Path in = image("in.png", 40, 24, 3, 255);
        Map<String, Image> got = new java.util.HashMap<>();
        for (String[] c : new String[][] {{"card", null}, {"wavelet", "--color-fix=wavelet"},
            {"adain", "--color-fix=adain"}}) {
            Path o = tmp.resolve(c[0] + ".png");
            List<String> args = new java.util.ArrayList<>(List.of("--weights=" + carded, "--engine=djl",
                    "--threads=1", in.toString(), "-o", o.toString()));
            if (c[1] != null) {
                args.add(c[1]);
            }
            assertEquals(0, run(args.toArray(new String[0])), err);
            got.put(c[0], Images.read(o));
        }
        assertEquals(0, maxDifference(got.get("card"), got.get("wavelet")));
        assertTrue(maxDifference(got.get("card"), got.get("adain")) > 0);
        Path badCard = Files.writeString(tmp.resolve("bad.txt"), "name: tiny\ncolor_fix: sepia\n");
        Path bad = tmp.resolve("bad.safetensors");
        DefaultModel.main(new String[] {"pack", weights.toString(), badCard.toString(), bad.toString()});
        assertEquals(3, run("--weights=" + bad, "--engine=djl", "--threads=1", in.toString(), "-o",
                tmp.resolve("bad.png").toString()));
        assertTrue(err.contains("bad.safetensors") && err.contains("color_fix"), err);
    }

    @Test
    void decoderWithoutWeightsIsAUsageError() {
        assertEquals(2, run("--decoder=" + DEFAULT_MODEL.resolve("input.png"), DEFAULT_MODEL.resolve("input.png").toString(), "-o",
                tmp.resolve("x.png").toString()));
        assertTrue(err.contains("--decoder needs --weights"), err);
    }
}
