package org.adcsr.core.model;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.IntUnaryOperator;

/**
 * The AdcSR inference network as pure functions over {@link Ops}, following the official {@code forward.py} and
 * diffusers' module definitions (ADCSR.md §3). Parameter names are the checkpoint keys: UNet keys under
 * {@code unet.}, half-decoder keys as stored in {@code halfDecoder.ckpt} ({@code decoder.…}).
 */
public final class AdcsrNetwork {
    public static final String UNET = "unet.";
    public static final String DECODER = "decoder.";

    private static final double UNET_RESNET_EPS = 1e-5;
    private static final double TRANSFORMER_NORM_EPS = 1e-6;
    private static final double LAYER_NORM_EPS = 1e-5;
    private static final double DECODER_EPS = 1e-6;

    private AdcsrNetwork() {
    }

    /** The whole network: LR image in [−1, 1], {@code [B, 3, H, W]} → SR in about [−1, 1], {@code [B, 3, 4H, 4W]}. */
    public static <T> T forward(Ops<T> o, AdcsrConfig c, T lr) {
        T f = student(o, c, lr);
        return decoderUp(o, c, f);
    }

    /**
     * The trained student: PixelUnshuffle → pruned UNet → connector → decoder mid block (the trained copy), giving
     * the features {@code f_student} that Stage 2 distils, {@code [B, mid width, H/2, W/2]} after the mid block.
     */
    public static <T> T student(Ops<T> o, AdcsrConfig c, T lr) {
        return decoderMid(o, c, unet(o, c, o.pixelUnshuffle2(lr)));
    }

    /** Pruned UNet without time and text modules, ending in the connector conv; input is pixel-unshuffled. */
    public static <T> T unet(Ops<T> o, AdcsrConfig c, T x) {
        int n = c.levels();
        int layers = c.unetLayersPerBlock();
        int[] width = c.unetBlockOutChannels();
        IntUnaryOperator groups = AdcsrConfig::unetGroups;

        x = o.conv2d(x, UNET + "conv_in", width[0], 3, 1, 1);
        Deque<T> skips = new ArrayDeque<>();
        skips.push(x);
        for (int i = 0; i < n; i++) {
            String p = UNET + "down_blocks." + i;
            for (int j = 0; j < layers; j++) {
                x = resnet(o, p + ".resnets." + j, x, width[i], groups, UNET_RESNET_EPS);
                if (c.unetDownAttention()[i]) {
                    x = transformer(o, p + ".attentions." + j, x, c.unetHeads()[i]);
                }
                skips.push(x);
            }
            if (i < n - 1) {
                x = o.conv2d(x, p + ".downsamplers.0.conv", width[i], 3, 2, 1);
                skips.push(x);
            }
        }

        String m = UNET + "mid_block";
        x = resnet(o, m + ".resnets.0", x, width[n - 1], groups, UNET_RESNET_EPS);
        x = transformer(o, m + ".attentions.0", x, c.unetHeads()[n - 1]);
        x = resnet(o, m + ".resnets.1", x, width[n - 1], groups, UNET_RESNET_EPS);

        for (int i = 0; i < n; i++) {
            int level = n - 1 - i;
            String p = UNET + "up_blocks." + i;
            for (int j = 0; j <= layers; j++) {
                x = o.concatChannels(x, skips.pop()); // order [x, skip]
                x = resnet(o, p + ".resnets." + j, x, width[level], groups, UNET_RESNET_EPS);
                if (c.unetDownAttention()[level]) {
                    x = transformer(o, p + ".attentions." + j, x, c.unetHeads()[level]);
                }
            }
            if (i < n - 1) {
                x = upsample(o, p + ".upsamplers.0.conv", x, width[level]);
            }
        }

        return normActConv(o, UNET + "conv_norm_out", UNET + "conv_out", x, groups.applyAsInt(width[0]),
                UNET_RESNET_EPS, c.connectorOutChannels()); // conv_out is the connector
    }

    /** Decoder mid block: resnet, single-head attention, resnet (all GroupNorms eps 1e-6). */
    public static <T> T decoderMid(Ops<T> o, AdcsrConfig c, T x) {
        int g = c.decoderNormGroups();
        int width = o.channels(x);
        String p = DECODER + "mid_block";
        x = resnet(o, p + ".resnets.0", x, width, ch -> g, DECODER_EPS);
        x = decoderAttention(o, p + ".attentions.0", x, g);
        return resnet(o, p + ".resnets.1", x, width, ch -> g, DECODER_EPS);
    }

    /** Decoder {@code conv_in} (latent → mid width); used by the Stage 1/2 feature paths, not at inference. */
    public static <T> T decoderConvIn(Ops<T> o, AdcsrConfig c, T latent) {
        int[] w = c.decoderBlockOutChannels();
        return o.conv2d(latent, DECODER + "conv_in", w[w.length - 1], 3, 1, 1);
    }

    /** Decoder up blocks, {@code conv_norm_out}, SiLU and {@code conv_out}: features → RGB. */
    public static <T> T decoderUp(Ops<T> o, AdcsrConfig c, T x) {
        return normActConv(o, DECODER + "conv_norm_out", DECODER + "conv_out", decoderUpBlocks(o, c, x),
                c.decoderNormGroups(), DECODER_EPS, 3);
    }

    /**
     * The decoder after its mid block up to, not including, {@code conv_out}: up blocks, {@code conv_norm_out} and
     * SiLU. Training takes this activation and applies {@code conv_out} itself (LDM's adaptive weight differentiates
     * through {@code conv_out.weight} alone).
     */
    public static <T> T decoderFeatures(Ops<T> o, AdcsrConfig c, T x) {
        return o.silu(o.groupNorm(decoderUpBlocks(o, c, x), DECODER + "conv_norm_out", c.decoderNormGroups(),
                DECODER_EPS));
    }

    private static <T> T decoderUpBlocks(Ops<T> o, AdcsrConfig c, T x) {
        int[] w = c.decoderBlockOutChannels();
        int n = w.length;
        int g = c.decoderNormGroups();
        for (int i = 0; i < n; i++) {
            int out = w[n - 1 - i];
            String p = DECODER + "up_blocks." + i;
            for (int j = 0; j <= c.decoderLayersPerBlock(); j++) {
                x = resnet(o, p + ".resnets." + j, x, out, ch -> g, DECODER_EPS);
            }
            if (i < n - 1) {
                x = upsample(o, p + ".upsamplers.0.conv", x, out);
            }
        }
        return x;
    }

    /**
     * ResnetBlock2D without time embedding: {@code h = conv1(SiLU(norm1(x))); h = conv2(SiLU(norm2(h)));
     * out = h + (Cin == Cout ? x : conv_shortcut(x))}.
     */
    static <T> T resnet(Ops<T> o, String p, T x, int out, IntUnaryOperator groups, double eps) {
        return o.block(x, in -> {
            int c = o.channels(in);
            T h = normActConv(o, p + ".norm1", p + ".conv1", in, groups.applyAsInt(c), eps, out);
            h = normActConv(o, p + ".norm2", p + ".conv2", h, groups.applyAsInt(out), eps, out);
            T shortcut = c == out ? in : o.conv2d(in, p + ".conv_shortcut", out, 1, 1, 0);
            return o.add(h, shortcut);
        });
    }

    /**
     * {@code conv(SiLU(GroupNorm(x)))}, 3×3, as a block of its own, so that the normalised and activated copies are
     * freed as soon as the conv has run (at 512×512 each is 64 MB of a 128×128 tile's working set).
     */
    static <T> T normActConv(Ops<T> o, String norm, String conv, T x, int groups, double eps, int out) {
        return o.block(x, in -> o.conv2d(o.silu(o.groupNorm(in, norm, groups, eps)), conv, out, 3, 1, 1));
    }

    /** Upsample2D: nearest ×2, then a 3×3 conv. */
    static <T> T upsample(Ops<T> o, String conv, T x, int out) {
        return o.block(x, in -> o.conv2d(o.upsampleNearest2x(in), conv, out, 3, 1, 1));
    }

    /**
     * Transformer2DModel with linear projections and one BasicTransformerBlock without cross-attention:
     * {@code h = proj_in(tokens(norm(x))); h += attn1(norm1(h)); h += ff(norm3(h)); out = nchw(proj_out(h)) + x}.
     */
    static <T> T transformer(Ops<T> o, String p, T x, int heads) {
        return o.block(x, in -> {
            int c = o.channels(in);
            T h = o.toTokens(o.groupNorm(in, p + ".norm", AdcsrConfig.unetGroups(c), TRANSFORMER_NORM_EPS));
            h = o.linear(h, p + ".proj_in", c, true);
            String b = p + ".transformer_blocks.0";
            h = o.add(h, selfAttention(o, b + ".attn1", o.layerNorm(h, b + ".norm1", LAYER_NORM_EPS), heads, false));
            T ff = o.linear(o.layerNorm(h, b + ".norm3", LAYER_NORM_EPS), b + ".ff.net.0.proj", 8 * c, true);
            h = o.add(h, o.linear(o.geglu(ff), b + ".ff.net.2", c, true));
            h = o.linear(h, p + ".proj_out", c, true);
            return o.add(o.fromTokens(h, in), in);
        });
    }

    /** diffusers Attention as self-attention: q, k, v projections (bias as given), core, {@code to_out.0}. */
    static <T> T selfAttention(Ops<T> o, String p, T h, int heads, boolean qkvBias) {
        int c = o.channels(h);
        T q = o.linear(h, p + ".to_q", c, qkvBias);
        T k = o.linear(h, p + ".to_k", c, qkvBias);
        T v = o.linear(h, p + ".to_v", c, qkvBias);
        return o.linear(o.attention(p, q, k, v, heads), p + ".to_out.0", c, true);
    }

    /** VAE mid-block attention: GroupNorm, one head over all channels with biased projections, + residual. */
    static <T> T decoderAttention(Ops<T> o, String p, T x, int groups) {
        return o.block(x, in -> {
            T h = o.toTokens(o.groupNorm(in, p + ".group_norm", groups, DECODER_EPS));
            h = selfAttention(o, p, h, 1, true);
            return o.add(o.fromTokens(h, in), in);
        });
    }
}
