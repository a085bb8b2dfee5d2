package org.adcsr.core.sd;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.adcsr.core.BadInputException;

/**
 * A UNet architecture as diffusers' {@code UNet2DConditionModel} {@code config.json} states it, to and from
 * {@link SdConfig}: {@code block_out_channels}, {@code num_attention_heads} or (SD2's legacy name for the same)
 * {@code attention_head_dim}, {@code layers_per_block}, {@code down_block_types} (CrossAttnDownBlock2D levels have
 * transformers), {@code cross_attention_dim}, {@code norm_num_groups}, {@code in_channels} = {@code out_channels}.
 * Only SD2-style UNets ({@code use_linear_projection: true}, no class or addition embeddings) are accepted; every
 * number is bounded before use. The VAE fields of the result are SD's.
 */
public final class SdConfigs {
    private static final int MAX_WIDTH = 8192;
    private static final int MAX_LEVELS = 8;
    private static final int MAX_LAYERS = 16;

    private SdConfigs() {
    }

    /** Reads a {@code config.json}. */
    public static SdConfig read(Path file) {
        try {
            return fromJson(Files.readString(file));
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw BadInputException.of(file, e.getMessage());
        }
    }

    /** Parses a diffusers UNet config; {@link IllegalArgumentException} with the reason if it is not one we run. */
    public static SdConfig fromJson(String json) {
        JsonObject o;
        try {
            o = JsonParser.parseString(json).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("not a JSON object");
        }
        int[] widths = ints(o, "block_out_channels");
        int n = widths.length;
        if (n < 1 || n > MAX_LEVELS) {
            throw new IllegalArgumentException("block_out_channels needs 1 to " + MAX_LEVELS + " levels");
        }
        JsonElement h = o.has("num_attention_heads") && !o.get("num_attention_heads").isJsonNull()
                ? o.get("num_attention_heads") : o.get("attention_head_dim");
        int[] heads = new int[n];
        if (h == null || h.isJsonNull()) {
            throw new IllegalArgumentException("no attention_head_dim or num_attention_heads");
        } else if (h.isJsonArray()) {
            heads = ints(o, o.has("num_attention_heads") && !o.get("num_attention_heads").isJsonNull()
                    ? "num_attention_heads" : "attention_head_dim");
        } else {
            java.util.Arrays.fill(heads, bounded(h.getAsInt(), "attention heads", MAX_WIDTH));
        }
        JsonArray types = array(o, "down_block_types");
        if (heads.length != n || types.size() != n) {
            throw new IllegalArgumentException("one head count and one down block type per level");
        }
        boolean[] attention = new boolean[n];
        for (int i = 0; i < n; i++) {
            String t = types.get(i).getAsString();
            if (!t.equals("CrossAttnDownBlock2D") && !t.equals("DownBlock2D")) {
                throw new IllegalArgumentException("down block type " + t + " is not supported");
            }
            attention[i] = t.startsWith("CrossAttn");
        }
        if (o.has("use_linear_projection") && !o.get("use_linear_projection").getAsBoolean()) {
            throw new IllegalArgumentException("use_linear_projection false (SD1.x-style conv projections) is not"
                    + " supported");
        }
        for (String k : new String[] {"class_embed_type", "addition_embed_type", "encoder_hid_dim"}) {
            if (o.has(k) && !o.get(k).isJsonNull()) {
                throw new IllegalArgumentException(k + " is not supported");
            }
        }
        int layers = bounded(integer(o, "layers_per_block", 2), "layers_per_block", MAX_LAYERS);
        int cross = bounded(integer(o, "cross_attention_dim", 1024), "cross_attention_dim", MAX_WIDTH);
        int groups = bounded(integer(o, "norm_num_groups", 32), "norm_num_groups", MAX_WIDTH);
        int in = bounded(integer(o, "in_channels", 4), "in_channels", MAX_WIDTH);
        int out = bounded(integer(o, "out_channels", 4), "out_channels", MAX_WIDTH);
        if (in != out) {
            throw new IllegalArgumentException("in_channels " + in + " differs from out_channels " + out);
        }
        for (int i = 0; i < n; i++) {
            bounded(widths[i], "block_out_channels", MAX_WIDTH);
            if (widths[i] % groups != 0 || widths[i] % heads[i] != 0) {
                throw new IllegalArgumentException("width " + widths[i] + " is not divisible by norm_num_groups "
                        + groups + " and its " + heads[i] + " heads");
            }
        }
        String name = o.has("_name_or_path") ? o.get("_name_or_path").getAsString() : "UNet";
        SdConfig sd = SdConfig.sd21Base();
        return new SdConfig(name, widths, heads, layers, attention, cross, in, sd.vaeWidths(), sd.vaeLayers(),
                sd.vaeNormGroups(), groups);
    }

    /** The config as a diffusers {@code config.json} (the keys {@link #fromJson} reads). */
    public static String toJson(SdConfig c) {
        JsonObject o = new JsonObject();
        o.addProperty("_name_or_path", c.name());
        o.add("block_out_channels", array(c.unetWidths()));
        o.add("attention_head_dim", array(c.unetHeads()));
        o.addProperty("layers_per_block", c.unetLayers());
        JsonArray types = new JsonArray();
        for (boolean a : c.unetAttention()) {
            types.add(a ? "CrossAttnDownBlock2D" : "DownBlock2D");
        }
        o.add("down_block_types", types);
        o.addProperty("cross_attention_dim", c.crossAttentionDim());
        o.addProperty("norm_num_groups", c.unetNormGroups());
        o.addProperty("in_channels", c.latentChannels());
        o.addProperty("out_channels", c.latentChannels());
        o.addProperty("use_linear_projection", true);
        return o.toString();
    }

    private static JsonArray array(int[] v) {
        JsonArray a = new JsonArray();
        for (int x : v) {
            a.add(x);
        }
        return a;
    }

    private static JsonArray array(JsonObject o, String key) {
        if (!o.has(key) || !o.get(key).isJsonArray()) {
            throw new IllegalArgumentException("no " + key + " list");
        }
        return o.getAsJsonArray(key);
    }

    private static int[] ints(JsonObject o, String key) {
        JsonArray a = array(o, key);
        if (a.size() > MAX_LEVELS) {
            throw new IllegalArgumentException(key + " has " + a.size() + " entries (at most " + MAX_LEVELS + ")");
        }
        int[] v = new int[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = bounded(a.get(i).getAsInt(), key, MAX_WIDTH);
        }
        return v;
    }

    private static int integer(JsonObject o, String key, int fallback) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsInt() : fallback;
    }

    private static int bounded(int v, String what, int max) {
        if (v < 1 || v > max) {
            throw new IllegalArgumentException(what + " " + v + " is outside 1.." + max);
        }
        return v;
    }
}
