package org.adcsr.trainvae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.adcsr.cli.Cli;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.sd.LdmNames;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdFixtures;
import org.adcsr.core.sd.SdLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The frozen encoder and the decoder's start read from SD files in every published form (a small SD-shaped VAE
 * with real key names), {@code --decoder-init slice|FILE}, and the official halfDecoder.ckpt's layout.
 */
class SdInputsTest {
    @TempDir
    static Path dir;
    static SdConfig sd = SdFixtures.small();
    /** Half of the small SD VAE decoder, as adcsr-prune's default --decoder-keep 0.5 cuts it. */
    static AdcsrConfig half = new AdcsrConfig("half of small SD", 12, new int[] {8, 16, 32, 32},
            new int[] {2, 2, 4, 4}, 2, new boolean[] {true, true, true, false}, 16, new int[] {4, 8, 16, 16}, 2, 4);
    static Path diffusers;
    static Path halfConfig;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fixtures() throws IOException {
        TrainVaeCommandTest.inputs(dir);
        diffusers = dir.resolve("vae.safetensors");
        SdFixtures.writeDiffusers(null, diffusers, sd, DType.F32);
        halfConfig = Files.writeString(dir.resolve("half.json"), half.toJson());
    }

    static TrainVaeCommandTest.Run run(List<String> args) {
        TrainVaeCommand c = new TrainVaeCommand();
        c.sdVae = new VaeEncoder.Config(sd.vaeWidths(), sd.vaeLayers(), sd.latentChannels(), sd.vaeNormGroups());
        CommandLine cl = Cli.commandLine(c);
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return new TrainVaeCommandTest.Run(Cli.execute(cl, args.toArray(new String[0])), err.toString());
    }

    /** One step at learning rate 0 (the result is the starting decoder) with a frozen encoder from {@code encoder}. */
    static List<String> step(Path encoder, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("--threads", "1", "--encoder", encoder.toString(), "--batch", "1",
                "--crop", "32", "--perceptual", "none", "--disc-width", "4", "--disc-layers", "2", "--lr", "0",
                "--posterior", "mean", "--steps", "1", "-o", out.toString()));
        a.addAll(List.of(more));
        a.add(TrainVaeCommandTest.images.toString());
        return a;
    }

    static byte[] decoderOf(Path run) throws IOException {
        return Files.readAllBytes(run.resolve("decoder.safetensors"));
    }

    @Test
    void everyFormOfTheSdVaeGivesTheSameRun() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("model").resolve("vae"));
        Files.copy(diffusers, model.resolve("diffusion_pytorch_model.safetensors"));
        Path single = tmp.resolve("v2-1-small.safetensors");
        SdFixtures.writeSingleFile(single, sd);
        Path encoderOnly = tmp.resolve("vae_encoder.safetensors"); // adcsr-prune's third output
        SafetensorsWriter.write(encoderOnly, Map.of(), SdFixtures.entries(SdLayout.vae(sd).stream()
                .filter(t -> !t.name().startsWith("decoder.")).toList()), DType.F32);
        Path ldm = tmp.resolve("vae-ft-ema.safetensors"); // an LDM autoencoder alone: LDM names, no prefix
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        for (TensorInfo t : SdLayout.vae(sd)) {
            e.add(new SafetensorsWriter.Entry(LdmNames.vae(t.name(), sd), t.shape(),
                    () -> SdFixtures.values(t.name(), t.numel())));
        }
        e.add(SafetensorsWriter.Entry.of("loss.logvar", new long[] {1}, new float[1])); // LDM's loss, ignored
        SafetensorsWriter.write(ldm, Map.of(), e, DType.F32);
        Path fp16 = tmp.resolve("vae.fp16.safetensors");
        SdFixtures.writeDiffusers(null, fp16, sd, DType.F16);

        TrainVaeCommandTest.Run r = run(step(diffusers, tmp.resolve("a"), "--config", halfConfig.toString()));
        assertEquals(0, r.code(), r.err());
        byte[] expected = decoderOf(tmp.resolve("a"));
        int k = 0;
        for (Path p : new Path[] {tmp.resolve("model"), model, single, encoderOnly, ldm}) {
            Path out = tmp.resolve("run" + k++);
            r = run(step(p, out, "--config", halfConfig.toString()));
            assertEquals(0, r.code(), p + ": " + r.err());
            assertArrayEquals(expected, decoderOf(out), p.toString());
        }
        r = run(step(fp16, tmp.resolve("fp16"), "--config", halfConfig.toString()));
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void sliceCutsTheFirstChannelsOfTheSdDecoderAndAPrunedFileGivesTheSame() throws IOException {
        Path single = tmp.resolve("v2-1-small.safetensors");
        SdFixtures.writeSingleFile(single, sd);
        Path sliced = tmp.resolve("sliced");
        TrainVaeCommandTest.Run r = run(step(single, sliced, "--config", halfConfig.toString(), "--decoder-init",
                "slice"));
        assertEquals(0, r.code(), r.err());
        try (SafetensorsReader got = SafetensorsReader.open(sliced.resolve("decoder.safetensors"))) {
            // conv_in keeps its latent input; an up-block conv keeps the first out and in channels, kernels whole
            assertFirstChannels(got, "decoder.conv_in.weight", new long[] {32, 4, 3, 3}, new long[] {16, 4, 3, 3});
            assertFirstChannels(got, "decoder.up_blocks.3.resnets.0.conv1.weight", new long[] {8, 16, 3, 3},
                    new long[] {4, 8, 3, 3});
            assertFirstChannels(got, "decoder.conv_out.weight", new long[] {3, 8, 3, 3}, new long[] {3, 4, 3, 3});
            assertFirstChannels(got, "decoder.mid_block.attentions.0.to_q.weight", new long[] {32, 32},
                    new long[] {16, 16});

            // the same cut as adcsr-prune writes it (decoder_init.safetensors: decoder.* and the config recorded)
            Path pruned = tmp.resolve("decoder_init.safetensors");
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : got.names()) {
                entries.add(SafetensorsWriter.Entry.of(n, got.info(n).shape(), got.readFloats(n)));
            }
            SafetensorsWriter.write(pruned, Map.of(ModelFiles.FORMAT_KEY, ModelFiles.FORMAT, ModelFiles.CONFIG_KEY,
                    half.toJson()), entries, DType.F32);
            Path fromFile = tmp.resolve("file");
            r = run(step(diffusers, fromFile, "--decoder-init", pruned.toString()));
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(decoderOf(sliced), decoderOf(fromFile), "the file's config is the default");
        }
        Path random = tmp.resolve("random");
        assertEquals(0, run(step(single, random, "--config", halfConfig.toString())).code());
        assertTrue(!java.util.Arrays.equals(decoderOf(random), decoderOf(sliced)), "slice is not random");
    }

    /** {@code name} in {@code got} is the first channels of the fixture's SD tensor. */
    private static void assertFirstChannels(SafetensorsReader got, String name, long[] sdShape, long[] shape) {
        assertArrayEquals(shape, got.info(name).shape(), name);
        long sdNumel = 1;
        for (long d : sdShape) {
            sdNumel *= d;
        }
        float[] src = SdFixtures.values(name, sdNumel);
        float[] v = got.readFloats(name);
        long inner = 1;
        for (int d = 2; d < shape.length; d++) {
            inner *= shape[d];
        }
        int o = 0;
        for (int i = 0; i < shape[0]; i++) {
            for (int j = 0; j < shape[1]; j++) {
                for (int q = 0; q < inner; q++) {
                    assertEquals(src[(int) ((i * sdShape[1] + j) * inner + q)], v[o++], name);
                }
            }
        }
    }

    @Test
    void theOfficialHalfDecoderLayoutStartsTheDecoder() throws IOException {
        Path ckpt = tmp.resolve("halfDecoder_tiny.ckpt");
        try (InputStream in = SdInputsTest.class.getResourceAsStream("/fixtures/parity/halfDecoder_tiny.ckpt")) {
            Files.copy(in, ckpt);
        }
        Path out = tmp.resolve("official");
        List<String> a = TrainVaeCommandTest.tiny(List.of("--steps", "1", "--decoder-init", ckpt.toString(), "-o",
                out.toString(), TrainVaeCommandTest.images.toString()));
        a.set(a.indexOf("--lr") + 1, "0");
        TrainVaeCommandTest.Run refused = run(a);
        assertEquals(3, refused.code(), refused.err());
        assertTrue(refused.err().contains("--allow-unknown-globals accepts it"), refused.err());
        a.add(0, "--allow-unknown-globals");
        TrainVaeCommandTest.Run r = run(a);
        assertEquals(0, r.code(), r.err());
        try (TorchCheckpoint c = TorchCheckpoint.open(ckpt, PicklePolicy.allowingUnknownClasses());
                SafetensorsReader got = SafetensorsReader.open(out.resolve("decoder.safetensors"))) {
            TensorSource t = c.tensors();
            assertEquals(t.names().stream().filter(n -> n.startsWith("state_dict.decoder.")).count(),
                    got.names().size());
            for (String n : got.names()) {
                assertArrayEquals(t.readFloats("state_dict." + n), got.readFloats(n), n);
            }
        }
    }

    @Test
    void badSdInputsAreOneLineAndExit3() throws IOException {
        Path single = tmp.resolve("v2-1-small.safetensors");
        SdFixtures.writeSingleFile(single, sd);
        // wider than the SD decoder: nothing to cut
        AdcsrConfig wide = new AdcsrConfig("wide", 12, new int[] {8, 16, 32, 32}, new int[] {2, 2, 4, 4}, 2,
                new boolean[] {true, true, true, false}, 64, new int[] {16, 32, 64, 64}, 2, 4);
        Path wideJson = Files.writeString(tmp.resolve("wide.json"), wide.toJson());
        expect(3, "cannot be cut from the SD-shaped VAE", step(single, tmp.resolve("w"), "--config",
                wideJson.toString(), "--decoder-init", "slice"));
        // an encoder-only file has no decoder to slice
        Path encoderOnly = tmp.resolve("vae_encoder.safetensors");
        SafetensorsWriter.write(encoderOnly, Map.of(), SdFixtures.entries(SdLayout.vae(sd).stream()
                .filter(t -> !t.name().startsWith("decoder.")).toList()), DType.F32);
        expect(3, "missing tensors", step(encoderOnly, tmp.resolve("e"), "--config", halfConfig.toString(),
                "--decoder-init", "slice"));
        // a UNet given as the VAE
        Path unet = tmp.resolve("unet.safetensors");
        SdFixtures.writeDiffusers(unet, null, sd, DType.F32);
        expect(3, unet + ": not an SD VAE", step(unet, tmp.resolve("u"), "--config", halfConfig.toString()));
        // a truncated VAE file
        Path cut = tmp.resolve("cut.safetensors");
        byte[] bytes = Files.readAllBytes(diffusers);
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        expect(3, cut.toString(), step(cut, tmp.resolve("c"), "--config", halfConfig.toString()));
        // an SD VAE of other widths than the encoder expected (the real SD's, say)
        Path other = tmp.resolve("other.safetensors");
        SdConfig narrow = new SdConfig("n", sd.unetWidths(), sd.unetHeads(), 2, sd.unetAttention(), 8, 4,
                new int[] {4, 8, 16, 16}, 2, 4);
        SdFixtures.writeDiffusers(null, other, narrow, DType.F32);
        expect(3, "shape mismatch", step(other, tmp.resolve("o"), "--config", halfConfig.toString()));
        // a decoder file of other widths than --config
        expect(3, "does not fit", step(diffusers, tmp.resolve("d"), "--config",
                TrainVaeCommandTest.configPath(), "--decoder-init", diffusers.toString()));
        // the decoder's levels differ from the encoder's
        AdcsrConfig three = new AdcsrConfig("three", 12, new int[] {8, 16, 32}, new int[] {2, 2, 4}, 2,
                new boolean[] {true, true, false}, 16, new int[] {8, 16, 16}, 2, 4);
        expect(3, "the encoder has 4 levels, the decoder 3", step(diffusers, tmp.resolve("l"), "--config",
                Files.writeString(tmp.resolve("three.json"), three.toJson()).toString()));
        // slice needs an SD VAE, not a jointly trained encoder
        List<String> trained = TrainVaeCommandTest.tiny(List.of("--steps", "1", "--decoder-init", "slice", "-o",
                tmp.resolve("t").toString(), TrainVaeCommandTest.images.toString()));
        expect(2, "--decoder-init slice", trained);
        for (String n : new String[] {"w", "e", "u", "c", "o", "d", "l", "t"}) {
            assertTrue(!Files.exists(tmp.resolve(n)), n + ": nothing left of a run that could not start");
        }
    }

    static void expect(int code, String message, List<String> args) {
        TrainVaeCommandTest.Run r = run(args);
        assertEquals(code, r.code(), r.err());
        assertTrue(r.err().contains(message), r.err());
        if (code != 2) { // a usage error adds the usage hint
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
    }
}
