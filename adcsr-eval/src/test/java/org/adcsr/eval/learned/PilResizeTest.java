package org.adcsr.eval.learned;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PilResize} against PIL's own resize of mode F images ({@code tools/eval/make_pil_resize_fixture.py}). */
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
                PilResizeTest.class.getResource("/fixtures/pil_resize.txt").toURI()));
        int cases = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("== ")) {
                continue;
            }
            int[] s = Arrays.stream(lines.get(i).substring(3).split(" ")).mapToInt(Integer::parseInt).toArray();
            float[] in = floats(lines.get(i + 1), "in"), want = floats(lines.get(i + 2), "out");
            float[] got = PilResize.bicubic(in, s[1], s[0], s[3], s[2]);
            assertEquals(want.length, got.length);
            double worst = 0;
            for (int k = 0; k < got.length; k++) {
                worst = Math.max(worst, Math.abs(got[k] - want[k]));
            }
            assertTrue(worst <= 1e-3, lines.get(i) + ": largest difference " + worst);
            cases++;
        }
        assertEquals(7, cases);
    }

    @Test
    void sameSizeIsACopy() {
        float[] x = {1, 2, 3, 4, 5, 6};
        assertArrayEquals(x, PilResize.bicubic(x, 3, 2, 3, 2));
    }
}
