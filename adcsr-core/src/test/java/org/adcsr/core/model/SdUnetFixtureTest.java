package org.adcsr.core.model;

import static org.adcsr.core.FixtureMath.doubles;
import static org.adcsr.core.FixtureMath.relative;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.sd.SdConfig;
import org.junit.jupiter.api.Test;

/**
 * The SD UNet and the LoRA discriminator against an independent plain-PyTorch reference written from the diffusers
 * and PEFT math ({@code tools/fixtures/make_sd_unet_fixture.py}), float64 and float32; LoRA and conv_in gradients
 * against central differences; the full-size discriminator's PEFT key list against the one the script enumerated.
 */
class SdUnetFixtureTest {
    static final Path FIXTURE = Paths.get("src/test/resources/fixtures/unet/sd_unet_tiny.safetensors");
    static final SdConfig TINY = new SdConfig("tiny", new int[] {8, 16, 16}, new int[] {2, 2, 4}, 2,
            new boolean[] {true, true, false}, 12, 4, new int[] {8, 16, 16}, 2, 4, 4);
    static final int RANK = 2;
    static final double ALPHA = 8;

    private static NDArray load(SafetensorsReader r, NDManager m, String key, long[] shape, DataType type) {
        return m.create(r.readFloats(key), new Shape(shape)).toType(type, false);
    }


    /** UNet parameters from "unet.", or D's: the UNet's but for conv_in, widened in Java, plus the LoRA tensors. */
    private static Map<String, NDArray> params(SafetensorsReader r, NDManager m, boolean disc, DataType type) {
        List<TensorInfo> layout = disc ? Discriminator.parameters(TINY, 12, RANK, ALPHA) : SdUnet.parameters(TINY, 4);
        Map<String, NDArray> p = new HashMap<>();
        for (TensorInfo t : layout) {
            String key;
            if (LoraOps.isLoraParameter(t.name())) {
                key = "disc." + t.name();
            } else if (disc && t.name().equals("conv_in.weight")) {
                TensorInfo sd = r.info("unet.conv_in.weight");
                float[] w = Discriminator.widenConvIn(r.readFloats(sd.name()), sd.shape(), 12);
                assertArrayEquals(r.readFloats("disc.conv_in.base_layer.weight"), w, "widened conv_in");
                p.put(t.name(), m.create(w, new Shape(t.shape())).toType(type, false));
                continue;
            } else {
                key = "unet." + t.name();
            }
            assertEquals(t.shapeString(), r.info(key).shapeString(), key);
            p.put(t.name(), load(r, m, key, t.shape(), type));
        }
        return p;
    }

    private static NDArray timesteps(SafetensorsReader r, NDManager m, DataType type) {
        float[] t = r.readFloats("timesteps");
        double[] td = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            td[i] = t[i];
        }
        return m.create(SdUnet.timestepFeatures(td, TINY.unetWidths()[0]), new Shape(t.length, TINY.unetWidths()[0]))
                .toType(type, false);
    }

    private static double[] run(boolean disc, DataType type) {
        try (SafetensorsReader r = SafetensorsReader.open(FIXTURE); NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> p = params(r, m, disc, type);
            NDArray ctx = load(r, m, "context", new long[] {2, 7, 12}, type);
            NDArray t = timesteps(r, m, type);
            NDArray y = disc
                    ? Discriminator.forward(Discriminator.ops(new DjlOps(p), RANK, ALPHA), TINY,
                            load(r, m, "features", new long[] {2, 12, 8, 8}, type), t, ctx)
                    : SdUnet.forward(new DjlOps(p), TINY, load(r, m, "sample", new long[] {2, 4, 8, 8}, type), t, ctx);
            return y.toType(DataType.FLOAT64, false).toDoubleArray();
        }
    }

    private static double[] want(String key) {
        try (SafetensorsReader r = SafetensorsReader.open(FIXTURE)) {
            return doubles(r, key);
        }
    }


    @Test
    void unetEqualsPyTorchInFloat64AndFloat32() {
        double[] want = want("eps");
        assertTrue(relative(want, run(false, DataType.FLOAT64)) < 1e-6, "float64");
        assertTrue(relative(want, run(false, DataType.FLOAT32)) < 1e-4, "float32");
    }

    @Test
    void loraDiscriminatorEqualsPyTorchInFloat64AndFloat32() {
        double[] want = want("disc_out");
        assertTrue(relative(want, run(true, DataType.FLOAT64)) < 1e-6, "float64");
        assertTrue(relative(want, run(true, DataType.FLOAT32)) < 1e-4, "float32");
    }

    @Test
    void mergedLoraGivesTheSameOutputAndUnmergeRestoresTheWeights() {
        try (SafetensorsReader r = SafetensorsReader.open(FIXTURE); NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> p = params(r, m, true, DataType.FLOAT64);
            LoraOps<NDArray> lora = Discriminator.ops(new DjlOps(p), RANK, ALPHA);
            Map<String, NDArray> merged = lora.merge(p, 1);
            assertTrue(merged.keySet().stream().noneMatch(LoraOps::isLoraParameter));
            NDArray ctx = load(r, m, "context", new long[] {2, 7, 12}, DataType.FLOAT64);
            NDArray f = load(r, m, "features", new long[] {2, 12, 8, 8}, DataType.FLOAT64);
            double[] y = SdUnet.forward(new DjlOps(merged), TINY, f, timesteps(r, m, DataType.FLOAT64), ctx)
                    .toDoubleArray();
            assertTrue(relative(want("disc_out"), y) < 1e-6, "merged");
            Map<String, NDArray> withLora = new HashMap<>(merged);
            p.keySet().stream().filter(LoraOps::isLoraParameter).forEach(k -> withLora.put(k, p.get(k)));
            Map<String, NDArray> unmerged = lora.merge(withLora, -1);
            String w = "mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight";
            assertTrue(relative(p.get(w).toDoubleArray(), unmerged.get(w).toDoubleArray()) < 1e-12, "unmerged");
        }
    }

    /** Gradients of D's trainable parameters (LoRA A and B, conv_in) against central differences, float64. */
    @Test
    void loraAndConvInGradientsMatchFiniteDifferences() {
        String[] probes = {"conv_in.weight", "conv_in.bias", "conv_in.lora_A.default_encoder.weight",
            "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.default_encoder.weight",
            "mid_block.resnets.1.conv2.lora_A.default_others.weight",
            "up_blocks.1.attentions.2.proj_out.lora_B.default_decoder.weight",
            "conv_out.lora_A.default_decoder.weight"};
        try (SafetensorsReader r = SafetensorsReader.open(FIXTURE); NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> p = params(r, m, true, DataType.FLOAT64);
            NDArray ctx = load(r, m, "context", new long[] {2, 7, 12}, DataType.FLOAT64);
            NDArray f = load(r, m, "features", new long[] {2, 12, 8, 8}, DataType.FLOAT64);
            NDArray t = timesteps(r, m, DataType.FLOAT64);
            NDArray probe = f.getManager().randomNormal(new Shape(2, 4, 8, 8)).toType(DataType.FLOAT64, false);
            java.util.function.Supplier<NDArray> loss = () -> Discriminator.forward(
                    Discriminator.ops(new DjlOps(p), RANK, ALPHA), TINY, f, t, ctx).mul(probe).sum();
            for (String name : probes) {
                p.get(name).setRequiresGradient(true);
            }
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Autograd.backward(gc, loss.get());
            }
            for (String name : probes) {
                NDArray w = p.get(name);
                double[] g = w.getGradient().toDoubleArray();
                assertTrue(java.util.Arrays.stream(g).anyMatch(v -> v != 0), name + " gets no gradient");
                long n = w.size();
                for (long flat : new long[] {0, n / 2, n - 1}) {
                    double h = 1e-6;
                    NDArray flatView = w.reshape(-1);
                    double v0 = flatView.getDouble(flat);
                    flatView.set(new NDIndex(flat), v0 + h);
                    double up = loss.get().getDouble();
                    flatView.set(new NDIndex(flat), v0 - h);
                    double down = loss.get().getDouble();
                    flatView.set(new NDIndex(flat), v0);
                    double numeric = (up - down) / (2 * h);
                    assertEquals(numeric, g[(int) flat], 1e-5 * Math.abs(numeric) + 1e-7, name + "[" + flat + "]");
                }
            }
        }
    }

    @Test
    void fullDiscriminatorKeysAreThoseOfPeft() throws IOException {
        List<String> got = SdUnet.parameters(new LoraOps<>(new ShapeOps(),
                LoraOps.officialAdapters(Discriminator.RANK, LoraOps.PEFT_DEFAULT_ALPHA), true), SdConfig.sd21Base(), 256)
                .stream().map(t -> t.name() + " " + t.shapeString()).sorted().collect(Collectors.toList());
        try (InputStream in = getClass().getResourceAsStream("/fixtures/reference/sd21_disc_peft_keys.txt")) {
            List<String> want = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank()).sorted().collect(Collectors.toList());
            assertEquals(want, got);
        }
    }
}
