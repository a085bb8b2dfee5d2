package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.ShapeOps.ModuleCost;
import org.junit.jupiter.api.Test;

/** The paper config's parameters, keys and costs, derived from the forward itself, against the reference lists. */
class ArchitectureTest {

    /** Lines {@code name [d0, d1]} of a reference key list (copied from shared/reference), with a prefix added. */
    static List<String> referenceKeys(String file, String prefix) throws IOException {
        try (InputStream in = ArchitectureTest.class.getResourceAsStream("/fixtures/reference/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank())
                    .map(l -> prefix + l.trim())
                    .collect(Collectors.toList());
        }
    }

    private static List<String> lines(List<TensorInfo> params) {
        return params.stream().map(t -> t.name() + " " + t.shapeString()).collect(Collectors.toList());
    }

    @Test
    void paperConfigHasTheReferenceKeysAndShapesInOrder() throws IOException {
        List<TensorInfo> params = ShapeOps.inferenceParameters(AdcsrConfig.paper());
        List<String> expected = new ArrayList<>(referenceKeys("adcsr_unet_keys.txt", "unet."));
        referenceKeys("adcsr_half_decoder_keys.txt", "").stream()
                .filter(l -> !l.startsWith("decoder.conv_in."))
                .forEach(expected::add);
        assertEquals(expected, lines(params));
    }

    @Test
    void paperConfigParameterCountsAreExact() {
        List<TensorInfo> params = ShapeOps.inferenceParameters(AdcsrConfig.paper());
        assertEquals(456_073_683L, ShapeOps.count(params));
        assertEquals(443_695_696L, ShapeOps.count(params.stream().filter(t -> t.name().startsWith("unet.")).toList()));
        assertEquals(2_626_048L, ShapeOps.count(
                params.stream().filter(t -> t.name().startsWith("decoder.mid_block.")).toList()));
        assertEquals(9_751_939L, ShapeOps.count(params.stream().filter(t -> t.name().startsWith("decoder.")
                && !t.name().startsWith("decoder.mid_block.")).toList()));

        ShapeOps s = new ShapeOps();
        AdcsrNetwork.decoderConvIn(s, AdcsrConfig.paper(), new long[] {1, 4, 64, 64});
        assertEquals(9_472L, ShapeOps.count(s.parameters()));
    }

    @Test
    void paperConfigCostsAt128() {
        ShapeOps s = new ShapeOps();
        long[] out = AdcsrNetwork.forward(s, AdcsrConfig.paper(), new long[] {1, 3, 128, 128});
        assertEquals(List.of(1L, 3L, 512L, 512L), List.of(out[0], out[1], out[2], out[3]));
        long unet = 0;
        long decoder = 0;
        long attention = 0;
        for (ModuleCost c : s.costs()) {
            if (c.module().startsWith("unet.")) {
                unet += c.macs();
            } else {
                decoder += c.macs();
            }
            attention += c.attentionMacs();
        }
        // ADCSR.md §5: UNet 184.74 G, decoder mid + up 310.23 G, total ≈ 495.0 G, attention matmuls ≈ 54.5 G
        assertEquals(184.74, unet / 1e9, 0.005);
        assertEquals(310.23, decoder / 1e9, 0.005);
        assertEquals(54.5, attention / 1e9, 0.1);
    }

    @Test
    void groupRuleMatchesThePaper() {
        assertEquals(24, AdcsrConfig.unetGroups(240));
        assertEquals(24, AdcsrConfig.unetGroups(720));
        for (int c : new int[] {480, 960, 1440, 1920}) {
            assertEquals(32, AdcsrConfig.unetGroups(c));
        }
        assertEquals(1, AdcsrConfig.unetGroups(7));
    }

    @Test
    void configJsonRoundTripsAndRejectsNonsense() {
        AdcsrConfig c = AdcsrConfig.paper();
        assertEquals(c, AdcsrConfig.fromJson(c.toJson()));
        assertEquals(4, c.scale());
        assertEquals(16, c.sizeMultiple());
        String bad = c.toJson().replace("\"connector_out_channels\": 256", "\"connector_out_channels\": 255");
        assertThrows(BadInputException.class, () -> AdcsrConfig.fromJson(bad));
        assertThrows(BadInputException.class, () -> AdcsrConfig.fromJson("{\"name\": \"x\"}"));
        assertThrows(BadInputException.class, () -> AdcsrConfig.fromJson("[1,2"));
    }

    private static String refused(String json) {
        return assertTimeoutPreemptively(java.time.Duration.ofSeconds(2),
                () -> assertThrows(BadInputException.class, () -> AdcsrConfig.fromJson(json))).getMessage();
    }

    @Test
    void everyClaimedSizeIsBoundedBeforeUse() {
        String paper = AdcsrConfig.paper().toJson();
        assertTrue(refused(paper.replace("\"unet_layers_per_block\": 2", "\"unet_layers_per_block\": 1000000"))
                .contains("layers per block above 16"));
        assertTrue(refused(paper.replace("\"decoder_layers_per_block\": 2", "\"decoder_layers_per_block\": 99"))
                .contains("layers per block above 16"));
        assertTrue(refused(paper.replace("\"unet_in_channels\": 12", "\"unet_in_channels\": 2000000000"))
                .contains("unet_in_channels 2000000000 above 64"));
        assertTrue(refused(paper.replace("960,", "1966080,")).contains("unet width 1966080 above 8192"));
        StringBuilder levels = new StringBuilder("[");
        for (int i = 0; i < 100_000; i++) {
            levels.append(i == 0 ? "" : ",").append(64);
        }
        String many = paper.replaceFirst("\"decoder_block_out_channels\": \\[[^\\]]*\\]",
                "\"decoder_block_out_channels\": " + levels + "]");
        assertTrue(refused(many).contains("more than 8 levels"));
        assertTrue(refused(paper.replace("\"paper\"", "\"" + "x".repeat(5000) + "\"")).contains("name longer"));
    }

    @Test
    void nonJsonConfigIsNamedWithoutJavaClassNames() {
        for (String junk : new String[] {"[1,2", "{\"name\": ", "not json at all {", "{\"unet_heads\": \"x\"}"}) {
            String m = refused(junk);
            assertTrue(m.startsWith("model config: not valid JSON ("), m);
            assertFalse(m.contains("java.") || m.contains("Exception") || m.contains("gson"), m);
        }
    }
}
