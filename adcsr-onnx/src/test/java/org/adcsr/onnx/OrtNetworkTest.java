package org.adcsr.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.upscale.ColorCorrection;
import org.adcsr.core.upscale.Upscaler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime against DJL and against the official procedure, on the tiny config. */
class OrtNetworkTest {
    @TempDir Path cache;

    private static Image random(int w, int h, long seed) {
        Random r = new Random(seed);
        Image img = Image.blank(w, h, 3, 255);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = r.nextInt(256);
        }
        return img;
    }

    private static Image upscale(Upscaler.Network net, Image in, int tile, int overlap) {
        return new Upscaler(net, new Upscaler.Options(tile, overlap, ColorCorrection.ADAIN)).upscale(in, (d, t) -> { })
                .image();
    }

    /** Pixels may differ by one level where float32 noise crosses a rounding boundary, and rarely. */
    private static void assertSameUpToNoise(Image want, Image got) {
        assertEquals(want.width(), got.width());
        assertEquals(want.height(), got.height());
        int off = 0;
        for (int i = 0; i < want.data().length; i++) {
            int d = (int) Math.abs(want.data()[i] - got.data()[i]);
            assertTrue(d <= 1, "value " + i + " differs by " + d);
            off += d;
        }
        assertTrue(off <= want.data().length / 500, off + " of " + want.data().length + " values off by one");
    }

    @Test
    void networkOutputEqualsDjlOnANonSquareInput() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        AdcsrConfig c = AdcsrConfig.tiny();
        try (NDManager m = engine.newBaseManager(); AdcsrModel model = AdcsrModel.random(c, 7, m, DataType.FLOAT32);
                OrtNetwork ort = OrtNetwork.fromParameters(c, k -> model.parameters().get(k).toFloatArray(),
                        cache.resolve("a"), 1, OrtNetwork.Device.CPU, OrtNetwork.REWRITES)) {
            int h = 32;
            int w = 48;
            float[] x = new float[3 * h * w];
            Random r = new Random(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = r.nextFloat() * 2 - 1;
            }
            float[] djl = model.forward(m.create(x, new Shape(1, 3, h, w))).toFloatArray();
            float[] y = ort.run(x, h, w);
            assertEquals(djl.length, y.length);
            double max = 0;
            for (int i = 0; i < djl.length; i++) {
                max = Math.max(max, Math.abs(djl[i] - y[i]));
            }
            assertTrue(max <= 1e-4, "max |d| = " + max);
            // a second shape builds a second session; the first shape again a third, from the same weights
            assertEquals(3 * 16 * 16 * 16, ort.run(new float[3 * 16 * 16], 16, 16).length);
            float[] again = ort.run(x, h, w);
            for (int i = 0; i < y.length; i++) {
                assertEquals(y[i], again[i], 1e-6f);
            }
            assertTrue(ort.sessionSeconds() > 0);
            assertTrue(ort.wroteCache());

            // the cache is found again and gives the same numbers; nothing else is left in it
            try (OrtNetwork cached = OrtNetwork.fromParameters(c, k -> {
                throw new AssertionError("weights read again: " + k);
            }, cache.resolve("a"), 1, OrtNetwork.Device.CPU, OrtNetwork.REWRITES)) {
                assertTrue(!cached.wroteCache());
                float[] z = cached.run(x, h, w);
                for (int i = 0; i < y.length; i++) {
                    assertEquals(y[i], z[i], 1e-6f);
                }
            }
            try (var files = java.nio.file.Files.list(cache)) {
                assertEquals(List.of("a"), files.map(f -> f.getFileName().toString()).toList());
            }
            try (var files = java.nio.file.Files.list(cache.resolve("a"))) {
                String tag = OrtNetwork.REWRITES.tag();
                assertEquals(List.of("16x16" + tag + ".onnx", "32x48" + tag + ".onnx", "weights.data", "weights.onnx"),
                        files.map(f -> f.getFileName().toString()).sorted().toList());
            }
        }
    }

    @Test
    void tiledImageIsTheSameWithBothEngines() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        AdcsrConfig c = AdcsrConfig.tiny();
        try (NDManager m = engine.newBaseManager(); AdcsrModel model = AdcsrModel.random(c, 9, m, DataType.FLOAT32);
                OrtNetwork ort = OrtNetwork.fromParameters(c, k -> model.parameters().get(k).toFloatArray(),
                        cache.resolve("b"), 1, OrtNetwork.Device.CPU, OrtNetwork.REWRITES)) {
            Image in = random(70, 45, 2); // padded to 80x48: 4x2 tiles of 32 overlapping by 16
            Upscaler.Result djl = Upscaler.of(model, m, new Upscaler.Options(32, 16, ColorCorrection.ADAIN))
                    .upscale(in, (d, t) -> { });
            assertEquals(8, djl.tiles());
            assertSameUpToNoise(djl.image(), upscale(ort, in, 32, 16));
        }
    }

    /**
     * As with DJL: NaN and a huge finite weight are refused at load, naming the file and tensor, and leave no cache
     * (ONNX Runtime stays finite at -6.1e36 where DJL overflows: found only at load, its output would be wrong).
     */
    @Test
    void badWeightsAreRefusedAtLoad() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        AdcsrConfig c = AdcsrConfig.tiny();
        String name = "unet.down_blocks.1.attentions.1.transformer_blocks.0.attn1.to_out.0.weight";
        for (float bad : new float[] {Float.NaN, -6.1e36f}) {
            Path file = cache.resolve("bad" + bad + ".safetensors");
            try (NDManager m = engine.newBaseManager();
                    AdcsrModel model = AdcsrModel.random(c, 3, m, DataType.FLOAT32)) {
                float[] w = model.parameters().get(name).toFloatArray();
                w[205] = bad;
                model.parameters().get(name).set(w);
                ModelFiles.save(model, file, java.util.Map.of(), org.adcsr.core.io.DType.F32);
            }
            BadInputException e = assertThrows(BadInputException.class, () -> ModelFiles.read(file, null, null,
                    PicklePolicy.STRICT, (view, config) -> OrtNetwork.open(config, view, cache, "k" + bad, 1,
                            OrtNetwork.Device.CPU)));
            assertTrue(e.getMessage().startsWith(file + ": tensor " + name + " holds "
                    + (Float.isNaN(bad) ? "NaN" : "-6.10e+36") + " at element 205"), e.getMessage());
            assertTrue(!java.nio.file.Files.exists(cache.resolve("k" + bad)), "no cache left");
        }
    }

    /** The official test.py procedure (the reference fixture), with ONNX Runtime reading the official files. */
    @Test
    void oneTileEqualsTheOfficialProcedure() throws Exception {
        // the fixtures are adcsr-core's test resources: a folder in a reactor build, a jar with -pl adcsr-onnx alone
        Path dir = cache.resolve("parity");
        java.nio.file.Files.createDirectories(dir);
        for (String f : List.of("net_params_tiny.pkl", "halfDecoder_tiny.ckpt", "expected_tiny.pt")) {
            try (java.io.InputStream in = OrtNetworkTest.class.getResourceAsStream("/fixtures/parity/" + f)) {
                java.nio.file.Files.copy(in, dir.resolve(f));
            }
        }
        try (OrtNetwork ort = ModelFiles.read(dir.resolve("net_params_tiny.pkl"), dir.resolve("halfDecoder_tiny.ckpt"),
                AdcsrConfig.tiny(), PicklePolicy.allowingUnknownClasses(),
                (view, config) -> OrtNetwork.open(config, view, cache, "official", 1, OrtNetwork.Device.CPU));
                TorchCheckpoint expected = TorchCheckpoint.open(dir.resolve("expected_tiny.pt"))) {
            TensorSource e = expected.tensors();
            float[] lr = e.readFloats("a.lr"); // [1,3,32,32], k/255
            Image in = Image.blank(32, 32, 3, 255);
            for (int i = 0; i < lr.length; i++) {
                in.data()[i] = Math.round(lr[i] * 255f);
            }
            Image want = Image.blank(128, 128, 3, 255);
            float[] y = e.readFloats("a.y_u8");
            System.arraycopy(y, 0, want.data(), 0, y.length);
            assertSameUpToNoise(want, upscale(ort, in, 32, 16));
        }
    }
}
