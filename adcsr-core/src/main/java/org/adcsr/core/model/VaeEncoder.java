package org.adcsr.core.model;

/**
 * The Stable Diffusion VAE encoder as pure functions over {@link Ops}, following diffusers' {@code Encoder} and
 * {@code AutoencoderKL.quant_conv} with the same blocks as the AdcSR network ({@link Blocks#resnet}, the VAE
 * mid-block attention): parameters are named by the diffusers keys ({@code encoder.conv_in}, {@code
 * encoder.down_blocks.i.resnets.j}, {@code encoder.down_blocks.i.downsamplers.0.conv}, {@code encoder.mid_block…},
 * {@code encoder.conv_norm_out}, {@code encoder.conv_out}, {@code quant_conv}).
 * <pre>
 *   conv_in → for each level: resnets (GroupNorm eps 1e-6), then, but for the last level, pad (0,1,0,1) and a 3×3
 *   stride-2 conv → mid block (resnet, one-head attention, resnet) → GroupNorm, SiLU, conv_out (2·latent) →
 *   quant_conv (1×1)
 * </pre>
 * The result is the posterior's moments: mean and log-variance, {@code latent} channels each, at 1/2^(levels−1) of
 * the input size.
 */
public final class VaeEncoder {
    public static final String ENCODER = "encoder.";
    public static final String QUANT_CONV = "quant_conv";
    private static final double EPS = 1e-6;

    private VaeEncoder() {}

    /**
     * An encoder's architecture.
     *
     * @param blockOutChannels widths per level, e.g. SD's [128, 256, 512, 512]
     * @param layersPerBlock resnets per level (SD: 2)
     * @param latentChannels the latent's channels (SD: 4); conv_out gives twice as many (mean and log-variance)
     * @param normGroups groups of every GroupNorm (SD: 32)
     */
    public record Config(int[] blockOutChannels, int layersPerBlock, int latentChannels, int normGroups) {
        public Config {
            if (blockOutChannels.length < 1 || layersPerBlock < 1 || latentChannels < 1 || normGroups < 1) {
                throw new IllegalArgumentException("an encoder needs a level, a layer, a latent channel and a group");
            }
            for (int c : blockOutChannels) {
                if (c < 1 || c % normGroups != 0) {
                    throw new IllegalArgumentException("encoder width " + c + " is not a multiple of " + normGroups
                            + " groups");
                }
            }
            blockOutChannels = blockOutChannels.clone();
        }

        @Override
        public int[] blockOutChannels() {
            return blockOutChannels.clone();
        }

        /** Stable Diffusion 2.1's VAE encoder: 34,163,664 parameters with quant_conv. */
        public static Config sd() {
            return new Config(new int[] {128, 256, 512, 512}, 2, 4, 32);
        }
    }

    /** RGB in [−1, 1], {@code [B, 3, H, W]} with H and W multiples of 2^(levels−1) → moments {@code [B, 2·latent, …]}. */
    public static <T> T forward(Ops<T> o, Config c, T x) {
        int[] w = c.blockOutChannels();
        int g = c.normGroups();
        x = o.conv2d(x, ENCODER + "conv_in", w[0], 3, 1, 1);
        for (int i = 0; i < w.length; i++) {
            String p = ENCODER + "down_blocks." + i;
            for (int j = 0; j < c.layersPerBlock(); j++) {
                x = Blocks.resnet(o, p + ".resnets." + j, x, w[i], ch -> g, EPS);
            }
            if (i < w.length - 1) {
                // Downsample2D(padding=0): F.pad(x, (0, 1, 0, 1)) then a stride-2 3×3 conv
                x = o.conv2d(x, p + ".downsamplers.0.conv", w[i], 3, 2, 0, 1, 0, 1);
            }
        }
        int top = w[w.length - 1];
        String m = ENCODER + "mid_block";
        x = Blocks.resnet(o, m + ".resnets.0", x, top, ch -> g, EPS);
        x = Blocks.vaeAttention(o, m + ".attentions.0", x, g, EPS);
        x = Blocks.resnet(o, m + ".resnets.1", x, top, ch -> g, EPS);
        x = Blocks.normActConv(o, ENCODER + "conv_norm_out", ENCODER + "conv_out", x, g, EPS,
                2 * c.latentChannels());
        return o.conv2d(x, QUANT_CONV, 2 * c.latentChannels(), 1, 1, 0);
    }
}
