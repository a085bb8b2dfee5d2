package org.adcsr.core.upscale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Random;
import org.adcsr.core.BadInputException;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;
import org.junit.jupiter.api.Test;

class UpscalerTest {

    /** A local stand-in network: nearest ×4 of a fixed affine map of the input, so tiling must be invisible. */
    static class Nearest implements Upscaler.Network {
        int calls;

        @Override
        public float[] run(float[] chw, int h, int w) {
            calls++;
            float[] out = new float[chw.length * 16];
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < 4 * h; y++) {
                    for (int x = 0; x < 4 * w; x++) {
                        out[(c * 4 * h + y) * 4 * w + x] = 0.9f * chw[(c * h + y / 4) * w + x / 4] + 0.05f;
                    }
                }
            }
            return out;
        }

        @Override
        public int scale() {
            return 4;
        }

        @Override
        public int sizeMultiple() {
            return 16;
        }
    }

    static Image random(int w, int h, int channels, int max, long seed) {
        Random r = new Random(seed);
        Image img = Image.blank(w, h, channels, max);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = r.nextInt(max + 1);
        }
        return img;
    }

    private static Image run(Upscaler.Network net, Image in, int tile, int overlap, ColorCorrection fix) {
        return new Upscaler(net, new Upscaler.Options(tile, overlap, fix)).upscale(in, (d, t) -> { }).image();
    }

    @Test
    void tilesPaddingAndBlendingAreInvisibleWithALocalNetwork() {
        Image in = random(70, 45, 3, 255, 1); // not multiples of 16: padded
        Nearest whole = new Nearest();
        Image a = run(whole, in, 80, 16, ColorCorrection.NONE);
        assertEquals(1, whole.calls);
        Nearest tiled = new Nearest();
        Image b = run(tiled, in, 32, 16, ColorCorrection.NONE);
        assertEquals(4 * 2, tiled.calls); // padded 80x48: x starts 0, 16, 32, 48; y starts 0, 16
        assertEquals(280, b.width());
        assertEquals(180, b.height());
        assertArrayEquals(a.data(), b.data());
    }

    @Test
    void tinyAndThinImagesWork() {
        for (int[] wh : new int[][] {{1, 1}, {1, 17}, {33, 2}}) {
            Image in = random(wh[0], wh[1], 3, 255, wh[0] * 100 + wh[1]);
            Image out = run(new Nearest(), in, 32, 16, ColorCorrection.ADAIN);
            assertEquals(4 * wh[0], out.width());
            assertEquals(4 * wh[1], out.height());
            for (float v : out.data()) {
                assertTrue(v >= 0 && v <= 255);
            }
        }
    }

    @Test
    void flatImagesGiveNoNaN() {
        Image flat = Image.blank(16, 16, 3, 255);
        java.util.Arrays.fill(flat.data(), 77);
        Upscaler.Network constant = new Nearest() {
            @Override
            public float[] run(float[] chw, int h, int w) {
                float[] out = super.run(chw, h, w);
                java.util.Arrays.fill(out, 0.25f);
                return out;
            }
        };
        Image out = run(constant, flat, 16, 0, ColorCorrection.ADAIN);
        for (float v : out.data()) {
            assertEquals(76f, v, 1f); // floor(255·((77/255·2−1)/2+0.5)) with float rounding
        }
        for (ColorCorrection c : ColorCorrection.values()) {
            for (float v : run(new Nearest(), flat, 16, 0, c).data()) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void nanInTheWeightsIsABadInputNotAnEngineFault() {
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 3, m, DataType.FLOAT32)) {
            Upscaler upscaler = Upscaler.of(model, m, new Upscaler.Options(16, 0, ColorCorrection.NONE));
            Image in = random(16, 16, 3, 255, 4);
            upscaler.upscale(in, (d, t) -> { }); // finite weights: fine
            String name = "unet.conv_in.weight";
            model.parameters().get(name).muli(Float.NaN);
            BadInputException e = assertThrows(BadInputException.class, () -> upscaler.upscale(in, (d, t) -> { }));
            assertEquals("the model's weights contain NaN or infinity (" + name + "): a bad weights file, not an"
                    + " engine fault", e.getMessage());
        }
    }

    @Test
    void grayAlphaAnd16BitKeepTheirForm() {
        for (int channels = 1; channels <= 4; channels++) {
            for (int max : new int[] {255, 65535}) {
                Image in = random(20, 12, channels, max, channels + max);
                if (in.hasAlpha()) { // a smooth alpha: a horizontal ramp
                    for (int y = 0; y < 12; y++) {
                        for (int x = 0; x < 20; x++) {
                            in.setSample(in.colorChannels(), y, x, x * (max / 19f));
                        }
                    }
                }
                Image out = run(new Nearest(), in, 32, 16, ColorCorrection.NONE);
                assertEquals(channels, out.channels());
                assertEquals(max, out.maxValue());
                assertEquals(80, out.width());
                if (in.hasAlpha()) {
                    int a = in.colorChannels();
                    for (int x = 0; x < 80; x += 7) {
                        float want = Math.min(Math.max((x + 0.5f) / 4 - 0.5f, 0), 19) * (max / 19f);
                        assertEquals(want, out.sample(a, 5, x), max / 100f, "alpha at x=" + x);
                    }
                }
            }
        }
    }

    @Test
    void waveletFixTakesLowFrequenciesFromTheInput() {
        Image in = random(32, 32, 3, 255, 5);
        Upscaler.Network darker = new Nearest() {
            @Override
            public float[] run(float[] chw, int h, int w) {
                float[] out = super.run(chw, h, w);
                for (int i = 0; i < out.length; i++) {
                    out[i] -= 0.5f;
                }
                return out;
            }
        };
        double plain = mean(run(darker, in, 32, 0, ColorCorrection.NONE));
        double fixed = mean(run(darker, in, 32, 0, ColorCorrection.WAVELET));
        double input = mean(in);
        assertTrue(Math.abs(fixed - input) < 3 && Math.abs(plain - input) > 30, plain + " " + fixed + " " + input);
    }

    private static double mean(Image img) {
        double s = 0;
        for (float v : img.data()) {
            s += v;
        }
        return s / img.data().length;
    }

    @Test
    void badTileSettingsAreRefused() {
        assertThrows(BadInputException.class, () -> new Upscaler(new Nearest(), new Upscaler.Options(20, 0,
                ColorCorrection.NONE)));
        assertThrows(BadInputException.class, () -> new Upscaler(new Nearest(), new Upscaler.Options(32, 32,
                ColorCorrection.NONE)));
    }

    @Test
    void oneTileEqualsTheOfficialProcedure() throws URISyntaxException {
        Path dir = Paths.get(UpscalerTest.class.getResource("/fixtures/parity/config_tiny.json").toURI()).getParent();
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = ModelFiles.load(dir.resolve("net_params_tiny.pkl"),
                        dir.resolve("halfDecoder_tiny.ckpt"), AdcsrConfig.tiny(), m, DataType.FLOAT32,
                        org.adcsr.core.io.torch.PicklePolicy.allowingUnknownClasses());
                TorchCheckpoint expected = TorchCheckpoint.open(dir.resolve("expected_tiny.pt"))) {
            TensorSource e = expected.tensors();
            float[] lr = e.readFloats("a.lr"); // [1,3,32,32], k/255
            Image in = Image.blank(32, 32, 3, 255);
            for (int i = 0; i < lr.length; i++) {
                in.data()[i] = Math.round(lr[i] * 255f);
            }
            Image out = Upscaler.of(model, m, new Upscaler.Options(32, 16, ColorCorrection.ADAIN))
                    .upscale(in, (d, t) -> { }).image();
            float[] want = e.readFloats("a.y_u8");
            int off = 0;
            for (int i = 0; i < want.length; i++) {
                int d = (int) Math.abs(out.data()[i] - want[i]);
                assertTrue(d <= 1, "pixel " + i + " differs by " + d);
                off += d;
            }
            assertTrue(off <= want.length / 500, off + " of " + want.length + " values off by one");
        }
    }
}
