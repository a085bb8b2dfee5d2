package org.adcsr.prune;

import org.adcsr.core.sd.LdmNames;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.sd.SdLayout;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.adcsr.cli.Cli;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The committed {@code sd_tiny_ldm.ckpt} (torch.save of a Lightning-style dict with LDM names, written by
 * tools/fixtures/make_prune_fixture.py, which enumerates the LDM names on its own) prunes to exactly what the same
 * tensors in diffusers files prune to.
 */
class SingleFileCkptTest {
    @TempDir
    Path dir;

    static SdConfig tiny() {
        return new SdConfig("tiny SD", new int[] {4, 8, 16, 16}, new int[] {1, 2, 4, 4}, 2,
                new boolean[] {true, true, true, false}, 4, 4, new int[] {4, 8, 16, 16}, 2, 2, 2);
    }

    /** The fixture script's value(name, i), exact in fp16. */
    static float value(String name, long i) {
        long h = name.hashCode() & 0xffffffffL;
        return (float) ((((h ^ (i * 2654435761L)) % 1021) - 510) / 512.0);
    }

    private static List<SafetensorsWriter.Entry> entries(List<TensorInfo> ts, UnaryOperator<String> ldm) {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        for (TensorInfo t : ts) {
            String stored = ldm.apply(t.name());
            e.add(new SafetensorsWriter.Entry(t.name(), t.shape(), () -> {
                float[] v = new float[Math.toIntExact(t.numel())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = value(stored, i);
                }
                return v;
            }));
        }
        return e;
    }

    private static int run(SdConfig c, String... args) {
        PruneCommand cmd = new PruneCommand();
        cmd.config = c;
        CommandLine cl = Cli.commandLine(cmd);
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = Cli.execute(cl, args);
        assertEquals(0, code, err.toString());
        return code;
    }

    @Test
    void ckptAndDiffusersFilesPruneTheSame() throws IOException {
        SdConfig c = tiny();
        Path ckpt = dir.resolve("v2-1_512-ema-pruned.ckpt");
        try (InputStream in = getClass().getResourceAsStream("/fixtures/sd_tiny_ldm.ckpt")) {
            Files.copy(in, ckpt);
        }
        Path unet = dir.resolve("unet.safetensors");
        Path vae = dir.resolve("vae.safetensors");
        SafetensorsWriter.write(unet, Map.of(), entries(SdLayout.unet(c),
                n -> LdmNames.UNET_PREFIX + LdmNames.unet(n, c)), DType.F16);
        SafetensorsWriter.write(vae, Map.of(), entries(SdLayout.vae(c),
                n -> LdmNames.VAE_PREFIX + LdmNames.vae(n, c)), DType.F32);

        Path a = dir.resolve("from-ckpt");
        Path b = dir.resolve("from-diffusers");
        run(c, "--sd", ckpt.toString(), "-o", a.toString());
        run(c, "--unet", unet.toString(), "--vae", vae.toString(), "-o", b.toString());
        for (String f : new String[] {Pruner.UNET_FILE, Pruner.DECODER_FILE, Pruner.ENCODER_FILE}) {
            assertArrayEquals(Files.readAllBytes(b.resolve(f)), Files.readAllBytes(a.resolve(f)), f);
        }
    }

    /** adcsr-train-vae's reader of the VAE alone (SdInputs.openVae) finds the same tensors in the .ckpt. */
    @Test
    void theVaeAloneReadsTheSameFromTheCkpt() throws IOException {
        SdConfig c = tiny();
        Path ckpt = dir.resolve("v2-1_512-ema-pruned.ckpt");
        try (InputStream in = getClass().getResourceAsStream("/fixtures/sd_tiny_ldm.ckpt")) {
            Files.copy(in, ckpt);
        }
        try (SdInputs model = SdInputs.openModel(ckpt, c); SdInputs vae = SdInputs.openVae(ckpt, c, true);
                SdInputs encoder = SdInputs.openVae(ckpt, c, false)) {
            assertEquals(model.vae().names(), vae.vae().names());
            for (String n : model.vae().names()) {
                assertArrayEquals(model.vae().readFloats(n), vae.vae().readFloats(n), n);
            }
            assertEquals(model.vae().names().stream().filter(n -> !n.startsWith("decoder.")).toList(),
                    encoder.vae().names());
        }
    }
}
