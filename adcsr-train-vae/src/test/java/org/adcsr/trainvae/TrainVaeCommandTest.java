package org.adcsr.trainvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.adcsr.cli.Cli;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.ModelFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** adcsr-train-vae end to end on a tiny config: outputs, exact resume, divergence and bad input. */
class TrainVaeCommandTest {
    @TempDir
    static Path shared;
    static Path images;
    static Path config;

    @TempDir
    Path tmp;

    @BeforeAll
    static void inputs() throws IOException {
        inputs(shared);
    }

    /** Three small photos-like images in {@code where}/images and the tiny config (once per test run). */
    static synchronized void inputs(Path where) throws IOException {
        if (images != null && Files.isDirectory(images)) {
            return;
        }
        images = Files.createDirectories(where.resolve("images"));
        for (int k = 0; k < 3; k++) {
            int w = 48 + 8 * k;
            Image img = Image.blank(w, 40, 3, 255);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 40; y++) {
                    for (int x = 0; x < w; x++) {
                        img.setSample(c, y, x, (float) Math.floor(127.5 + 120 * Math.sin(0.1 * x + 0.07 * y + c + k)));
                    }
                }
            }
            Images.write(img, images.resolve("i" + k + ".png"), 95);
        }
        config = Files.writeString(where.resolve("tiny.json"), AdcsrConfig.tiny().toJson());
    }

    /** The tiny run's options plus {@code more}. */
    static List<String> tiny(List<String> more) {
        List<String> a = new ArrayList<>(List.of("--threads", "1", "--train-encoder", "--encoder-widths", "8,8,16,16",
                "--encoder-layers", "1", "--config", configPath(), "--batch", "2", "--crop", "32", "--perceptual",
                "none", "--disc-width", "4", "--disc-layers", "2", "--lr", "1e-3", "--disc-start", "2"));
        a.addAll(more);
        return a;
    }

    static String configPath() {
        try {
            if (config == null || !Files.exists(config)) { // the contract test runs without this @BeforeAll
                config = Files.writeString(Files.createTempFile("tiny", ".json"), AdcsrConfig.tiny().toJson());
                config.toFile().deleteOnExit();
            }
            return config.toString();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    record Run(int code, String err) {}

    static Run run(List<String> args) {
        return run(args, "");
    }

    /** Runs the tool with {@code stdin} as its standard input. */
    static Run run(List<String> args, String stdin) {
        TrainVaeCommand c = new TrainVaeCommand();
        c.stdin = new java.io.ByteArrayInputStream(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        CommandLine cl = Cli.commandLine(c);
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(Cli.execute(cl, args.toArray(new String[0])), err.toString());
    }

    static List<String> firstColumns(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().map(l -> l.split(",")).map(f -> String.join(",",
                java.util.Arrays.copyOf(f, 11))).collect(Collectors.toList()); // without the timing columns
    }

    @Test
    void stoppedAndResumedEqualsUninterruptedByteForByte() throws IOException {
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        List<String> schedule = List.of("--lr-milestones", "3,2", "--lr-gamma", "0.1"); // resumed across step 3
        List<String> a = new ArrayList<>(schedule);
        a.addAll(List.of("--steps", "4", "--checkpoint-every", "2", "-o", straight.toString(), images.toString()));
        assertEquals(0, run(tiny(a)).code());
        List<String> b = new ArrayList<>(schedule);
        b.addAll(List.of("--steps", "2", "--checkpoint-every", "2", "-o", resumed.toString(), images.toString()));
        assertEquals(0, run(tiny(b)).code());
        assertTrue(Files.readString(resumed.resolve("run.settings")).contains("lr_milestones=3,2\nlr_gamma=0.1\n"));
        Run r = run(List.of("--threads", "1", "--resume", resumed.toString(), "--steps", "4"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("resuming " + resumed + " at step 2 of 4"), r.err());
        for (String f : new String[] {"decoder.safetensors", "encoder.safetensors"}) {
            assertArrayEquals(Files.readAllBytes(straight.resolve(f)), Files.readAllBytes(resumed.resolve(f)), f);
        }
        assertEquals(firstColumns(straight.resolve("train.csv")), firstColumns(resumed.resolve("train.csv")));
        assertEquals(5, Files.readAllLines(resumed.resolve("train.csv")).size());
        List<Double> lr = Files.readAllLines(resumed.resolve("train.csv")).stream().skip(1)
                .map(l -> Double.parseDouble(l.split(",")[11])).collect(Collectors.toList());
        assertEquals(List.of(1e-3, 1e-3, 1e-3 * Math.pow(0.1, 1), 1e-3 * Math.pow(0.1, 2)), lr, "the rate after each milestone");
        List<String> csv = Files.readAllLines(straight.resolve("train.csv"));
        assertTrue(csv.get(3).split(",")[6].equals("1") && !csv.get(3).split(",")[8].equals("0"),
                "the adversarial term is on from step 3 (--disc-start 2): " + csv.get(3));
    }

    @Test
    void theDecoderFileHoldsTheDecoderKeysAndItsConfig() throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, run(tiny(List.of("--steps", "1", "-o", out.toString(), images.toString()))).code());
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("decoder.safetensors"))) {
            assertTrue(r.names().contains("decoder.conv_in.weight"));
            assertTrue(r.names().contains("decoder.conv_out.weight"));
            assertTrue(r.names().stream().allMatch(n -> n.startsWith("decoder.")), r.names().toString());
            assertEquals(AdcsrConfig.tiny(), AdcsrConfig.fromJson(r.metadata().get(ModelFiles.CONFIG_KEY)));
        }
        assertTrue(Files.readString(out.resolve("run.settings")).contains("posterior=sample"));
        assertTrue(Files.exists(out.resolve("checkpoints").resolve("step-00000001.safetensors")));

        // a wider latent: the trained encoder's conv_out gives mean and log-variance of 6 channels, the decoder reads 6
        Path wide = tmp.resolve("wide");
        assertEquals(0, run(tiny(List.of("--latent-channels", "6", "--steps", "1", "-o", wide.toString(),
                images.toString()))).code());
        try (SafetensorsReader d = SafetensorsReader.open(wide.resolve("decoder.safetensors"));
                SafetensorsReader e = SafetensorsReader.open(wide.resolve("encoder.safetensors"))) {
            assertEquals(6, d.info("decoder.conv_in.weight").shape()[1]);
            assertEquals(12, e.info("encoder.conv_out.weight").shape()[0]);
        }
        assertTrue(Files.readString(wide.resolve("run.settings")).contains("latent_channels=6"));
    }

    @Test
    void aDivergingRunStopsWithExit6AndKeepsTheLastGoodCheckpoint() throws IOException {
        Path out = tmp.resolve("nan");
        List<String> a = new ArrayList<>(tiny(List.of("--steps", "5", "--checkpoint-every", "1", "-o",
                out.toString(), images.toString())));
        a.set(a.indexOf("--lr") + 1, "1e30");
        Run r = run(a);
        assertEquals(6, r.code(), r.err());
        assertTrue(r.err().matches("(?s)adcsr-train-vae: step \\d: the (loss term|gradient) .*"), r.err());
        assertFalse(Files.exists(out.resolve("decoder.safetensors")), "no result from a diverged run");
        assertTrue(Files.exists(out.resolve("checkpoints")), "the last good checkpoint stays");
    }

    @Test
    void badCommandLinesAndInputs() throws IOException {
        Path out = tmp.resolve("bad");
        assertEquals(2, run(tiny(List.of("-o", out.toString(), images.toString()))).code(), "no --steps");
        assertEquals(2, run(tiny(List.of("--steps", "1", "--lr-gamma", "0.1", "-o", out.toString(),
                images.toString()))).code(), "--lr-gamma without milestones");
        assertEquals(2, run(tiny(List.of("--steps", "1", "--lr-milestones", "1", "--lr-gamma", "0", "-o",
                out.toString(), images.toString()))).code(), "a zero gamma");
        assertEquals(2, run(List.of("--steps", "1", "--train-encoder", "--encoder", "x.safetensors", "-o",
                out.toString(), images.toString())).code(), "both encoders");
        assertEquals(2, run(List.of("--steps", "1", "--encoder", "x.safetensors", "--encoder-widths", "8,8,16,16",
                "-o", out.toString(), images.toString())).code(), "encoder widths without --train-encoder");
        assertEquals(2, run(List.of("--steps", "1", "--encoder", "x.safetensors", "--latent-channels", "8",
                "-o", out.toString(), images.toString())).code(), "latent channels without --train-encoder");
        Run lpips = run(List.of("--threads", "1", "--steps", "1", "--train-encoder", "--encoder-widths",
                "8,8,16,16", "--config", config.toString(), "--crop", "32", "-o", out.toString(),
                images.toString()));
        assertEquals(3, lpips.code(), lpips.err());
        assertTrue(lpips.err().contains("--perceptual lpips-vgg (the default) needs --weights-dir"), lpips.err());
        List<String> bigCrop = new ArrayList<>(tiny(List.of("--steps", "1", "-o", out.toString(), images.toString())));
        bigCrop.set(bigCrop.indexOf("--crop") + 1, "256");
        Run big = run(bigCrop);
        assertEquals(3, big.code(), big.err());
        assertTrue(big.err().contains("smaller than the 256-pixel crop"), big.err());
        assertFalse(Files.exists(out));
        Run notRun = run(List.of("--resume", images.toString()));
        assertEquals(3, notRun.code(), notRun.err());
        assertTrue(notRun.err().contains("not an adcsr-train-vae run"), notRun.err());
    }

    @Test
    void resumeRefusesOtherSettingsAndADamagedCheckpoint() throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, run(tiny(List.of("--steps", "2", "--checkpoint-every", "1", "-o", out.toString(),
                images.toString()))).code());
        Run batch = run(List.of("--resume", out.toString(), "--steps", "3", "--batch", "4", "--seed", "1"));
        assertEquals(2, batch.code(), batch.err());
        assertTrue(batch.err().contains("--batch, --seed cannot change them"), batch.err());
        Run more = run(List.of("--resume", out.toString(), "--steps", "3", images.toString()));
        assertEquals(2, more.code(), more.err());

        // run.settings edited behind the checkpoints' back
        Path settings = out.resolve("run.settings");
        String original = Files.readString(settings);
        Files.writeString(settings, original.replace("seed=0", "seed=7"));
        Run edited = run(List.of("--threads", "1", "--resume", out.toString(), "--steps", "3"));
        assertEquals(3, edited.code(), edited.err());
        assertTrue(edited.err().contains("step-00000002.safetensors: was written by a run with other settings"),
                edited.err());
        Files.writeString(settings, original);

        // a truncated newest checkpoint: named, exit 3, and nothing else changes
        Path newest = out.resolve("checkpoints").resolve("step-00000002.safetensors");
        byte[] b = Files.readAllBytes(newest);
        Files.write(newest, java.util.Arrays.copyOf(b, b.length - 100));
        Run truncated = run(List.of("--threads", "1", "--resume", out.toString(), "--steps", "3"));
        assertEquals(3, truncated.code(), truncated.err());
        assertTrue(truncated.err().startsWith("adcsr-train-vae: " + newest), truncated.err());
        assertEquals(1, truncated.err().strip().lines().count(), truncated.err());
        assertEquals(3, Files.readAllLines(out.resolve("train.csv")).size(), "train.csv untouched");
    }

    @Test
    void imagesFromAListOnStdinAndUnusableImagesSkippedOrRefused() throws IOException {
        Path out = tmp.resolve("listed");
        String list = images.resolve("i2.png") + "\n\n# a comment\n" + images.resolve("i0.png") + "\n";
        Run r = run(tiny(List.of("--steps", "1", "-o", out.toString(), "-")), list);
        assertEquals(0, r.code(), r.err());
        String settings = Files.readString(out.resolve("run.settings"));
        assertTrue(settings.contains("image.0=" + images.resolve("i2.png").toAbsolutePath())
                && settings.contains("image.1=" + images.resolve("i0.png").toAbsolutePath())
                && !settings.contains("image.2="), settings);

        Run missing = run(tiny(List.of("--steps", "1", "-o", tmp.resolve("m").toString(), "-")),
                images.resolve("i0.png") + "\nnot-there.png\n");
        assertEquals(3, missing.code(), missing.err());
        assertTrue(missing.err().contains("stdin line 2: not-there.png: no such file"), missing.err());
        Run empty = run(tiny(List.of("--steps", "1", "-o", tmp.resolve("m").toString(), "-")), "\n");
        assertEquals(3, empty.code(), empty.err());
        Path none = Files.createDirectories(tmp.resolve("empty"));
        Run noImages = run(tiny(List.of("--steps", "1", "-o", tmp.resolve("m").toString(), none.toString())));
        assertEquals(3, noImages.code(), noImages.err());
        assertTrue(noImages.err().contains(none + ": no images"), noImages.err());
        assertFalse(Files.exists(tmp.resolve("m")));

        // a corrupt image among good ones: skipped once with a warning and counted, or refused with --strict
        Path mixed = Files.createDirectories(tmp.resolve("mixed"));
        for (String f : new String[] {"i0.png", "i1.png", "i2.png"}) {
            Files.copy(images.resolve(f), mixed.resolve(f));
        }
        Path corrupt = Files.writeString(mixed.resolve("corrupt.png"), "not a PNG at all");
        Run skipped = run(tiny(List.of("--steps", "3", "-o", tmp.resolve("skip").toString(), mixed.toString())));
        assertEquals(0, skipped.code(), skipped.err());
        assertTrue(skipped.err().contains(corrupt.toString()) && skipped.err().contains("(skipped)"), skipped.err());
        assertEquals(1, skipped.err().lines().filter(l -> l.contains("(skipped)")).count(), skipped.err());
        assertTrue(skipped.err().contains("1 of 4 images were skipped"), skipped.err());
        Run strict = run(tiny(List.of("--steps", "3", "--strict", "-o", tmp.resolve("strict").toString(),
                mixed.toString())));
        assertEquals(3, strict.code(), strict.err());
        assertTrue(strict.err().startsWith("adcsr-train-vae: " + corrupt), strict.err());
        assertFalse(Files.exists(tmp.resolve("strict")));
    }

    @Test
    void validationRowsAreResumeExactAndLeaveTrainingAlone() throws IOException {
        Path plain = tmp.resolve("plain");
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        List<String> val = List.of("--val", images.toString(), "--val-every", "2", "--val-crop", "24");
        assertEquals(0, run(tiny(List.of("--steps", "4", "-o", plain.toString(), images.toString()))).code());
        List<String> a = new ArrayList<>(val);
        a.addAll(List.of("--steps", "4", "--checkpoint-every", "2", "-o", straight.toString(), images.toString()));
        Run r = run(tiny(a));
        assertEquals(0, r.code(), r.err());
        List<String> b = new ArrayList<>(val);
        b.addAll(List.of("--steps", "3", "-o", resumed.toString(), images.toString()));
        assertEquals(0, run(tiny(b)).code());
        List<String> rows = Files.readAllLines(resumed.resolve("val.csv"));
        assertEquals(List.of("step,psnr,lpips,l1", "0", "2", "3"), rows.stream().map(l -> l.split(",")[0]
                .replace("step", "step,psnr,lpips,l1")).toList(), rows.toString());
        r = run(List.of("--threads", "1", "--resume", resumed.toString(), "--steps", "4"));
        assertEquals(0, r.code(), r.err());

        List<String> v = Files.readAllLines(straight.resolve("val.csv"));
        assertEquals(4, v.size(), v.toString()); // steps 0, 2, 4
        assertEquals(v, Files.readAllLines(resumed.resolve("val.csv")), "the shorter run's end row is dropped");
        String[] first = v.get(1).split(",");
        assertTrue(Double.parseDouble(first[1]) > 0 && first[2].equals("nan") && Double.parseDouble(first[3]) > 0,
                v.get(1));
        assertTrue(Double.parseDouble(v.get(3).split(",")[3]) < Double.parseDouble(first[3]),
                "the L1 on the held-out crops falls: " + v);
        for (Path p : new Path[] {straight, resumed}) {
            assertArrayEquals(Files.readAllBytes(plain.resolve("decoder.safetensors")),
                    Files.readAllBytes(p.resolve("decoder.safetensors")), p.toString());
        }

        Run small = run(tiny(List.of("--val", images.toString(), "--val-crop", "48", "--steps", "1", "-o",
                tmp.resolve("v").toString(), images.toString())));
        assertEquals(3, small.code(), small.err());
        assertTrue(small.err().contains("smaller than the 48-pixel validation crop"), small.err());
        assertEquals(2, run(tiny(List.of("--val-every", "3", "--steps", "1", "-o", tmp.resolve("v").toString(),
                images.toString()))).code());
        assertFalse(Files.exists(tmp.resolve("v")));
    }
}
