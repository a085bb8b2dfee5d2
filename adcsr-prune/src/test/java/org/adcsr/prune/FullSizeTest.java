package org.adcsr.prune;

import org.adcsr.core.sd.SdFixtures;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.sd.SdLayout;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.ShapeOps;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real key names and real shapes: sparse full-size SD2.1-base files (3.5 GB UNet, 335 MB VAE, all holes) created by
 * the test. Plans are checked against the reference lists; writing the 1.8 GB UNet is left to bench/prune.sh.
 */
class FullSizeTest {
    @TempDir
    static Path dir;
    static Path unet;
    static Path vae;

    @BeforeAll
    static void files() throws IOException {
        unet = dir.resolve("unet.safetensors");
        vae = dir.resolve("vae.safetensors");
        SdFixtures.writeSparse(unet, SdLayout.unet(SdConfig.sd21Base()));
        SdFixtures.writeSparse(vae, SdLayout.vae(SdConfig.sd21Base()));
    }

    private static Pruner.Plan plan(double unetKeep, double decoderKeep) {
        SdConfig sd = SdConfig.sd21Base();
        try (SdInputs in = SdInputs.openFiles(unet, vae, sd)) {
            return Pruner.plan(in, sd, new Pruner.Options(unetKeep, decoderKeep, Pruner.DecoderInit.SLICE, 0));
        }
    }

    private static Map<String, String> lines(List<SafetensorsWriter.Entry> entries) {
        Map<String, String> m = new LinkedHashMap<>();
        entries.forEach(e -> m.put(e.name(), new TensorInfo(e.name(), null, e.shape()).shapeString()));
        return m;
    }

    private static Map<String, String> prefixed(Map<String, String> m, String prefix) {
        Map<String, String> p = new LinkedHashMap<>();
        m.forEach((k, v) -> p.put(prefix + k, v));
        return p;
    }

    @Test
    void paperPlanHasTheReferenceKeysShapesAndCounts() throws IOException {
        Pruner.Plan plan = plan(0.75, 0.5);
        assertEquals(AdcsrConfig.paper(), plan.config());
        List<Pruner.Output> out = plan.outputs();
        assertEquals(List.of(Pruner.UNET_FILE, Pruner.DECODER_FILE, Pruner.ENCODER_FILE),
                out.stream().map(Pruner.Output::file).toList());

        assertEquals(new ArrayList<>(prefixed(SdFixtures.reference("adcsr_unet_keys.txt"), "unet.").entrySet()),
                new ArrayList<>(lines(out.get(0).entries()).entrySet()));
        assertEquals(443_695_696L, out.get(0).parameters());

        assertEquals(new ArrayList<>(SdFixtures.reference("adcsr_half_decoder_keys.txt").entrySet()),
                new ArrayList<>(lines(out.get(1).entries()).entrySet()));
        assertEquals(12_387_459L, out.get(1).parameters());

        Map<String, String> encoder = new LinkedHashMap<>(SdFixtures.reference("sd_vae_keys.txt"));
        encoder.keySet().removeIf(k -> k.startsWith("decoder."));
        assertEquals(new ArrayList<>(encoder.entrySet()), new ArrayList<>(lines(out.get(2).entries()).entrySet()));
        assertEquals(34_163_592L + 92, out.get(2).parameters());

        // every SD tensor is in the report once; the removed ones are exactly time and cross-attention
        assertEquals(686 + 248, plan.rows().size());
        List<String> removed = plan.rows().stream().filter(r -> r.action().equals("removed"))
                .map(Pruner.Row::source).toList();
        assertEquals(686 - 526, removed.size());
        for (String r : removed) {
            boolean expected = r.startsWith("time_embedding.") || r.contains(".time_emb_proj.")
                    || r.contains(".attn2.") || r.contains(".transformer_blocks.0.norm2.");
            assertEquals(true, expected, r);
        }
    }

    @Test
    void widenedLayersStreamWithTheirShapes() {
        SdConfig sd = SdConfig.sd21Base();
        try (SdInputs in = SdInputs.openFiles(unet, vae, sd)) {
            Pruner.Plan plan = Pruner.plan(in, sd, new Pruner.Options(0.75, 0.5, Pruner.DecoderInit.SLICE, 0));
            for (SafetensorsWriter.Entry e : plan.outputs().get(0).entries()) {
            if (e.name().startsWith("unet.conv_")) {
                float[] v = e.data().get(); // zeros, from the sparse file
                    assertEquals(Pruner.numel(e.shape()), v.length, e.name());
                }
            }
            assertArrayEquals(new long[] {256, 240, 3, 3}, plan.outputs().get(0).entries().get(525 - 1).shape());
        }
    }

    @Test
    void ablationKeepRatiosGiveTheNetworksShapeOpsDescribes() {
        for (double r : new double[] {0.5, 0.75, 1.0}) {
            Pruner.Plan plan = plan(r, 0.5);
            AdcsrConfig c = plan.config();
            List<TensorInfo> want = ShapeOps.inferenceParameters(c).stream()
                    .filter(t -> t.name().startsWith(AdcsrNetwork.UNET)).toList();
            Map<String, String> expected = new LinkedHashMap<>();
            want.forEach(t -> expected.put(t.name(), t.shapeString()));
            assertEquals(expected, lines(plan.outputs().get(0).entries()), "unet keep " + r);
            assertEquals((int) (320 * r), c.unetBlockOutChannels()[0]);
            assertEquals(256, c.connectorOutChannels());
        }
        // the 0/0 ablation: full UNet and full decoder
        Pruner.Plan none = plan(1.0, 1.0);
        assertEquals(512, none.config().connectorOutChannels());
        assertEquals(49_490_179L, none.outputs().get(1).parameters());
    }

    @Test
    void keepRatiosThatBreakTheNetworkAreRefused() {
        BadInputException e = assertThrows(BadInputException.class, () -> plan(0.3, 0.5));
        assertEquals(true, e.getMessage().contains("--unet-keep 0.3"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> plan(0.75, 0.3));
        assertEquals(true, e.getMessage().contains("decoder widths"), e.getMessage());
    }

    @Test
    void widenGivesTheOfficialSizes() {
        assertEquals(342, Pruner.widen(256, 0.75));
        assertEquals(16, Pruner.widen(12, 0.75));
        assertEquals(512, Pruner.widen(256, 0.5));
        assertEquals(24, Pruner.widen(12, 0.5));
        assertEquals(12, Pruner.widen(12, 1.0));
    }
}
