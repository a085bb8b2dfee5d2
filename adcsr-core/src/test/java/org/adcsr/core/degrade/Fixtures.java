package org.adcsr.core.degrade;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** Reads the JSON fixtures written by tools/fixtures/make_degrade_fixtures.py. */
final class Fixtures {
    private Fixtures() {
    }

    static JsonObject load(String name) throws IOException {
        try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/degrade/" + name)) {
            if (in == null) {
                throw new IOException("missing fixture " + name);
            }
            return JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8)).getAsJsonObject();
        }
    }

    static double[] doubles(JsonArray a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsDouble();
        }
        return out;
    }

    static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).getAsDouble();
        }
        return out;
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }

    static Planes planes(JsonObject o, String shapeKey, String valuesKey) {
        int[] s = ints(o.getAsJsonArray(shapeKey));
        return new Planes(s[0], s[1], s[2], floats(o.getAsJsonArray(valuesKey)));
    }
}
