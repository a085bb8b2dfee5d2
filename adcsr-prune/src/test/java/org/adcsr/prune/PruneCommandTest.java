package org.adcsr.prune;

import org.adcsr.core.sd.SdFixtures;
import org.adcsr.core.sd.LdmNames;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdLayout;
import org.adcsr.core.sd.Slices;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.cli.Cli;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.Halfs;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * End to end on a small SD-shaped checkpoint (real key names, reduced widths): every output tensor against an
 * expectation written here from the spec's rules with plain index loops, independent of {@link Slices}.
 */
class PruneCommandTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        PruneCommand cmd = new PruneCommand();
        cmd.config = SdFixtures.small();
        CommandLine cl = Cli.commandLine(cmd);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = Cli.execute(cl, args);
        return new Run(code, out.toString(), err.toString());
    }

    private Path diffusersModel(DType type) throws IOException {
        Path model = dir.resolve("model-" + type);
        Files.createDirectories(model.resolve("unet"));
        Files.createDirectories(model.resolve("vae"));
        String name = type == DType.F16 ? "diffusion_pytorch_model.fp16.safetensors"
                : "diffusion_pytorch_model.safetensors";
        SdFixtures.writeDiffusers(model.resolve("unet").resolve(name), model.resolve("vae").resolve(name),
                SdFixtures.small(), type);
        return model;
    }

    static Map<String, float[]> read(Path file, Map<String, long[]> shapes) {
        Map<String, float[]> m = new HashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            for (String n : r.names()) {
                m.put(n, r.readFloats(n));
                shapes.put(n, r.info(n).shape());
            }
        }
        return m;
    }

    private static final Map<String, float[]> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    /** SD tensor {@code name} (small config) at a C-order index of its shape. */
    static float sd(String name, long[] shape, long... idx) {
        long flat = 0;
        for (int d = 0; d < shape.length; d++) {
            flat = flat * shape[d] + idx[d];
        }
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        long numel = n;
        return CACHE.computeIfAbsent(name, k -> SdFixtures.values(k, numel))[(int) flat];
    }

    @Test
    void smallCheckpointPrunesAsTheSpecSays() throws IOException {
        Path model = diffusersModel(DType.F32);
        Path out = dir.resolve("out");
        Run r = run("--sd", model.toString(), "-o", out.toString(), "--report", "-");
        assertEquals(0, r.code(), r.err());
        SdConfig sd = SdFixtures.small();
        Map<String, long[]> sdShapes = new HashMap<>();
        SdLayout.unet(sd).forEach(t -> sdShapes.put(t.name(), t.shape()));
        SdLayout.vae(sd).forEach(t -> sdShapes.put(t.name(), t.shape()));

        // UNet: kept = SD minus time and cross-attention; shapes int(0.75·n) on the two channel axes
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, float[]> unet = read(out.resolve(Pruner.UNET_FILE), shapes);
        List<String> kept = new ArrayList<>();
        for (TensorInfo t : SdLayout.unet(sd)) {
            String k = t.name();
            if (!(k.startsWith("time_embedding.") || k.contains(".time_emb_proj.") || k.contains(".attn2.")
                    || k.contains("transformer_blocks.0.norm2."))) {
                kept.add("unet." + k);
            }
        }
        assertEquals(kept.stream().sorted().toList(), unet.keySet().stream().sorted().toList());
        int connector = 16; // the decoder mid width: 32 · 0.5
        for (String name : kept) {
            String k = name.substring(5);
            long[] s = sdShapes.get(k);
            long[] want = s.clone();
            for (int d = 0; d < Math.min(2, s.length); d++) {
                want[d] = (long) (s[d] * 0.75);
            }
            if (k.equals("conv_in.weight")) {
                want[1] = 12; // 16 = 4·4 repeated input channels, · 0.75
            }
            if (k.startsWith("conv_out.")) {
                want[0] = connector;
            }
            assertArrayEquals(want, shapes.get(name), name);
            float[] v = unet.get(name);
            int i = 0;
            long[] w4 = pad4(want);
            for (long a = 0; a < w4[0]; a++) {
                for (long b = 0; b < w4[1]; b++) {
                    for (long c = 0; c < w4[2]; c++) {
                        for (long d = 0; d < w4[3]; d++) {
                            long[] idx = unpad(new long[] {a, b, c, d}, want.length);
                            if (k.equals("conv_in.weight")) {
                                idx[1] = idx[1] % 4; // input channel c = SD channel c mod 4
                            }
                            if (k.startsWith("conv_out.")) {
                                idx[0] = idx[0] % 4; // row o = SD row o mod 4
                            }
                            assertEquals(sd(k, s, idx), v[i++], name);
                        }
                    }
                }
            }
        }

        // decoder: first half of every channel axis but the latent input and the RGB output
        Map<String, float[]> dec = read(out.resolve(Pruner.DECODER_FILE), shapes);
        long decoderKeys = SdLayout.vae(sd).stream().filter(t -> t.name().startsWith("decoder.")).count();
        assertEquals(decoderKeys, dec.size());
        for (String name : dec.keySet()) {
            long[] s = sdShapes.get(name);
            long[] want = s.clone();
            for (int d = 0; d < Math.min(2, s.length); d++) {
                boolean fixed = d == 1 && name.equals("decoder.conv_in.weight")
                        || d == 0 && name.startsWith("decoder.conv_out.");
                want[d] = fixed ? s[d] : s[d] / 2;
            }
            assertArrayEquals(want, shapes.get(name), name);
            float[] v = dec.get(name);
            int i = 0;
            long[] w4 = pad4(want);
            for (long a = 0; a < w4[0]; a++) {
                for (long b = 0; b < w4[1]; b++) {
                    for (long c = 0; c < w4[2]; c++) {
                        for (long d = 0; d < w4[3]; d++) {
                            assertEquals(sd(name, s, unpad(new long[] {a, b, c, d}, want.length)), v[i++], name);
                        }
                    }
                }
            }
        }

        // encoder: copied
        Map<String, float[]> enc = read(out.resolve(Pruner.ENCODER_FILE), shapes);
        assertEquals(SdLayout.vae(sd).size() - decoderKeys, enc.size());
        for (String name : enc.keySet()) {
            assertArrayEquals(sdShapes.get(name), shapes.get(name), name);
            assertArrayEquals(SdFixtures.values(name, Pruner.numel(sdShapes.get(name))), enc.get(name), name);
        }

        // metadata: the config a loader needs
        try (SafetensorsReader u = SafetensorsReader.open(out.resolve(Pruner.UNET_FILE))) {
            assertEquals("adcsr-weights/1", u.metadata().get("format"));
            AdcsrConfig c = AdcsrConfig.fromJson(u.metadata().get("adcsr.config"));
            assertArrayEquals(new int[] {6, 12, 24, 24}, c.unetBlockOutChannels());
            assertArrayEquals(new int[] {4, 8, 16, 16}, c.decoderBlockOutChannels());
        }

        // report: one row per SD tensor, then totals
        List<String> lines = r.out().lines().toList();
        assertEquals(String.join(",", LayerReport.HEADER), lines.get(0));
        assertEquals(1 + SdLayout.unet(sd).size() + SdLayout.vae(sd).size() + 3, lines.size());
        long unetAfter = unet.values().stream().mapToLong(a -> a.length).sum();
        long unetBefore = SdLayout.unet(sd).stream().mapToLong(TensorInfo::numel).sum();
        assertTrue(lines.contains("unet,,,total,,," + unetBefore + "," + unetAfter), r.out());
        assertTrue(lines.contains("unet,conv_in.weight,unet.conv_in.weight,repeated+sliced,8x4x3x3,6x12x3x3,288,648"),
                r.out());
        assertTrue(r.err().contains("wrote"), r.err());
    }

    private static long[] pad4(long[] s) {
        long[] p = {1, 1, 1, 1};
        System.arraycopy(s, 0, p, 4 - s.length, s.length);
        return p;
    }

    private static long[] unpad(long[] idx4, int rank) {
        long[] i = new long[rank];
        System.arraycopy(idx4, 4 - rank, i, 0, rank);
        return i;
    }

    private static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    @Test
    void singleFileOldNamesAndRerunsGiveIdenticalBytes() throws IOException {
        Path model = diffusersModel(DType.F32);
        Path a = dir.resolve("a");
        assertEquals(0, run("--sd", model.toString(), "-o", a.toString()).code());
        Path again = dir.resolve("again");
        assertEquals(0, run("--sd", model.toString(), "-o", again.toString()).code());

        Path single = dir.resolve("v2-1_512-ema-pruned.safetensors");
        SdFixtures.writeSingleFile(single, SdFixtures.small());
        Path b = dir.resolve("b");
        Run rb = run("--sd", single.toString(), "-o", b.toString());
        assertEquals(0, rb.code(), rb.err());

        // the older diffusers VAE spelling of the mid-block attention
        Path oldVae = dir.resolve("old_vae.safetensors");
        List<org.adcsr.core.io.SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (org.adcsr.core.io.SafetensorsWriter.Entry e : SdFixtures.entries(SdLayout.vae(SdFixtures.small()))) {
            String old = LdmNames.oldDiffusersVae(e.name());
            entries.add(new org.adcsr.core.io.SafetensorsWriter.Entry(old == null ? e.name() : old, e.shape(),
                    e.data()));
        }
        org.adcsr.core.io.SafetensorsWriter.write(oldVae, Map.of(), entries, DType.F32);
        Path c = dir.resolve("c");
        Run rc = run("--unet", model.resolve("unet/diffusion_pytorch_model.safetensors").toString(),
                "--vae", oldVae.toString(), "-o", c.toString());
        assertEquals(0, rc.code(), rc.err());

        for (String f : new String[] {Pruner.UNET_FILE, Pruner.DECODER_FILE, Pruner.ENCODER_FILE}) {
            assertArrayEquals(bytes(a.resolve(f)), bytes(again.resolve(f)), f);
            assertArrayEquals(bytes(a.resolve(f)), bytes(b.resolve(f)), f);
            assertArrayEquals(bytes(a.resolve(f)), bytes(c.resolve(f)), f);
        }
    }

    @Test
    void fp16InputGivesTheHalfRoundedValues() throws IOException {
        Path model = diffusersModel(DType.F16);
        Path out = dir.resolve("out16");
        assertEquals(0, run("--sd", model.toString(), "-o", out.toString()).code());
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, float[]> enc = read(out.resolve(Pruner.ENCODER_FILE), shapes);
        float[] want = SdFixtures.values("encoder.conv_in.weight", 8 * 3 * 3 * 3);
        float[] got = enc.get("encoder.conv_in.weight");
        for (int i = 0; i < want.length; i++) {
            assertEquals(Halfs.f16ToFloat(Halfs.floatToF16(want[i])), got[i]);
        }
    }

    @Test
    void unetOrVaeAloneWritesOnlyItsOutputs() throws IOException {
        Path model = diffusersModel(DType.F32);
        Path u = dir.resolve("u");
        assertEquals(0, run("--unet", model.resolve("unet/diffusion_pytorch_model.safetensors").toString(),
                "-o", u.toString()).code());
        assertEquals(List.of(Pruner.UNET_FILE), list(u));
        Path v = dir.resolve("v");
        assertEquals(0, run("--vae", model.resolve("vae/diffusion_pytorch_model.safetensors").toString(),
                "-o", v.toString()).code());
        assertEquals(List.of(Pruner.DECODER_FILE, Pruner.ENCODER_FILE), list(v));
    }

    @Test
    void randomDecoderIsPyTorchsDefaultInitAndSeeded() throws IOException {
        Path model = diffusersModel(DType.F32);
        Path vae = model.resolve("vae/diffusion_pytorch_model.safetensors");
        Path a = dir.resolve("ra");
        Path b = dir.resolve("rb");
        Path c = dir.resolve("rc");
        assertEquals(0, run("--vae", vae.toString(), "-o", a.toString(), "--decoder-init", "random").code());
        assertEquals(0, run("--vae", vae.toString(), "-o", b.toString(), "--decoder-init", "random").code());
        assertEquals(0, run("--vae", vae.toString(), "-o", c.toString(), "--decoder-init", "random",
                "--seed", "7").code());
        assertArrayEquals(bytes(a.resolve(Pruner.DECODER_FILE)), bytes(b.resolve(Pruner.DECODER_FILE)));
        assertNotEquals(List.of(bytes(a.resolve(Pruner.DECODER_FILE))), List.of(bytes(c.resolve(Pruner.DECODER_FILE))));
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, float[]> dec = read(a.resolve(Pruner.DECODER_FILE), shapes);
        for (Map.Entry<String, float[]> e : dec.entrySet()) {
            String n = e.getKey();
            if (n.contains("norm")) {
                float want = n.endsWith(".weight") ? 1f : 0f;
                for (float x : e.getValue()) {
                    assertEquals(want, x, n);
                }
            } else {
                long[] w = shapes.get(n.endsWith(".bias") ? n.replace(".bias", ".weight") : n);
                long fanIn = Pruner.numel(w) / w[0];
                double bound = 1 / Math.sqrt(fanIn);
                double max = 0;
                for (float x : e.getValue()) {
                    assertTrue(Math.abs(x) <= bound, n);
                    max = Math.max(max, Math.abs(x));
                }
                assertTrue(e.getValue().length < 8 || max > bound / 2, n + " uses its range");
            }
        }
    }

    @Test
    void dryRunChecksAndReportsButWritesNothing() throws IOException {
        Path model = diffusersModel(DType.F32);
        Run r = run("--sd", model.toString(), "--dry-run", "--report", "-");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("unet,,,total,"), r.out());
        assertTrue(r.err().contains("would write " + Pruner.UNET_FILE), r.err());
        assertEquals(List.of("model-F32"), list(dir));
        assertEquals(2, run("--sd", model.toString()).code());
    }

    static List<String> list(Path d) throws IOException {
        try (var s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
