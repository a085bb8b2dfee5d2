package org.adcsr.core.model;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import java.util.Arrays;
import org.adcsr.core.BadInputException;

/**
 * Architecture of an AdcSR inference network: the channel-pruned UNet (widths are the widths after pruning) and the
 * half VAE decoder. {@link #paper()} is the network of the paper; small configs exist for tests. Stored as JSON with
 * snake_case names (the same names the reference fixture script uses).
 *
 * @param name a label
 * @param unetInChannels channels after PixelUnshuffle(2) of an RGB image: 12
 * @param unetBlockOutChannels widths of the four UNet levels, e.g. [240, 480, 960, 960]
 * @param unetHeads attention heads per level (never pruned), e.g. [5, 10, 20, 20]; head dim = width / heads
 * @param unetLayersPerBlock resnets per down block (up blocks have one more)
 * @param unetDownAttention whether down block i has transformers; up block i mirrors level n-1-i; mid always has one
 * @param connectorOutChannels output width of the UNet's {@code conv_out}, the connector into the decoder mid block
 * @param decoderBlockOutChannels widths of the decoder levels, e.g. [64, 128, 256, 256]; the last is the mid width
 * @param decoderLayersPerBlock the decoder has layers + 1 resnets per up block
 * @param decoderNormGroups groups of every decoder GroupNorm
 */
public record AdcsrConfig(
        String name,
        int unetInChannels,
        int[] unetBlockOutChannels,
        int[] unetHeads,
        int unetLayersPerBlock,
        boolean[] unetDownAttention,
        int connectorOutChannels,
        int[] decoderBlockOutChannels,
        int decoderLayersPerBlock,
        int decoderNormGroups) {

    /** GroupNorm group counts tried in order by AdcSR's pruning rule: the first that divides the width wins. */
    static final int[] GROUP_RULE = {32, 24, 16, 12, 8, 6, 4, 2, 1};

    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
            .setPrettyPrinting()
            .create();

    /** Most UNet or decoder levels a config may claim (the paper has 4). */
    public static final int MAX_LEVELS = 8;
    /** Widest level a config may claim (the paper's widest is 960, Stable Diffusion's 1280). */
    public static final int MAX_WIDTH = 8192;
    /** Most resnets per block a config may claim (the paper has 2). */
    public static final int MAX_LAYERS_PER_BLOCK = 16;
    /** Most input channels (PixelUnshuffle(2) of RGB gives 12). */
    public static final int MAX_IN_CHANNELS = 64;
    /** Longest name kept. */
    public static final int MAX_NAME = 200;

    public AdcsrConfig {
        // bounds first: every later check, and every list built from a config, then stays small
        require(unetBlockOutChannels.length <= MAX_LEVELS && unetHeads.length <= MAX_LEVELS
                && unetDownAttention.length <= MAX_LEVELS && decoderBlockOutChannels.length <= MAX_LEVELS,
                "more than " + MAX_LEVELS + " levels");
        require(unetLayersPerBlock <= MAX_LAYERS_PER_BLOCK && decoderLayersPerBlock <= MAX_LAYERS_PER_BLOCK,
                "layers per block above " + MAX_LAYERS_PER_BLOCK + " (unet_layers_per_block " + unetLayersPerBlock
                        + ", decoder_layers_per_block " + decoderLayersPerBlock + ")");
        require(unetInChannels <= MAX_IN_CHANNELS, "unet_in_channels " + unetInChannels + " above "
                + MAX_IN_CHANNELS);
        for (int c : unetBlockOutChannels) {
            require(c <= MAX_WIDTH, "unet width " + c + " above " + MAX_WIDTH);
        }
        for (int c : decoderBlockOutChannels) {
            require(c <= MAX_WIDTH, "decoder width " + c + " above " + MAX_WIDTH);
        }
        require(connectorOutChannels > 0 && connectorOutChannels <= MAX_WIDTH,
                "connector_out_channels " + connectorOutChannels + " out of range");
        require(name == null || name.length() <= MAX_NAME, "name longer than " + MAX_NAME + " characters");
        int n = unetBlockOutChannels.length;
        require(n >= 2, "unet_block_out_channels needs at least 2 levels");
        require(unetHeads.length == n && unetDownAttention.length == n,
                "unet_heads and unet_down_attention need one entry per level");
        for (int i = 0; i < n; i++) {
            require(unetBlockOutChannels[i] > 0 && unetHeads[i] > 0 && unetBlockOutChannels[i] % unetHeads[i] == 0,
                    "level " + i + ": width " + unetBlockOutChannels[i] + " is not a multiple of " + unetHeads[i]
                            + " heads");
        }
        require(unetInChannels > 0 && unetLayersPerBlock > 0 && decoderLayersPerBlock > 0, "sizes must be positive");
        require(decoderBlockOutChannels.length >= 1, "decoder_block_out_channels is empty");
        for (int c : decoderBlockOutChannels) {
            require(c > 0 && decoderNormGroups > 0 && c % decoderNormGroups == 0,
                    "decoder width " + c + " is not a multiple of decoder_norm_groups " + decoderNormGroups);
        }
        require(connectorOutChannels == decoderBlockOutChannels[decoderBlockOutChannels.length - 1],
                "connector_out_channels must equal the decoder mid width");
        unetBlockOutChannels = unetBlockOutChannels.clone();
        unetHeads = unetHeads.clone();
        unetDownAttention = unetDownAttention.clone();
        decoderBlockOutChannels = decoderBlockOutChannels.clone();
    }

    /** The paper's network: UNet at 75 % width, half decoder; 456,073,683 parameters. */
    public static AdcsrConfig paper() {
        return new AdcsrConfig("paper", 12, new int[] {240, 480, 960, 960}, new int[] {5, 10, 20, 20}, 2,
                new boolean[] {true, true, true, false}, 256, new int[] {64, 128, 256, 256}, 2, 32);
    }

    /** A tiny network for tests, the same as the committed parity fixture's {@code config_tiny.json}. */
    public static AdcsrConfig tiny() {
        return new AdcsrConfig("tiny", 12, new int[] {8, 16, 32, 32}, new int[] {2, 2, 4, 4}, 2,
                new boolean[] {true, true, true, false}, 16, new int[] {8, 8, 16, 16}, 2, 4);
    }

    public int levels() {
        return unetBlockOutChannels.length;
    }

    /** GroupNorm groups of a UNet norm over {@code channels}: AdcSR's rule, the first of 32, 24, 16, … dividing it. */
    public static int unetGroups(int channels) {
        for (int g : GROUP_RULE) {
            if (channels % g == 0) {
                return g;
            }
        }
        throw new AssertionError("1 divides everything");
    }

    /** Factor by which the network upscales: PixelUnshuffle halves, the decoder doubles levels-1 times. */
    public int scale() {
        return (1 << (decoderBlockOutChannels.length - 1)) / 2;
    }

    /** Input height and width must be multiples of this (PixelUnshuffle and the UNet's stride-2 levels). */
    public int sizeMultiple() {
        return 2 << (levels() - 1);
    }

    public String toJson() {
        return GSON.toJson(this);
    }

    /** Reads a config JSON file; a missing, unreadable or invalid file is one line naming it. */
    public static AdcsrConfig read(java.nio.file.Path file) {
        try {
            return fromJson(java.nio.file.Files.readString(file));
        } catch (java.io.IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")", e);
        } catch (BadInputException e) {
            throw BadInputException.of(file, e.getMessage());
        }
    }

    public static AdcsrConfig fromJson(String json) {
        Raw r;
        try {
            r = GSON.fromJson(json, Raw.class);
        } catch (JsonParseException e) {
            throw new BadInputException("model config: not valid JSON (" + jsonProblem(e) + ")", e);
        }
        if (r == null) {
            throw new BadInputException("model config: empty JSON");
        }
        return new AdcsrConfig(r.name, r.unetInChannels, required(r.unetBlockOutChannels, "unet_block_out_channels"),
                required(r.unetHeads, "unet_heads"), r.unetLayersPerBlock,
                required(r.unetDownAttention, "unet_down_attention"), r.connectorOutChannels,
                required(r.decoderBlockOutChannels, "decoder_block_out_channels"), r.decoderLayersPerBlock,
                r.decoderNormGroups);
    }

    /** Gson's message without Java class names ({@code java.io.EOFException: End of input at …}). */
    private static String jsonProblem(JsonParseException e) {
        String m = e.getMessage() == null ? "unreadable" : e.getMessage();
        m = m.replaceAll("(?:[a-z]\\w*\\.)+[A-Z]\\w*(?:Exception|Error): ", "");
        m = m.replaceFirst("\\s*See https?://\\S+", "");
        return m.isBlank() ? "unreadable" : m;
    }

    /** The JSON form, read field by field so that validation errors stay {@link BadInputException}s. */
    private static final class Raw {
        String name;
        int unetInChannels;
        int[] unetBlockOutChannels;
        int[] unetHeads;
        int unetLayersPerBlock;
        boolean[] unetDownAttention;
        int connectorOutChannels;
        int[] decoderBlockOutChannels;
        int decoderLayersPerBlock;
        int decoderNormGroups;
    }

    private static <T> T required(T v, String field) {
        if (v == null) {
            throw new BadInputException("model config: field " + field + " is missing");
        }
        return v;
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new BadInputException("model config: " + what);
        }
    }

    /** Configs are equal when they describe the same architecture, whatever their names. */
    @Override
    public boolean equals(Object o) {
        return o instanceof AdcsrConfig c && architecture().equals(c.architecture());
    }

    @Override
    public int hashCode() {
        return architecture().hashCode();
    }

    private String architecture() {
        return GSON.toJson(new AdcsrConfig("", unetInChannels, unetBlockOutChannels, unetHeads, unetLayersPerBlock,
                unetDownAttention, connectorOutChannels, decoderBlockOutChannels, decoderLayersPerBlock,
                decoderNormGroups));
    }

    @Override
    public String toString() {
        return name + " unet=" + Arrays.toString(unetBlockOutChannels) + " heads=" + Arrays.toString(unetHeads)
                + " decoder=" + Arrays.toString(decoderBlockOutChannels);
    }
}
