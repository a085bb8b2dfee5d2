package org.adcsr.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.adcsr.cli.Cli;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** adcsr-distill end to end on tiny networks: the output model, exact resume, divergence, bad input. */
class DistillCommandTest {
    @TempDir
    static Path shared;
    static Path in;

    @TempDir
    Path tmp;

    @BeforeAll
    static void inputs() throws IOException {
        in = shared.resolve("in");
        DistillFixtures.write(in);
    }

    record Run(int code, String err) {}

    static Run run(List<String> args) {
        CommandLine cl = Cli.commandLine(new DistillCommand());
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(Cli.execute(cl, args.toArray(new String[0])), err.toString());
    }

    static List<String> tiny(String... more) {
        List<String> a = DistillFixtures.args(in);
        a.addAll(Arrays.asList(more));
        return a;
    }

    static List<String> losses(Path csv) throws IOException {
        return Files.readAllLines(csv).stream().map(l -> String.join(",", Arrays.copyOf(l.split(","), 10)))
                .collect(Collectors.toList()); // without the timing columns
    }

    @Test
    void stoppedAndResumedEqualsUninterruptedByteForByte() throws IOException {
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        String val = in.resolve("pairs.csv").toString();
        // with the pixel term, so that its trained up blocks resume too
        Run a = run(tiny("--steps", "4", "--checkpoint-every", "2", "--val", val, "--val-every", "2",
                "--lambda-pixel", "2", "-o", straight.toString()));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.err().contains("teacher: gt"), a.err());
        assertEquals(0, run(tiny("--steps", "2", "--val", val, "--val-every", "2", "--lambda-pixel", "2", "-o",
                resumed.toString())).code());
        Run r = run(List.of("--threads", "1", "--resume", resumed.toString(), "--steps", "4"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("resuming " + resumed + " at step 2 of 4"), r.err());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(resumed.resolve("model.safetensors")));
        assertEquals(losses(straight.resolve("train.csv")), losses(resumed.resolve("train.csv")));
        List<String> v = Files.readAllLines(straight.resolve("val.csv"));
        assertEquals(v, Files.readAllLines(resumed.resolve("val.csv")));
        assertEquals(List.of("step", "0", "2", "4"), v.stream().map(l -> l.split(",")[0]).collect(Collectors.toList()));
        assertTrue(Double.parseDouble(v.get(3).split(",")[1]) < Double.parseDouble(v.get(1).split(",")[1]),
                "4 iterations lower the held-out distillation loss: " + v);
        assertEquals("step,distil,adv,pixel,loss,D,logits_real,logits_fake,lr,lr_d,seconds,images_per_s",
                Files.readAllLines(straight.resolve("train.csv")).get(0));
        assertEquals("step,distil,psnr,pairs", v.get(0));
        for (String row : v.subList(1, v.size())) {
            double psnr = Double.parseDouble(row.split(",")[2]);
            assertTrue(psnr > 0 && psnr < 60, "the output's PSNR against HR: " + row);
        }
        assertTrue(Files.readString(resumed.resolve("run.settings")).contains("lambda_pixel=2.0"));
        assertTrue(Files.readString(straight.resolve("run.settings")).contains("checkpoint_every=2"));
        Run changed = run(List.of("--resume", resumed.toString(), "--lr", "1"));
        assertEquals(2, changed.code(), changed.err());
        assertTrue(changed.err().contains("--lr cannot change them"), changed.err());
    }

    /** The tiny run on photos degraded on the fly (16 px LR from 64 px crops of two copies of a 160x140 photo). */
    List<String> online(Path out, String... more) throws IOException {
        Path photos = Files.createDirectories(tmp.resolve("photos"));
        for (String name : new String[] {"a.png", "b.png"}) {
            if (!Files.exists(photos.resolve(name))) {
                try (java.io.InputStream s = getClass().getResourceAsStream("/fixtures/degrade/photo.png")) {
                    Files.copy(s, photos.resolve(name));
                }
            }
        }
        Path cfg = Files.writeString(tmp.resolve("degrade.cfg"), "resize_range: [0.5, 1.5]\nresize_range2: [0.75,"
                + " 1.2]\n");
        List<String> a = tiny(more);
        int at = a.indexOf("--pairs");
        a.remove(at + 1);
        a.remove(at);
        a.addAll(List.of("--images", photos.toString(), "--gt-size", "64", "--degrade-config", cfg.toString(), "-o",
                out.toString()));
        return a;
    }

    @Test
    void photosDegradedOnTheFlyResumeExactlyAndLogTheirDraws() throws IOException {
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        Run a = run(online(straight, "--steps", "2"));
        assertEquals(0, a.code(), a.err());
        Run one = run(online(resumed, "--steps", "1"));
        assertEquals(0, one.code(), one.err());
        Run r = run(List.of("--threads", "1", "--resume", resumed.toString(), "--steps", "2"));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(resumed.resolve("model.safetensors")));
        List<String> draws = Files.readAllLines(straight.resolve("pairs.csv"));
        assertEquals(draws, Files.readAllLines(resumed.resolve("pairs.csv")));
        assertEquals(5, draws.size(), "a header and 2 iterations of 2 samples");
        assertTrue(draws.get(0).startsWith("step,id,hr_path,lr_path,source,"), draws.get(0));
        assertTrue(draws.get(4).startsWith("2,000003,hr/000003.png,lr/000003.png," + tmp.resolve("photos")),
                draws.get(4));
        String settings = Files.readString(straight.resolve("run.settings"));
        assertTrue(settings.contains("pairs=\n") && settings.contains("resize_range2: [0.75, 1.2]"), settings);
        // --images and --pairs, and degradation options without --images, are usage errors
        assertEquals(2, run(online(tmp.resolve("x"), "--steps", "1", "--pairs", in.resolve("pairs.csv").toString()))
                .code());
        assertEquals(2, run(tiny("--steps", "1", "--gt-size", "64", "-o", tmp.resolve("y").toString())).code());
    }

    @Test
    void theModelIsTheWholeInferenceNetworkWithItsConfig() throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, run(tiny("--steps", "1", "-o", out.toString())).code());
        AdcsrConfig c = AdcsrConfig.fromJson(DistillFixtures.MINI);
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("model.safetensors"))) {
            assertEquals(AdcsrModel.parameterList(c).stream().map(t -> t.name()).sorted().collect(Collectors.toList()),
                    r.names().stream().sorted().collect(Collectors.toList()));
            assertEquals(c, AdcsrConfig.fromJson(r.metadata().get(ModelFiles.CONFIG_KEY)));
            assertTrue(r.metadata().get("adcsr.teacher").startsWith("gt"));
            // the up blocks are the frozen decoder's, the mid block was trained
            try (SafetensorsReader d = SafetensorsReader.open(in.resolve("decoder.safetensors"))) {
                assertArrayEquals(d.readFloats("decoder.conv_out.weight"), r.readFloats("decoder.conv_out.weight"));
                assertFalse(Arrays.equals(d.readFloats("decoder.mid_block.resnets.0.conv1.weight"),
                        r.readFloats("decoder.mid_block.resnets.0.conv1.weight")));
            }
            assertFalse(r.metadata().containsKey("adcsr.pixel_loss"));
            assertFalse(r.metadata().containsKey("adcsr.card.color_fix"));
        }
        assertTrue(Files.readAllLines(out.resolve("train.csv")).get(1).split(",")[3].equalsIgnoreCase("nan"),
                "no pixel term is computed without --lambda-pixel");
    }

    @Test
    void thePixelTermTrainsTheUpBlocks() throws IOException {
        Path out = tmp.resolve("run");
        assertEquals(0, run(tiny("--steps", "1", "--lambda-pixel", "1", "-o", out.toString())).code());
        try (SafetensorsReader r = SafetensorsReader.open(out.resolve("model.safetensors"));
                SafetensorsReader d = SafetensorsReader.open(in.resolve("decoder.safetensors"))) {
            assertTrue(r.metadata().get("adcsr.pixel_loss").startsWith("1.0"));
            for (String k : List.of("decoder.conv_out.weight", "decoder.conv_norm_out.weight",
                    "decoder.up_blocks.0.resnets.0.conv1.weight")) {
                assertFalse(Arrays.equals(d.readFloats(k), r.readFloats(k)), k + " was trained");
            }
        }
        double pixel = Double.parseDouble(Files.readAllLines(out.resolve("train.csv")).get(1).split(",")[3]);
        assertTrue(pixel > 0 && pixel < 2, "mean |SR - HR| in [-1, 1]: " + pixel);
    }

    /**
     * Runs tiny(flags) for 2 iterations straight, and for 1 then resumed to 2, checks the two give the same weights and
     * the resumed run's run.settings holds {@code setting}; returns the straight run.
     */
    private Path resumesExactly(String name, String setting, String... flags) throws IOException {
        Path straight = tmp.resolve(name + "-straight");
        Path resumed = tmp.resolve(name + "-resumed");
        for (Path out : List.of(straight, resumed)) {
            List<String> a = new java.util.ArrayList<>(List.of(flags));
            a.addAll(List.of("--steps", out == straight ? "2" : "1", "-o", out.toString()));
            Run r = run(tiny(a.toArray(String[]::new)));
            assertEquals(0, r.code(), r.err());
        }
        Run r = run(List.of("--threads", "1", "--resume", resumed.toString(), "--steps", "2"));
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Files.readAllBytes(straight.resolve("model.safetensors")),
                Files.readAllBytes(resumed.resolve("model.safetensors")));
        assertTrue(Files.readString(resumed.resolve("run.settings")).contains(setting));
        return straight;
    }

    /** --pixel-color-fix wavelet: stored in run.settings and the metadata, resumed exactly, a different term. */
    @Test
    void thePixelTermAfterTheWaveletFixResumesExactly() throws IOException {
        Path straight = resumesExactly("wavelet", "pixel_color_fix=wavelet", "--lambda-pixel", "1",
                "--pixel-color-fix", "wavelet");
        Path raw = tmp.resolve("raw");
        try (SafetensorsReader m = SafetensorsReader.open(straight.resolve("model.safetensors"))) {
            assertTrue(m.metadata().get("adcsr.pixel_loss").contains("after the wavelet colour fix"),
                    m.metadata().toString());
            // adcsr-upscale's colour fix for it, as a model card names it
            assertEquals("wavelet", m.metadata().get("adcsr.card.color_fix"));
        }
        assertEquals(0, run(tiny("--steps", "1", "--lambda-pixel", "1", "-o", raw.toString())).code());
        double wavelet = Double.parseDouble(Files.readAllLines(straight.resolve("train.csv")).get(1).split(",")[3]);
        double plain = Double.parseDouble(Files.readAllLines(raw.resolve("train.csv")).get(1).split(",")[3]);
        assertTrue(wavelet > 0 && wavelet < plain, "the high frequencies' term " + wavelet + " vs the whole " + plain);
        Run bad = run(tiny("--steps", "1", "--pixel-color-fix", "adain", "-o", tmp.resolve("bad").toString()));
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--pixel-color-fix must be none or wavelet, not adain"), bad.err());
    }

    /** --pixel-loss l2: the squared error, stored in run.settings and the metadata, resumed exactly. */
    @Test
    void theSquaredPixelTermResumesExactly() throws IOException {
        Path straight = resumesExactly("l2", "pixel_loss=l2", "--lambda-pixel", "1", "--pixel-loss", "l2");
        Path l1 = tmp.resolve("l1");
        try (SafetensorsReader m = SafetensorsReader.open(straight.resolve("model.safetensors"))) {
            assertTrue(m.metadata().get("adcsr.pixel_loss").startsWith("1.0 x squared error"),
                    m.metadata().toString());
        }
        assertEquals(0, run(tiny("--steps", "1", "--lambda-pixel", "1", "-o", l1.toString())).code());
        double squared = Double.parseDouble(Files.readAllLines(straight.resolve("train.csv")).get(1).split(",")[3]);
        double absolute = Double.parseDouble(Files.readAllLines(l1.resolve("train.csv")).get(1).split(",")[3]);
        // the same first output (same seed): the mean square of its errors is above the square of their mean size
        // (Jensen; equal only if every error had the same size), and is not the mean size itself
        assertTrue(squared > absolute * absolute * 1.01 && Math.abs(squared - absolute) > 1e-3,
                "mean (SR - HR)^2 " + squared + " vs mean |SR - HR| " + absolute);
        Run bad = run(tiny("--steps", "1", "--pixel-loss", "l3", "-o", tmp.resolve("bad").toString()));
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--pixel-loss must be l1 or l2, not l3"), bad.err());
    }

    /** --lambda-ssim: its own train.csv column, stored in run.settings, resumed exactly; only with the pixel term. */
    @Test
    void theSsimTermIsLoggedAndResumesExactly() throws IOException {
        Path straight = resumesExactly("ssim", "lambda_ssim=2.0", "--lambda-pixel", "1", "--lambda-ssim", "2",
                "--pixel-color-fix", "wavelet");
        List<String> rows = Files.readAllLines(straight.resolve("train.csv"));
        assertTrue(rows.get(0).startsWith("step,distil,adv,pixel,ssim,loss,"), rows.get(0));
        String[] first = rows.get(1).split(",");
        double term = Double.parseDouble(first[4]);
        assertTrue(term > 0 && term < 2, "1 - SSIM " + term);
        // the loss adds it with its weight: distil + adv + pixel + 2 (1 - SSIM)
        double sum = Double.parseDouble(first[1]) + Double.parseDouble(first[2]) + Double.parseDouble(first[3])
                + 2 * term;
        assertEquals(sum, Double.parseDouble(first[5]), 1e-5 * sum);
        Run bad = run(tiny("--steps", "1", "--lambda-ssim", "1", "-o", tmp.resolve("bad").toString()));
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--lambda-ssim needs --lambda-pixel"), bad.err());
    }

    /** A trained model as --student: the new run starts where the first ended (its step-0 validation is the end's). */
    @Test
    void aTrainedModelAsStudentIsAWarmStart() throws IOException {
        Path first = tmp.resolve("first");
        Path warm = tmp.resolve("warm");
        String val = in.resolve("pairs.csv").toString();
        assertEquals(0, run(tiny("--steps", "2", "--val", val, "--val-every", "2", "--lambda-pixel", "2", "-o",
                first.toString())).code());
        List<String> a = tiny("--steps", "1", "--val", val, "--val-every", "1", "--lambda-pixel", "2", "-o",
                warm.toString());
        a.set(a.indexOf("--student") + 1, first.resolve("model.safetensors").toString());
        Run r = run(a);
        assertEquals(0, r.code(), r.err());
        List<String> end = Files.readAllLines(first.resolve("val.csv"));
        List<String> start = Files.readAllLines(warm.resolve("val.csv"));
        assertEquals("2", end.get(2).split(",")[0]);
        assertEquals("0", start.get(1).split(",")[0]);
        // distil (the UNet, connector and mid block) and the output's PSNR (the trained up blocks too)
        assertEquals(end.get(2).substring(2), start.get(1).substring(2), "step 0 of the warm start = step 2 of " + end);
        assertFalse(r.err().contains("up blocks are not used"), r.err());
        // without the pixel term the trained up blocks cannot be used: said on stderr
        List<String> noPixel = new ArrayList<>(a);
        noPixel.subList(noPixel.indexOf("--lambda-pixel"), noPixel.indexOf("--lambda-pixel") + 2).clear();
        noPixel.set(noPixel.indexOf("-o") + 1, tmp.resolve("no-pixel").toString());
        Run n = run(noPixel);
        assertEquals(0, n.code(), n.err());
        assertTrue(n.err().contains("without --lambda-pixel its up blocks are not used"), n.err());
        // the same UNet alone (as adcsr-prune writes one): the decoder's trainables start from --decoder instead
        Path unetOnly = tmp.resolve("unet_init.safetensors");
        List<SafetensorsWriter.Entry> unet = new ArrayList<>();
        try (SafetensorsReader m = SafetensorsReader.open(first.resolve("model.safetensors"))) {
            for (String k : m.names()) {
                if (k.startsWith("unet.")) {
                    float[] v = m.readFloats(k);
                    unet.add(new SafetensorsWriter.Entry(k, m.info(k).shape(), () -> v));
                }
            }
        }
        SafetensorsWriter.write(unetOnly, Map.of(), unet, DType.F32);
        a.set(a.indexOf("--student") + 1, unetOnly.toString());
        a.set(a.indexOf("-o") + 1, tmp.resolve("pruned").toString());
        r = run(a);
        assertEquals(0, r.code(), r.err());
        String pruned = Files.readAllLines(tmp.resolve("pruned").resolve("val.csv")).get(1);
        assertNotEquals(start.get(1), pruned, "the mid block and up blocks come from --decoder");
    }

    /** D from a diffusers model folder: its unet/ weights, and its config.json as the default --disc-config. */
    @Test
    void theDiscriminatorComesFromADiffusersFolder() throws IOException {
        Path sd = tmp.resolve("sd");
        Files.createDirectories(sd.resolve("unet"));
        Files.writeString(sd.resolve("unet/config.json"), DistillFixtures.DISC);
        DistillFixtures.weights(sd.resolve("unet/diffusion_pytorch_model.safetensors"),
                org.adcsr.core.model.SdUnet.parameters(org.adcsr.core.sd.SdConfigs.fromJson(DistillFixtures.DISC), 4),
                java.util.Map.of(), 4);
        List<String> a = tiny("--steps", "1", "-o", tmp.resolve("run").toString());
        int i = a.indexOf("--disc-init");
        a.subList(i, i + 4).clear(); // --disc-init random --disc-config FILE
        a.addAll(List.of("--disc-unet", sd.toString()));
        Run r = run(a);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("discriminator: " + sd), r.err());
        Files.delete(sd.resolve("unet/diffusion_pytorch_model.safetensors"));
        Run missing = run(a.stream().map(x -> x.equals(tmp.resolve("run").toString())
                ? tmp.resolve("run2").toString() : x).collect(Collectors.toList()));
        assertEquals(3, missing.code(), missing.err());
        assertTrue(missing.err().contains("diffusion_pytorch_model"), missing.err());
    }

    /** The OSEDiff teacher from an osediff.pkl-shaped pickle (core's fixture; its UNet is the tiny one below). */
    @Test
    void theOsediffTeacherRunsFromItsPickle() throws IOException {
        Path pkl = Path.of("../adcsr-core/src/test/resources/fixtures/stage2/osediff_mini.pkl");
        Path cfg = Files.writeString(tmp.resolve("teacher.json"), "{\"block_out_channels\":[8,16,16],"
                + "\"attention_head_dim\":[2,2,4],\"layers_per_block\":2,\"down_block_types\":"
                + "[\"CrossAttnDownBlock2D\",\"CrossAttnDownBlock2D\",\"DownBlock2D\"],\"cross_attention_dim\":12,"
                + "\"norm_num_groups\":4}");
        Path out = tmp.resolve("osediff");
        List<String> a = tiny("--steps", "2", "--val", in.resolve("pairs.csv").toString(), "--adv-real", "teacher",
                "-o", out.toString());
        a.set(a.indexOf("gt"), pkl.toString());
        a.set(a.indexOf("--disc-config") + 1, cfg.toString());
        Run r = run(a);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("teacher: OSEDiff"), r.err());
        try (SafetensorsReader m = SafetensorsReader.open(out.resolve("model.safetensors"))) {
            assertTrue(m.metadata().get("adcsr.teacher").startsWith("OSEDiff"));
        }
        assertTrue(Files.readString(out.resolve("run.settings")).contains("teacher=osediff"));
    }

    /**
     * The full fine-tune ablation trains all of D (its checkpoint holds every D tensor, no LoRA), and per-pair prompt
     * embeddings change what D sees: the losses differ from the zero-embedding run's.
     */
    @Test
    void discFullAndPromptEmbeddingsTakeEffect() throws IOException {
        Path lora = tmp.resolve("lora");
        Path full = tmp.resolve("full");
        Path prompts = tmp.resolve("prompts");
        assertEquals(0, run(tiny("--steps", "1", "-o", lora.toString())).code());
        Run f = run(tiny("--steps", "1", "--disc", "full", "-o", full.toString()));
        assertEquals(0, f.code(), f.err());
        try (SafetensorsReader c = SafetensorsReader.open(full.resolve("checkpoints/step-00000001.safetensors"))) {
            assertTrue(c.names().contains("disc.time_embedding.linear_1.weight"), "all of D is trained");
            assertTrue(c.names().stream().noneMatch(n -> n.contains("lora")), "no LoRA");
        }
        Path emb = tmp.resolve("emb.safetensors");
        DistillFixtures.weights(emb, List.of(new org.adcsr.core.io.TensorInfo("e", org.adcsr.core.io.DType.F32,
                new long[] {3, 5, 8})), java.util.Map.of(), 5);
        Run p = run(tiny("--steps", "1", "--prompt-embeddings", emb.toString(), "-o", prompts.toString()));
        assertEquals(0, p.code(), p.err());
        assertTrue(p.err().contains("prompts " + emb), p.err());
        List<String> a = losses(lora.resolve("train.csv"));
        List<String> b = losses(prompts.resolve("train.csv"));
        assertEquals(a.get(1).split(",")[1], b.get(1).split(",")[1], "the distillation term does not see prompts");
        assertFalse(a.get(1).split(",")[2].equals(b.get(1).split(",")[2]), "the adversarial term does: " + a + b);
    }

    @Test
    void aDivergingRunStopsWithExit6OrSkipsWithOnNanSkip() throws IOException {
        Path out = tmp.resolve("nan");
        List<String> a = tiny("--steps", "3", "--checkpoint-every", "1", "-o", out.toString());
        a.set(a.indexOf("--lr") + 1, "1e38");
        Run r = run(a);
        assertEquals(6, r.code(), r.err());
        assertTrue(r.err().matches("(?s).*adcsr-distill: step \\d: the (loss term|gradient) .*"), r.err());
        assertFalse(Files.exists(out.resolve("model.safetensors")), "no result from a diverged run");
        Path skip = tmp.resolve("skip");
        List<String> b = new ArrayList<>(a);
        b.set(b.indexOf("-o") + 1, skip.toString());
        b.addAll(List.of("--on-nan", "skip"));
        Run s = run(b);
        assertEquals(0, s.code(), s.err());
        assertTrue(s.err().contains("is skipped (--on-nan skip)"), s.err());
    }

    @Test
    void badCommandLinesAndInputs() throws IOException {
        Path out = tmp.resolve("bad");
        assertEquals(2, run(tiny("-o", out.toString())).code(), "no --steps");
        assertEquals(2, run(tiny("--steps", "1", "--lambda-pixel", "-1", "-o", out.toString())).code());
        List<String> both = tiny("--steps", "1", "--teacher-features", in.toString(), "-o", out.toString());
        assertEquals(2, run(both).code(), "two teachers");
        Run pkl = run(tiny("--steps", "1", "-o", out.toString()).stream()
                .map(x -> x.equals("gt") ? tmp.resolve("osediff.pkl").toString() : x).collect(Collectors.toList()));
        assertEquals(3, pkl.code(), pkl.err());
        assertTrue(pkl.err().contains("osediff.pkl: no such file"), pkl.err());
        // a decoder of another config than the student
        List<String> wide = tiny("--steps", "1", "-o", out.toString());
        Path tinyJson = Files.writeString(tmp.resolve("tiny.json"), AdcsrConfig.tiny().toJson());
        wide.set(wide.indexOf("--config") + 1, tinyJson.toString());
        Run w = run(wide);
        assertEquals(3, w.code(), w.err());
        assertTrue(w.err().contains("decoder.safetensors") && w.err().contains("has shape"), w.err());
        assertFalse(Files.exists(out), "nothing left of a run that could not start");
        // prompt embeddings of the wrong width
        Path emb = tmp.resolve("emb.safetensors");
        DistillFixtures.weights(emb, List.of(new org.adcsr.core.io.TensorInfo("e", org.adcsr.core.io.DType.F32,
                new long[] {1, 77, 5})), java.util.Map.of(), 3);
        Run e = run(tiny("--steps", "1", "--prompt-embeddings", emb.toString(), "-o", out.toString()));
        assertEquals(3, e.code(), e.err());
        assertTrue(e.err().contains("needs [1 or 3"), e.err());
        Run notRun = run(List.of("--resume", in.toString()));
        assertEquals(3, notRun.code(), notRun.err());
        assertTrue(notRun.err().contains("not an adcsr-distill run"), notRun.err());
    }
}
