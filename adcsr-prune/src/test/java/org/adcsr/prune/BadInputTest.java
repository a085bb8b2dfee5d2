package org.adcsr.prune;

import org.adcsr.core.sd.SdFixtures;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.sd.SdLayout;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input: one-line errors, the right exit code, and nothing left in the output directory. */
class BadInputTest {
    @TempDir
    Path dir;
    Path unet;
    Path vae;
    Path out;

    @BeforeEach
    void files() throws IOException {
        unet = dir.resolve("unet.safetensors");
        vae = dir.resolve("vae.safetensors");
        out = dir.resolve("out");
        SdFixtures.writeDiffusers(unet, vae, SdFixtures.small(), DType.F32);
    }

    private PruneCommandTest.Run fails(int code, String expected, String... args) throws IOException {
        PruneCommandTest.Run r = PruneCommandTest.run(args);
        assertEquals(code, r.code(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertTrue(r.err().startsWith("adcsr-prune: "), r.err());
        if (code == 3) {
            assertEquals(1, r.err().lines().count(), r.err());
        }
        assertTrue(!Files.exists(out) || PruneCommandTest.list(out).isEmpty(), "output left behind");
        return r;
    }

    private Path variant(String name, String drop, String reshape, long[] shape) throws IOException {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        for (TensorInfo t : SdLayout.unet(SdFixtures.small())) {
            if (t.name().equals(drop)) {
                continue;
            }
            long[] s = t.name().equals(reshape) ? shape : t.shape();
            e.add(new SafetensorsWriter.Entry(t.name(), s, () -> new float[(int) Pruner.numel(s)]));
        }
        Path p = dir.resolve(name);
        SafetensorsWriter.write(p, Map.of(), e, DType.F32);
        return p;
    }

    @Test
    void missingTensor() throws IOException {
        Path p = variant("missing.safetensors", "up_blocks.1.resnets.2.conv1.weight", null, null);
        fails(3, "missing tensor: up_blocks.1.resnets.2.conv1.weight", "--unet", p.toString(), "--vae",
                vae.toString(), "-o", out.toString());
    }

    @Test
    void wrongShape() throws IOException {
        Path p = variant("shape.safetensors", null, "mid_block.resnets.0.conv1.weight", new long[] {32, 32, 1, 1});
        fails(3, "shape mismatch: mid_block.resnets.0.conv1.weight [32, 32, 1, 1] (small SD: [32, 32, 3, 3])",
                "--unet", p.toString(), "-o", out.toString());
    }

    @Test
    void vaeGivenAsUnetAndTheOtherWayRound() throws IOException {
        fails(3, "holds VAE tensors", "--unet", vae.toString(), "-o", out.toString());
        fails(3, "holds UNet tensors", "--vae", unet.toString(), "-o", out.toString());
    }

    @Test
    void otherSdVersionsAreNamed() throws IOException {
        SdConfig small = SdFixtures.small();
        SdConfig sd15like = new SdConfig("x", small.unetWidths(), small.unetHeads(), 2, small.unetAttention(), 12, 4,
                small.vaeWidths(), 2, 4, 4);
        Path p = dir.resolve("sd15.safetensors");
        SdFixtures.writeDiffusers(p, null, sd15like, DType.F16);
        fails(3, "cross-attention width 12 is not supported", "--unet", p.toString(), "-o", out.toString());
    }

    @Test
    void sd15IsCalledSd15() throws IOException {
        SdConfig b = SdConfig.sd21Base();
        SdConfig sd15 = new SdConfig("SD1.5", b.unetWidths(), new int[] {8, 8, 8, 8}, 2, b.unetAttention(), 768, 4,
                b.vaeWidths(), 2, 32);
        Path p = dir.resolve("sd15.safetensors");
        SdFixtures.writeSparse(p, SdLayout.unet(sd15));
        BadInputException e = assertThrows(BadInputException.class,
                () -> SdInputs.openFiles(p, null, SdConfig.sd21Base()).close());
        assertTrue(e.getMessage().contains("cross-attention width 768 (SD1.x) is not supported: only SD2.1-base"),
                e.getMessage());
    }

    @Test
    void truncatedFiles() throws IOException {
        long size = Files.size(unet);
        try (RandomAccessFile f = new RandomAccessFile(unet.toFile(), "rw")) {
            f.setLength(size - 100);
        }
        fails(3, unet.toString(), "--unet", unet.toString(), "--vae", vae.toString(), "-o", out.toString());
        try (RandomAccessFile f = new RandomAccessFile(vae.toFile(), "rw")) {
            f.setLength(5);
        }
        fails(3, "truncated", "--vae", vae.toString(), "-o", out.toString());
        fails(3, "no such file", "--vae", dir.resolve("nope").toString(), "-o", out.toString());
        fails(3, "not a diffusers model directory", "--sd", dir.toString(), "-o", out.toString());
    }

    @Test
    void fileShrinkingWhileWritingLeavesNothing() throws IOException {
        SdConfig c = SdFixtures.small();
        try (SdInputs in = SdInputs.openFiles(unet, vae, c)) {
            Pruner.Plan plan = Pruner.plan(in, c, new Pruner.Options(0.75, 0.5, Pruner.DecoderInit.SLICE, 0));
            try (RandomAccessFile f = new RandomAccessFile(vae.toFile(), "rw")) {
                f.setLength(Files.size(vae) / 2);
            }
            assertThrows(BadInputException.class, () -> Pruner.write(plan, out, false, n -> { }));
        }
        assertEquals(List.of(), PruneCommandTest.list(out));
    }

    @Test
    void existingOutputNeedsForce() throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve(Pruner.DECODER_FILE), "old");
        PruneCommandTest.Run r = PruneCommandTest.run("--unet", unet.toString(), "--vae", vae.toString(),
                "-o", out.toString());
        assertEquals(3, r.code());
        assertTrue(r.err().contains("exists (use --force"), r.err());
        assertEquals(List.of(Pruner.DECODER_FILE), PruneCommandTest.list(out));
        assertEquals(0, PruneCommandTest.run("--unet", unet.toString(), "--vae", vae.toString(), "-o",
                out.toString(), "--force").code());
        assertEquals(3, PruneCommandTest.list(out).size());
    }

    @Test
    void usageErrors() throws IOException {
        fails(2, "give either --sd", "-o", out.toString());
        fails(2, "give either --sd", "--sd", dir.toString(), "--unet", unet.toString(), "-o", out.toString());
        fails(2, "expected slice or random", "--vae", vae.toString(), "-o", out.toString(), "--decoder-init", "x");
        fails(3, "keep ratios must be in (0, 1]", "--vae", vae.toString(), "-o", out.toString(), "--unet-keep",
                "0");
    }
}
