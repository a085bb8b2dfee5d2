package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.junit.jupiter.api.Test;

/**
 * The SD VAE encoder: SD's config has exactly the reference keys and shapes in order (shared/reference
 * sd_vae_keys.txt), and a tiny encoder equals an independent plain-PyTorch one written from diffusers' modules
 * ({@code tools/fixtures/make_vae_encoder_fixture.py}) in float64, batch 2.
 */
class VaeEncoderTest {
    static final Path FIXTURE = Paths.get("src/test/resources/fixtures/vae/encoder_tiny.safetensors");

    static List<TensorInfo> parameters(VaeEncoder.Config c, int size) {
        ShapeOps s = new ShapeOps();
        VaeEncoder.forward(s, c, new long[] {1, 3, size, size});
        return s.parameters();
    }

    @Test
    void sdConfigHasTheReferenceKeysAndShapesInOrder() throws IOException {
        List<String> expected = ArchitectureTest.referenceKeys("sd_vae_keys.txt", "").stream()
                .filter(l -> l.startsWith("encoder.") || l.startsWith("quant_conv."))
                .collect(Collectors.toList());
        List<String> got = parameters(VaeEncoder.Config.sd(), 64).stream()
                .map(t -> t.name() + " " + t.shapeString()).collect(Collectors.toList());
        assertEquals(expected, got);
        assertEquals(34_163_664L, ShapeOps.count(parameters(VaeEncoder.Config.sd(), 64)));
    }

    @Test
    void tinyEncoderEqualsPyTorchInFloat64() {
        VaeEncoder.Config tiny = new VaeEncoder.Config(new int[] {8, 16, 16}, 2, 4, 4);
        try (SafetensorsReader ref = SafetensorsReader.open(FIXTURE); NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> params = new HashMap<>();
            for (TensorInfo t : parameters(tiny, 16)) {
                assertEquals(t.shapeString(), ref.info(t.name()).shapeString(), t.name());
                params.put(t.name(), m.create(ref.readFloats(t.name()), new Shape(t.shape()))
                        .toType(DataType.FLOAT64, false));
            }
            assertEquals(ref.names().size() - 2, params.size(), "every fixture tensor is a parameter");
            NDArray x = m.create(ref.readFloats("x"), new Shape(2, 3, 16, 16)).toType(DataType.FLOAT64, false);
            double[] got = VaeEncoder.forward(new DjlOps(params), tiny, x).toDoubleArray();
            float[] want = ref.readFloats("moments");
            assertEquals(want.length, got.length);
            double worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
            }
            // the reference's float64 result is stored as float32: 3e-8 on values up to 0.47; a wrong block is O(0.1)
            assertTrue(worst < 1e-6, "max |Δ| " + worst);
        }
    }
}
