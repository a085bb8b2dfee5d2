package org.adcsr.qnn;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AIMET encodings: activation encodings per tensor, parameter encodings per tensor or per output channel. Written
 * as JSON version 0.6.1 (string booleans and dtypes) or 1.0.0 (arrays, bool {@code is_sym}) as in QNN.md §5.
 */
final class Encodings {
    enum Format {
        V0_6_1("0.6.1"), V1_0_0("1.0.0");

        final String version;

        Format(String version) {
            this.version = version;
        }

        static Format of(String v) {
            for (Format f : values()) {
                if (f.version.equals(v)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown encodings version " + v + " (0.6.1 or 1.0.0)");
        }
    }

    static final int ACT_BW = 16;
    static final int PARAM_BW = 8;

    final Map<String, Quant> activations = new LinkedHashMap<>();
    /** One entry: per tensor; several: per output channel. */
    final Map<String, List<Quant>> params = new LinkedHashMap<>();

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    String toJson(Format f) {
        JsonObject root = new JsonObject();
        root.addProperty("version", f.version);
        if (f == Format.V0_6_1) {
            JsonObject act = new JsonObject();
            activations.forEach((n, q) -> {
                JsonArray a = new JsonArray();
                a.add(entry061(q));
                act.add(n, a);
            });
            JsonObject par = new JsonObject();
            params.forEach((n, qs) -> {
                JsonArray a = new JsonArray();
                qs.forEach(q -> a.add(entry061(q)));
                par.add(n, a);
            });
            root.add("activation_encodings", act);
            root.add("param_encodings", par);
        } else {
            JsonArray act = new JsonArray();
            activations.forEach((n, q) -> act.add(entry100(n, List.of(q))));
            JsonArray par = new JsonArray();
            params.forEach((n, qs) -> par.add(entry100(n, qs)));
            root.add("activation_encodings", act);
            root.add("param_encodings", par);
        }
        JsonObject args = new JsonObject();
        args.addProperty("activation_bitwidth", ACT_BW);
        args.addProperty("param_bitwidth", PARAM_BW);
        if (f == Format.V0_6_1) {
            args.addProperty("dtype", "int");
            args.addProperty("is_symmetric", "True");
            args.addProperty("per_channel_quantization", "True");
        } else {
            args.addProperty("dtype", "int");
            args.addProperty("is_symmetric", true);
            args.addProperty("per_channel_quantization", true);
        }
        args.addProperty("quant_scheme", "post_training_tf");
        root.add("quantizer_args", args);
        if (f == Format.V1_0_0) {
            root.add("excluded_layers", new JsonArray());
        }
        return GSON.toJson(root) + "\n";
    }

    private static JsonObject entry061(Quant q) {
        JsonObject e = new JsonObject();
        e.addProperty("bitwidth", q.bitwidth());
        e.addProperty("dtype", "int");
        e.addProperty("is_symmetric", q.symmetric() ? "True" : "False");
        e.addProperty("min", q.min());
        e.addProperty("max", q.max());
        e.addProperty("scale", q.scale());
        e.addProperty("offset", q.offset());
        return e;
    }

    private static JsonObject entry100(String name, List<Quant> qs) {
        JsonObject e = new JsonObject();
        e.addProperty("name", name);
        e.addProperty("enc_type", qs.size() > 1 ? "PER_CHANNEL" : "PER_TENSOR");
        e.addProperty("dtype", "INT");
        e.addProperty("bw", qs.get(0).bitwidth());
        e.addProperty("is_sym", qs.get(0).symmetric());
        JsonArray s = new JsonArray();
        JsonArray o = new JsonArray();
        for (Quant q : qs) {
            s.add(q.scale());
            o.add(q.offset());
        }
        e.add("scale", s);
        e.add("offset", o);
        return e;
    }
}
