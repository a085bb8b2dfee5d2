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
                x = Blocks.resnet(o, p + ".resnets." + j, x, width[i], groups, UNET_RESNET_EPS);
                if (c.unetDownAttention()[i]) {
                    x = Blocks.transformer(o, p + ".attentions." + j, x, null, c.unetHeads()[i],
                            groups.applyAsInt(width[i]));
                }
                skips.push(x);
            }
            if (i < n - 1) {
                x = o.conv2d(x, p + ".downsamplers.0.conv", width[i], 3, 2, 1);
                skips.push(x);
            }
        }

        String m = UNET + "mid_block";
        x = Blocks.resnet(o, m + ".resnets.0", x, width[n - 1], groups, UNET_RESNET_EPS);
        x = Blocks.transformer(o, m + ".attentions.0", x, null, c.unetHeads()[n - 1],
                groups.applyAsInt(width[n - 1]));
        x = Blocks.resnet(o, m + ".resnets.1", x, width[n - 1], groups, UNET_RESNET_EPS);

        for (int i = 0; i < n; i++) {
            int level = n - 1 - i;
            String p = UNET + "up_blocks." + i;
            for (int j = 0; j <= layers; j++) {
                x = o.concatChannels(x, skips.pop()); // order [x, skip]
                x = Blocks.resnet(o, p + ".resnets." + j, x, width[level], groups, UNET_RESNET_EPS);
                if (c.unetDownAttention()[level]) {
                    x = Blocks.transformer(o, p + ".attentions." + j, x, null, c.unetHeads()[level],
                            groups.applyAsInt(width[level]));
                }
            }
            if (i < n - 1) {
                x = Blocks.upsample(o, p + ".upsamplers.0.conv", x, width[level]);
            }
        }

        return Blocks.normActConv(o, UNET + "conv_norm_out", UNET + "conv_out", x, groups.applyAsInt(width[0]),
                UNET_RESNET_EPS, c.connectorOutChannels()); // conv_out is the connector
    }

    /** Decoder mid block: resnet, single-head attention, resnet (all GroupNorms eps 1e-6). */
    public static <T> T decoderMid(Ops<T> o, AdcsrConfig c, T x) {
        int g = c.decoderNormGroups();
        int width = o.channels(x);
        String p = DECODER + "mid_block";
        x = Blocks.resnet(o, p + ".resnets.0", x, width, ch -> g, DECODER_EPS);
        x = Blocks.vaeAttention(o, p + ".attentions.0", x, g, DECODER_EPS);
        return Blocks.resnet(o, p + ".resnets.1", x, width, ch -> g, DECODER_EPS);
    }

    /** Decoder {@code conv_in} (latent → mid width); used by the Stage 1/2 feature paths, not at inference. */
    public static <T> T decoderConvIn(Ops<T> o, AdcsrConfig c, T latent) {
        int[] w = c.decoderBlockOutChannels();
        return o.conv2d(latent, DECODER + "conv_in", w[w.length - 1], 3, 1, 1);
    }

    /** Decoder up blocks, {@code conv_norm_out}, SiLU and {@code conv_out}: features → RGB. */
    public static <T> T decoderUp(Ops<T> o, AdcsrConfig c, T x) {
        return Blocks.normActConv(o, DECODER + "conv_norm_out", DECODER + "conv_out", decoderUpBlocks(o, c, x),
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
                x = Blocks.resnet(o, p + ".resnets." + j, x, out, ch -> g, DECODER_EPS);
            }
            if (i < n - 1) {
                x = Blocks.upsample(o, p + ".upsamplers.0.conv", x, out);
            }
        }
        return x;
    }
}
