package org.adcsr.core.sd;

import static org.adcsr.core.FixtureMath.relative;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.Halfs;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.SdUnet;
import org.adcsr.core.model.ShapeOps;
import org.adcsr.core.model.VaeEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stage-2 weights as PyTorch writes them ({@code tools/fixtures/make_stage2_weights_fixture.py}): the merged
 * osediff.pkl layout, a BF16 diffusers {@code .bin} and safetensors, a PEFT-adapted discriminator state dict; F16
 * diffusers folders and LDM single files written here. The UNet, VAE encoder and discriminator read from them give the
 * outputs of the independent PyTorch references (sd_unet_tiny and encoder_tiny fixtures).
 */
class Stage2WeightsTest {
    static final Path DIR = Paths.get("src/test/resources/fixtures/stage2");
    static final Path OSEDIFF = DIR.resolve("osediff_tiny.pkl");
    static final Path UNET_REF = Paths.get("src/test/resources/fixtures/unet/sd_unet_tiny.safetensors");
    static final Path VAE_REF = Paths.get("src/test/resources/fixtures/vae/encoder_tiny.safetensors");
    /** The tiny config of make_sd_unet_fixture.py and make_vae_encoder_fixture.py. */
    static final SdConfig TINY = new SdConfig("tiny", new int[] {8, 16, 16}, new int[] {2, 2, 4}, 2,
            new boolean[] {true, true, false}, 12, 4, new int[] {8, 16, 16}, 2, 4, 4);

    @TempDir
    Path tmp;

    private static NDArray input(SafetensorsReader r, NDManager m, String key) {
        return m.create(r.readFloats(key), new Shape(r.info(key).shape()));
    }


    private static float[] floats(NDArray a) {
        return a.toFloatArray();
    }

    /** D (conv_in on features) or the UNet (on the sample) with weights {@code p}, float32. */
    private static float[] runUnet(Map<String, NDArray> p, boolean disc, NDManager m) {
        try (SafetensorsReader r = SafetensorsReader.open(UNET_REF)) {
            float[] ts = r.readFloats("timesteps");
            NDArray t = m.create(SdUnet.timestepFeatures(new double[] {ts[0], ts[1]}, 8), new Shape(2, 8))
                    .toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            NDArray ctx = input(r, m, "context");
            return floats(disc
                    ? Discriminator.forward(Discriminator.ops(new DjlOps(p), 2, 8), TINY, input(r, m, "features"), t, ctx)
                    : SdUnet.forward(new DjlOps(p), TINY, input(r, m, "sample"), t, ctx));
        }
    }

    private static float[] reference(Path file, String key) {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            return r.readFloats(key);
        }
    }

    @Test
    void osediffPickleGivesTheReferenceUnetAndEncoder() {
        try (SdInputs in = SdInputs.openOsediff(OSEDIFF, TINY); NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> unet = Stage2Weights.unet(in, TINY, m);
            assertEquals(SdUnet.parameters(TINY, 4).size(), unet.size());
            // the reference is float64; float32 here
            assertTrue(relative(reference(UNET_REF, "eps"), runUnet(unet, false, m)) < 1e-4, "UNet");

            Map<String, NDArray> vae = Stage2Weights.vaeEncoder(in, TINY, m);
            assertArrayEquals(new long[] {4, 4, 1, 1}, vae.get("post_quant_conv.weight").getShape().getShape());
            assertFalse(vae.keySet().stream().anyMatch(k -> k.startsWith("decoder.")), "decoder not loaded");
            try (SafetensorsReader r = SafetensorsReader.open(VAE_REF)) {
                float[] got = floats(VaeEncoder.forward(new DjlOps(vae), Stage2Weights.encoderConfig(TINY),
                        input(r, m, "x")));
                assertTrue(relative(r.readFloats("moments"), got) < 1e-5, "encoder");
            }
        }
    }

    @Test
    void peftDiscriminatorStateDictGivesTheReferenceOutput() throws IOException {
        Path peft = DIR.resolve("disc_tiny_peft.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> d = Stage2Weights.discriminator(peft, TINY, 12, 2, 8, m);
            List<String> want = Discriminator.parameters(TINY, 12, 2, 8).stream().map(TensorInfo::name).toList();
            assertEquals(want, new ArrayList<>(d.keySet()), "D's names, base layers plain");
            float[] out = runUnet(d, true, m);
            assertTrue(relative(reference(UNET_REF, "disc_out"), out) < 1e-4, "D");

            // the same state dict in D's plain names, under PeftModel's prefix
            Path plain = tmp.resolve("disc_plain.safetensors");
            rewrite(peft, plain, n -> "base_model.model." + n.replace(".base_layer.", "."), n -> true, DType.F32);
            Map<String, NDArray> d2 = Stage2Weights.discriminator(plain, TINY, 12, 2, 8, m);
            assertArrayEquals(out, runUnet(d2, true, m));
        }
    }

    @Test
    void bf16BinAndSafetensorsAreConvertedInJava() {
        Path bin = DIR.resolve("unet_tiny_bf16.bin");
        Path vae = DIR.resolve("vae_tiny_bf16.safetensors");
        try (SdInputs in = SdInputs.openFiles(bin, vae, TINY); SdInputs ref = SdInputs.openOsediff(OSEDIFF, TINY)) {
            assertEquals(DType.BF16, in.unet().info("conv_in.weight").dtype());
            assertEquals(DType.BF16, in.vae().info("encoder.conv_in.weight").dtype());
            assertRounded(in.unet(), ref.unet(), Stage2WeightsTest::bf16);
            assertRounded(in.vae(), ref.vae(), Stage2WeightsTest::bf16);
        }
    }

    @Test
    void fp16DiffusersFolderAndLdmSingleFileGiveTheSameWeights() throws IOException {
        Path model = tmp.resolve("sd");
        Files.createDirectories(model.resolve("unet"));
        Files.createDirectories(model.resolve("vae"));
        try (SdInputs ref = SdInputs.openOsediff(OSEDIFF, TINY)) {
            write(ref.unet(), model.resolve("unet/diffusion_pytorch_model.fp16.safetensors"), UnaryOperator.identity(),
                    DType.F16);
            write(ref.vae(), model.resolve("vae/diffusion_pytorch_model.fp16.safetensors"), UnaryOperator.identity(),
                    DType.F16);
            try (SdInputs in = SdInputs.openModel(model, TINY)) {
                assertRounded(in.unet(), ref.unet(), v -> Halfs.f16ToFloat(Halfs.floatToF16(v)));
                assertRounded(in.vae(), ref.vae(), v -> Halfs.f16ToFloat(Halfs.floatToF16(v)));
            }

            Path single = tmp.resolve("sd21.safetensors");
            List<SafetensorsWriter.Entry> e = new ArrayList<>();
            for (String n : ref.unet().names()) {
                e.add(entry(ref.unet(), n, LdmNames.UNET_PREFIX + LdmNames.unet(n, TINY)));
            }
            for (String n : ref.vae().names()) {
                e.add(entry(ref.vae(), n, LdmNames.VAE_PREFIX + LdmNames.vae(n, TINY)));
            }
            SafetensorsWriter.write(single, Map.of(), e, DType.F32);
            try (SdInputs in = SdInputs.openModel(single, TINY); NDManager m = NDManager.newBaseManager()) {
                assertRounded(in.unet(), ref.unet(), v -> v);
                Map<String, NDArray> unet = Stage2Weights.unet(in, TINY, m);
                Map<String, NDArray> vaeParams = Stage2Weights.vaeEncoder(in, TINY, m);
                assertEquals(Stage2Weights.vaeEncoderParameters(TINY).size(), vaeParams.size());
                assertTrue(relative(reference(UNET_REF, "eps"), runUnet(unet, false, m)) < 1e-4, "UNet");
            }
        }
    }

    private static SafetensorsWriter.Entry entry(TensorSource s, String name, String as) {
        return new SafetensorsWriter.Entry(as, s.info(name).shape(), () -> s.readFloats(name));
    }

    private static float bf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        int rounded = bits + 0x7fff + ((bits >>> 16) & 1); // round to nearest even (no NaN here)
        return Float.intBitsToFloat(rounded & 0xffff0000);
    }

    /** Every tensor of {@code got} equals {@code round} of the same tensor of {@code want}. */
    private static void assertRounded(TensorSource got, TensorSource want, UnaryOperator<Float> round) {
        assertEquals(want.names(), got.names());
        for (String n : want.names()) {
            assertArrayEquals(want.info(n).shape(), got.info(n).shape(), n);
            float[] w = want.readFloats(n);
            float[] g = got.readFloats(n);
            for (int i = 0; i < w.length; i++) {
                assertEquals(round.apply(w[i]), g[i], 0f, n + "[" + i + "]");
            }
        }
    }

    private static void write(TensorSource s, Path out, UnaryOperator<String> rename, DType type) throws IOException {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        for (String n : s.names()) {
            e.add(entry(s, n, rename.apply(n)));
        }
        SafetensorsWriter.write(out, Map.of(), e, type);
    }

    /** Copies the tensors of {@code in} that {@code keep} accepts, renamed. */
    private static void rewrite(Path in, Path out, UnaryOperator<String> rename, Predicate<String> keep, DType type)
            throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(in)) {
            List<SafetensorsWriter.Entry> e = new ArrayList<>();
            for (String n : r.names()) {
                if (keep.test(n)) {
                    e.add(entry(r, n, rename.apply(n)));
                }
            }
            SafetensorsWriter.write(out, Map.of(), e, type);
        }
    }

    // ---- bad input: one line naming the file and the key

    @Test
    void discriminatorWithAMissingOrUnexpectedKeyOrAnotherRankIsRefusedByName() throws IOException {
        Path peft = DIR.resolve("disc_tiny_peft.safetensors");
        Path missing = tmp.resolve("missing.safetensors");
        String gone = "mid_block.attentions.0.proj_in.lora_B.default_others.weight";
        rewrite(peft, missing, n -> n, n -> !n.equals(gone), DType.F32);
        try (NDManager m = NDManager.newBaseManager()) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Stage2Weights.discriminator(missing, TINY, 12, 2, 8, m));
            assertTrue(e.getMessage().startsWith(missing + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("1 missing key: " + gone), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));

            Path extra = tmp.resolve("extra.safetensors");
            rewrite(peft, extra, n -> n.replace("conv_out.lora_B.default_decoder", "conv_out.lora_B.default_extra"),
                    n -> true, DType.F32);
            e = assertThrows(BadInputException.class, () -> Stage2Weights.discriminator(extra, TINY, 12, 2, 8, m));
            assertEquals(extra + ": does not fit the model: 1 missing key: conv_out.lora_B.default_decoder.weight; "
                    + "1 unexpected key: conv_out.lora_B.default_extra.weight", e.getMessage());

            e = assertThrows(BadInputException.class, () -> Stage2Weights.discriminator(peft, TINY, 12, 4, 8, m));
            assertTrue(e.getMessage().contains("shape mismatches: conv_in.lora_A.default_encoder.weight [2, 12, 3, 3]"
                    + " (model: [4, 12, 3, 3])"), e.getMessage());

            e = assertThrows(BadInputException.class, () -> Stage2Weights.discriminator(OSEDIFF, TINY, 12, 2, 8, m));
            assertTrue(e.getMessage().startsWith(OSEDIFF + ": not a discriminator state dict: no LoRA"), e.getMessage());
        }
    }

    @Test
    void osediffOfAnotherArchitectureOrLayoutIsRefusedByName() throws IOException {
        SdConfig otherText = new SdConfig("SD-x", new int[] {8, 16, 16}, new int[] {2, 2, 4}, 2,
                new boolean[] {true, true, false}, 16, 4, new int[] {8, 16, 16}, 2, 4, 4);
        BadInputException e = assertThrows(BadInputException.class, () -> SdInputs.openOsediff(OSEDIFF, otherText));
        assertTrue(e.getMessage().startsWith(OSEDIFF + ": cross-attention width 12 is not supported"), e.getMessage());

        Path lacking = tmp.resolve("osediff_lacking.safetensors");
        String gone = "vae.encoder.down_blocks.1.resnets.0.conv_shortcut.weight";
        try (SdInputs ref = SdInputs.openOsediff(OSEDIFF, TINY)) {
            List<SafetensorsWriter.Entry> entries = new ArrayList<>();
            for (String n : ref.unet().names()) {
                entries.add(entry(ref.unet(), n, "unet." + n));
            }
            for (String n : ref.vae().names()) {
                if (!("vae." + n).equals(gone)) {
                    entries.add(entry(ref.vae(), n, "vae." + n));
                }
            }
            SafetensorsWriter.write(lacking, Map.of(), entries, DType.F32);
        }
        e = assertThrows(BadInputException.class, () -> SdInputs.openOsediff(lacking, TINY));
        assertEquals(lacking + ": not an tiny VAE: 1 missing tensor: " + gone, e.getMessage());

        Path own = tmp.resolve("osediff_own.safetensors");
        SafetensorsWriter.write(own, Map.of(), List.of(SafetensorsWriter.Entry.of(
                "state_dict_unet.conv_in.lora_A.default_encoder.weight", new long[] {2, 2}, new float[4])), DType.F32);
        e = assertThrows(BadInputException.class, () -> SdInputs.openOsediff(own, TINY));
        assertTrue(e.getMessage().contains("OSEDiff's own LoRA file"), e.getMessage());

        e = assertThrows(BadInputException.class, () -> SdInputs.openOsediff(UNET_REF, TINY));
        assertTrue(e.getMessage().contains("not a merged osediff.pkl") && e.getMessage().contains("top-level keys"),
                e.getMessage());
    }

    @Test
    void vaeEncoderParametersAreTheSdVaesEncoderPart() {
        SdConfig sd = SdConfig.sd21Base();
        Map<String, String> vae = new HashMap<>();
        SdLayout.vae(sd).forEach(t -> vae.put(t.name(), t.shapeString()));
        List<TensorInfo> enc = Stage2Weights.vaeEncoderParameters(sd);
        for (TensorInfo t : enc) {
            assertEquals(vae.get(t.name()), t.shapeString(), t.name());
        }
        assertEquals(vae.keySet().stream().filter(n -> !n.startsWith("decoder.")).count(), enc.size());
        assertEquals(34_163_664L + 4 * 4 + 4, ShapeOps.count(enc));
    }
}
