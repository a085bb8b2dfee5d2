package org.adcsr.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PilResize} against PIL's own resize of mode F, L and RGB images ({@code tools/eval/make_pil_resize_fixture.py}). */
class PilResizeTest {

    private static float[] floats(String line, String tag) {
        assertTrue(line.startsWith(tag + " "), line.substring(0, Math.min(20, line.length())));
        String[] p = line.substring(tag.length() + 1).split(" ");
        float[] v = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            v[i] = Float.parseFloat(p[i]);
        }
        return v;
    }

    @Test
    void matchesPilUpDownAndMixed() throws Exception {
        List<String> lines = Files.readAllLines(Path.of(
                PilResizeTest.class.getResource("/fixtures/images/pil_resize.txt").toURI()));
        int cases = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("== ")) {
                continue;
            }
            int[] s = Arrays.stream(lines.get(i).substring(3).split(" ")).mapToInt(Integer::parseInt).toArray();
            float[] in = floats(lines.get(i + 1), "in"), want = floats(lines.get(i + 2), "out");
            float[] got = PilResize.bicubic(in, s[1], s[0], s[3], s[2]);
            assertArrayEquals(want, got, lines.get(i));   // bit-identical float32
            cases++;
        }
        assertEquals(7, cases);
    }

    @Test
    void eightBitMatchesPilExactly() throws Exception {
        List<String> lines = Files.readAllLines(Path.of(
                PilResizeTest.class.getResource("/fixtures/images/pil_resize_8bit.txt").toURI()));
        int cases = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("== ")) {
                continue;
            }
            String[] head = lines.get(i).substring(3).split(" ");
            PilResize.Filter filter = PilResize.Filter.valueOf(head[0].toUpperCase());
            int channels = head[1].equals("RGB") ? 3 : 1;
            int h = Integer.parseInt(head[2]), w = Integer.parseInt(head[3]);
            int outH = Integer.parseInt(head[4]), outW = Integer.parseInt(head[5]);
            Image in = interleaved(floats(lines.get(i + 1), "in"), w, h, channels);
            Image want = interleaved(floats(lines.get(i + 2), "out"), outW, outH, channels);
            Image got = PilResize.resize(in, outW, outH, filter);
            assertEquals(channels, got.channels());
            assertArrayEquals(want.data(), got.data(), lines.get(i));
            cases++;
        }
        assertEquals(28, cases);
    }

    @Test
    void alphaIsDroppedAndSixteenBitRoundsTheFloatResult() {
        Image rgba = Image.blank(4, 3, 4, 65535);
        for (int k = 0; k < rgba.data().length; k++) {
            rgba.data()[k] = (k * 7919) % 65536;
        }
        Image got = PilResize.resize(rgba, 7, 5, PilResize.Filter.BICUBIC);
        assertEquals(3, got.channels());
        assertEquals(65535, got.maxValue());
        for (int c = 0; c < 3; c++) {
            float[] f = PilResize.bicubic(rgba.plane(c), 4, 3, 7, 5);
            for (int k = 0; k < f.length; k++) {
                assertEquals(Math.min(65535, Math.max(0, Math.rint(f[k]))), got.data()[c * 35 + k]);
            }
        }
    }

    /** Row-major interleaved samples (PIL/numpy layout) as a planar {@link Image}. */
    private static Image interleaved(float[] v, int w, int h, int channels) {
        Image img = Image.blank(w, h, channels, 255);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < channels; c++) {
                    img.setSample(c, y, x, v[(y * w + x) * channels + c]);
                }
            }
        }
        return img;
    }

    @Test
    void sameSizeIsACopy() {
        float[] x = {1, 2, 3, 4, 5, 6};
        assertArrayEquals(x, PilResize.bicubic(x, 3, 2, 3, 2));
    }
}
