package org.adcsr.core.sd;

import java.util.Arrays;

/**
 * The Stable Diffusion architecture that {@link Pruner} reads: the UNet and the VAE, in diffusers terms
 * (CHECKPOINTS.md §5). {@link #sd21Base()} is the only one the tool accepts; small ones exist for tests.
 *
 * @param unetWidths UNet {@code block_out_channels}, e.g. [320, 640, 1280, 1280]
 * @param unetHeads attention heads per level ({@code attention_head_dim} of SD2.1, which are head counts)
 * @param unetLayers resnets per down block ({@code layers_per_block}); up blocks have one more
 * @param unetAttention whether down block i (and up block n-1-i) has transformers: CrossAttnDown or Down
 * @param crossAttentionDim width of the text embedding that {@code attn2.to_k/to_v} read (1024 for SD2.x)
 * @param latentChannels latent channels (4)
 * @param vaeWidths VAE {@code block_out_channels}, e.g. [128, 256, 512, 512]
 * @param vaeLayers VAE {@code layers_per_block}; decoder up blocks have one more resnet
 * @param vaeNormGroups VAE {@code norm_num_groups}, also used by the pruned decoder
 * @param unetNormGroups UNet {@code norm_num_groups} (32 in SD; smaller only in test configs)
 */
public record SdConfig(String name, int[] unetWidths, int[] unetHeads, int unetLayers, boolean[] unetAttention,
        int crossAttentionDim, int latentChannels, int[] vaeWidths, int vaeLayers, int vaeNormGroups,
        int unetNormGroups) {

    /** A config with SD's 32 UNet norm groups. */
    public SdConfig(String name, int[] unetWidths, int[] unetHeads, int unetLayers, boolean[] unetAttention,
            int crossAttentionDim, int latentChannels, int[] vaeWidths, int vaeLayers, int vaeNormGroups) {
        this(name, unetWidths, unetHeads, unetLayers, unetAttention, crossAttentionDim, latentChannels, vaeWidths,
                vaeLayers, vaeNormGroups, 32);
    }

    public SdConfig {
        unetWidths = unetWidths.clone();
        unetHeads = unetHeads.clone();
        unetAttention = unetAttention.clone();
        vaeWidths = vaeWidths.clone();
        if (unetHeads.length != unetWidths.length || unetAttention.length != unetWidths.length) {
            throw new IllegalArgumentException("one head count and attention flag per UNet level");
        }
    }

    /** stabilityai/stable-diffusion-2-1-base. */
    public static SdConfig sd21Base() {
        return new SdConfig("SD2.1-base", new int[] {320, 640, 1280, 1280}, new int[] {5, 10, 20, 20}, 2,
                new boolean[] {true, true, true, false}, 1024, 4, new int[] {128, 256, 512, 512}, 2, 32);
    }

    /** Width of the time embedding ({@code time_embedding.linear_1} output): 4 × the first UNet width. */
    public int timeEmbedDim() {
        return 4 * unetWidths[0];
    }

    @Override
    public int[] unetWidths() {
        return unetWidths.clone();
    }

    @Override
    public int[] unetHeads() {
        return unetHeads.clone();
    }

    @Override
    public boolean[] unetAttention() {
        return unetAttention.clone();
    }

    @Override
    public int[] vaeWidths() {
        return vaeWidths.clone();
    }

    @Override
    public String toString() {
        return name + " unet=" + Arrays.toString(unetWidths) + " vae=" + Arrays.toString(vaeWidths);
    }
}
