package org.adcsr.core.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Each operation against the fixtures of tools/fixtures/make_degrade_fixtures.py (numpy/scipy, torch, BasicSR). */
class OperationsTest {

    @Test
    void besselJ1MatchesScipy() throws IOException {
        for (JsonElement e : Fixtures.load("kernels.json").getAsJsonArray("j1")) {
            double x = e.getAsJsonArray().get(0).getAsDouble();
            double want = e.getAsJsonArray().get(1).getAsDouble();
            assertEquals(want, Kernels.besselJ1(x), 1e-15, "J1(" + x + ")");
        }
    }

    @Test
    void kernelsMatchIndependentFloat64Computation() throws IOException {
        int n = 0;
        for (JsonElement e : Fixtures.load("kernels.json").getAsJsonArray("kernels")) {
            JsonObject c = e.getAsJsonObject();
            String type = c.get("type").getAsString();
            int k = c.get("size").getAsInt();
            double[] got = type.equals("sinc")
                    ? Kernels.sinc(k, c.get("omega").getAsDouble())
                    : Kernels.mixed(Kernels.Type.of(type), k, c.get("sigma_x").getAsDouble(),
                            c.get("sigma_y").getAsDouble(), c.get("theta").getAsDouble(),
                            c.get("beta").isJsonNull() ? Double.NaN : c.get("beta").getAsDouble());
            double[] want = Fixtures.doubles(c.getAsJsonArray("values"));
            assertEquals(want.length, got.length);
            double sum = 0;
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-14, type + " k=" + k + " tap " + i);
                sum += got[i];
            }
            assertEquals(1.0, sum, 1e-12);
            // point symmetry: correlation and convolution agree
            for (int i = 0; i < want.length; i++) {
                assertEquals(got[i], got[want.length - 1 - i], 1e-15);
            }
            n++;
        }
        assertEquals(12, n);
    }

    @Test
    void padTo21CentresTheKernel() {
        float[] p = Kernels.padTo21(Kernels.mixed(Kernels.Type.ISO, 7, 1, 1, 0, 0), 7);
        assertEquals(0f, p[0]);
        float centre = p[10 * 21 + 10];
        assertTrue(centre > p[10 * 21 + 11] && p[10 * 21 + 11] == p[10 * 21 + 9]);
        assertEquals(0f, p[10 * 21 + 6]);
        assertTrue(p[10 * 21 + 7] > 0f);
    }

    @Test
    void resizeMatchesTorchInterpolate() throws IOException {
        JsonObject f = Fixtures.load("resize.json");
        Planes in = Fixtures.planes(f, "input_shape", "input");
        int exact = 0;
        int total = 0;
        for (JsonElement e : f.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            Resize.Mode mode = Resize.Mode.of(c.get("mode").getAsString());
            int[] shape = Fixtures.ints(c.getAsJsonArray("shape"));
            Planes got;
            String what;
            if (c.has("scale")) {
                double s = c.get("scale").getAsDouble();
                got = Resize.byScale(in, s, mode);
                what = mode.key + " scale " + s;
            } else {
                int[] size = Fixtures.ints(c.getAsJsonArray("size"));
                got = Resize.toSize(in, size[0], size[1], mode);
                what = mode.key + " size " + size[0] + "x" + size[1];
            }
            assertEquals(shape[0], got.h, what);
            assertEquals(shape[1], got.w, what);
            float[] want = Fixtures.floats(c.getAsJsonArray("values"));
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got.d[i], 1.5e-6f, what + " value " + i);
                exact += want[i] == got.d[i] ? 1 : 0;
                total++;
            }

        }
        // area is bit-identical; bilinear/bicubic differ from torch's CPU kernel by at most ~1 ulp of the
        // largest tap (its summation order is not reproduced), which 8-bit quantisation never sees in practice
        assertTrue(exact > total * 0.6, exact + " of " + total + " bit-identical");
    }

    @Test
    void filter2DMatchesTorchReflectPadAndConv2d() throws IOException {
        JsonObject f = Fixtures.load("filter.json");
        Planes in = Fixtures.planes(f, "input_shape", "input");
        for (JsonElement e : f.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            Planes got = Filter.filter2D(in, Fixtures.floats(c.getAsJsonArray("kernel")), 21);
            float[] want = Fixtures.floats(c.getAsJsonArray("values"));
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got.d[i], 1e-6f, "value " + i);
            }
        }
    }

    @Test
    void reflectIsTorchReflect() {
        // torch reflect of [0..4] padded by 3: 3 2 1 | 0 1 2 3 4 | 3 2 1
        int[] want = {3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1};
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], Filter.reflect(i - 3, 5));
        }
        assertEquals(0, Filter.reflect(7, 1));
    }

    @Test
    void diffJpegMatchesBasicSr() throws IOException {
        JsonObject f = Fixtures.load("diffjpeg.json");
        Planes in = Fixtures.planes(f, "input_shape", "input");
        for (JsonElement e : f.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            double q = c.get("quality").getAsDouble();
            Planes got = DiffJpeg.apply(in, q);
            float[] want = Fixtures.floats(c.getAsJsonArray("values"));
            int close = 0;
            double maxDiff = 0;
            for (int i = 0; i < want.length; i++) {
                double d = Math.abs(want[i] - got.d[i]);
                maxDiff = Math.max(maxDiff, d);
                close += d < 2e-5 ? 1 : 0;
            }
            // float32 tensordot (reference) vs double DCT: a coefficient on a rounding tie may land one step apart
            assertTrue(close >= want.length * 0.99, "q " + q + ": " + close + " of " + want.length + " within 2e-5");
            assertTrue(maxDiff < 0.02, "q " + q + ": max diff " + maxDiff);
        }
    }

    @Test
    void diffJpegFactorAndHighQuality() {
        assertEquals(2.0f, DiffJpeg.factor(25f));
        assertEquals(1.0f, DiffJpeg.factor(50f));
        assertEquals(0.2f, DiffJpeg.factor(90f), 1e-7f);
        // quality 100 gives factor 0: no quantisation, the round trip only loses chroma detail
        Planes flat = new Planes(3, 16, 16);
        java.util.Arrays.fill(flat.d, 0.25f);
        Planes out = DiffJpeg.apply(flat, 100);
        for (float v : out.d) {
            assertEquals(0.25f, v, 1e-5f);
        }
    }

    @Test
    void realJpegRoundTripIsCloseAtHighQuality() {
        Planes img = new Planes(3, 24, 40);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 24; y++) {
                for (int x = 0; x < 40; x++) {
                    img.d[(c * 24 + y) * 40 + x] = (float) (0.5 + 0.3 * Math.sin(x * 0.1 + y * 0.07 + c));
                }
            }
        }
        Planes out = RealJpeg.apply(img, 95.4);
        assertEquals(img.h, out.h);
        double mse = 0;
        for (int i = 0; i < img.d.length; i++) {
            mse += (img.d[i] - out.d[i]) * (img.d[i] - out.d[i]);
            assertEquals(Math.round(out.d[i] * 255f) / 255f, out.d[i], 0f);
        }
        assertTrue(mse / img.d.length < 1e-4, "mse " + mse / img.d.length);
    }

    @Test
    void quantizeRoundsHalfToEven() {
        assertEquals(2f / 255f, Planes.quantize(2.5f / 255f));
        assertEquals(4f / 255f, Planes.quantize(3.5f / 255f));
        assertEquals(0f, Planes.quantize(-0.3f));
        assertEquals(1f, Planes.quantize(1.7f));
        assertArrayEquals(new float[] {0f, 1f}, new Planes(1, 1, 2, new float[] {-1f, 2f}).clamp01().d);
    }
}
