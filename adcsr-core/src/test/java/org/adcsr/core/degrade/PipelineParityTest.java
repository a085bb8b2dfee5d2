package org.adcsr.core.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.Test;

/**
 * Whole degradations with fixed draws and zero noise against BasicSR's functions (pipeline.json), and USM against
 * BasicSR's USMSharp (usm.json); both from tools/fixtures/make_degrade_fixtures.py.
 */
class PipelineParityTest {

    @Test
    void usmMatchesBasicSr() throws IOException {
        JsonObject f = Fixtures.load("usm.json");
        Planes in = Fixtures.planes(f, "input_shape", "input");
        Planes got = Usm.sharpen(in);
        float[] want = Fixtures.floats(f.getAsJsonArray("values"));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got.d[i], 2e-6f, "value " + i);
        }
    }

    @Test
    void fixedDegradationsMatchBasicSrPixelForPixel() throws IOException {
        Planes src;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/degrade/photo.png")) {
            src = Degrader.toRgb(Images.read(in, "photo.png", 1 << 20));
        }
        int n = 0;
        for (JsonElement e : Fixtures.load("pipeline.json").getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            Map<String, String> cells = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> cell : c.getAsJsonObject("cells").entrySet()) {
                cells.put(cell.getKey(), cell.getValue().getAsString());
            }
            PairRecord rec = PairRecord.fromRow(cells);
            Planes lr = Degrader.apply(rec, src).lr();
            int[] want = Fixtures.ints(c.getAsJsonArray("lr"));
            assertEquals(want.length, lr.d.length);
            int same = 0;
            int maxDiff = 0;
            for (int i = 0; i < want.length; i++) {
                int got = Math.round(lr.d[i] * 255f);
                same += got == want[i] ? 1 : 0;
                maxDiff = Math.max(maxDiff, Math.abs(got - want[i]));
            }
            String what = "case " + n + ": " + same + " of " + want.length + " identical, max diff " + maxDiff;
            System.err.println(what);
            assertTrue(same >= want.length * 0.995, what); // all 3072 identical when written
            assertTrue(maxDiff <= 1, what);
            n++;
        }
        assertEquals(3, n);
    }
}
