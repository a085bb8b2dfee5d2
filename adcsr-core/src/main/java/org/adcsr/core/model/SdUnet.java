package org.adcsr.core.model;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.IntUnaryOperator;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.sd.SdConfig;

/**
 * The Stable Diffusion UNet, diffusers' {@code UNet2DConditionModel} (v0.32) as SD2.1-base configures it, over
 * {@link Ops}, from the same {@link Blocks} as the AdcSR student: time embedding, CrossAttnDownBlock2D ×(n−1) and a
 * plain DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D then CrossAttnUpBlock2D ×(n−1), GroupNorm, SiLU,
 * {@code conv_out}. Parameter names are the diffusers keys ({@code ../shared/reference/sd21_unet_keys.txt}).
 *
 * <p>SD2.1's {@code attention_head_dim} [5, 10, 20, 20] is, by diffusers' legacy naming, the number of heads
 * ({@link SdConfig#unetHeads()}), so every head is 64 channels wide. Transformers use linear projections, GEGLU
 * feed-forward, no attention upcast (fp32 throughout). Resnet GroupNorms use eps 1e-5, transformer input norms
 * 1e-6, LayerNorms 1e-5.
 *
 * <p>In Stage 2 the UNet is both the teacher (OSEDiff, 4 latent channels in) and, with {@code conv_in} widened to the
 * student's feature width and LoRA on top ({@link LoraOps}), the discriminator; {@code conv_in}'s input width is
 * whatever the sample has.
 */
public final class SdUnet {
    private static final double RESNET_EPS = 1e-5;
    /** {@code max_period} of the sinusoidal timestep embedding. */
    private static final double MAX_PERIOD = 10000;

    private SdUnet() {
    }

    /**
     * The UNet's output (the ε prediction, {@code [B, latent channels, H, W]}).
     *
     * @param sample {@code [B, C, H, W]}, H and W multiples of 2^(levels−1)
     * @param timestepFeatures the sinusoidal features of the timesteps, {@code [B, first width]}
     *     ({@link #timestepFeatures})
     * @param context the text embedding {@code encoder_hidden_states}, {@code [B, M, cross-attention width]}
     */
    public static <T> T forward(Ops<T> o, SdConfig c, T sample, T timestepFeatures, T context) {
        int[] w = c.unetWidths();
        int n = w.length;
        int layers = c.unetLayers();
        IntUnaryOperator groups = ch -> c.unetNormGroups();
        T temb = timeEmbedding(o, c, timestepFeatures);

        T x = o.conv2d(sample, "conv_in", w[0], 3, 1, 1);
        Deque<T> skips = new ArrayDeque<>();
        skips.push(x);
        for (int i = 0; i < n; i++) {
            String p = "down_blocks." + i;
            for (int j = 0; j < layers; j++) {
                x = Blocks.resnet(o, p + ".resnets." + j, x, temb, w[i], groups, RESNET_EPS);
                if (c.unetAttention()[i]) {
                    x = Blocks.transformer(o, p + ".attentions." + j, x, context, c.unetHeads()[i], c.unetNormGroups());
                }
                skips.push(x);
            }
            if (i < n - 1) {
                x = o.conv2d(x, p + ".downsamplers.0.conv", w[i], 3, 2, 1);
                skips.push(x);
            }
        }

        x = Blocks.resnet(o, "mid_block.resnets.0", x, temb, w[n - 1], groups, RESNET_EPS);
        x = Blocks.transformer(o, "mid_block.attentions.0", x, context, c.unetHeads()[n - 1], c.unetNormGroups());
        x = Blocks.resnet(o, "mid_block.resnets.1", x, temb, w[n - 1], groups, RESNET_EPS);

        for (int i = 0; i < n; i++) {
            int level = n - 1 - i;
            String p = "up_blocks." + i;
            for (int j = 0; j <= layers; j++) {
                x = o.concatChannels(x, skips.pop()); // order [x, skip]
                x = Blocks.resnet(o, p + ".resnets." + j, x, temb, w[level], groups, RESNET_EPS);
                if (c.unetAttention()[level]) {
                    x = Blocks.transformer(o, p + ".attentions." + j, x, context, c.unetHeads()[level],
                            c.unetNormGroups());
                }
            }
            if (i < n - 1) {
                x = Blocks.upsample(o, p + ".upsamplers.0.conv", x, w[level]);
            }
        }
        return Blocks.normActConv(o, "conv_norm_out", "conv_out", x, c.unetNormGroups(), RESNET_EPS,
                c.latentChannels());
    }

    /** {@code time_embedding}: {@code linear_2(SiLU(linear_1(features)))}, {@code [B, 4 × first width]}. */
    public static <T> T timeEmbedding(Ops<T> o, SdConfig c, T timestepFeatures) {
        int t = c.timeEmbedDim();
        return o.linear(o.silu(o.linear(timestepFeatures, "time_embedding.linear_1", t, true)),
                "time_embedding.linear_2", t, true);
    }

    /**
     * diffusers' {@code get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0)}: with
     * {@code f_i = exp(−ln(10000)·i/(dim/2))}, row b is {@code [cos(t_b·f_0) … cos(t_b·f_{h−1}), sin(t_b·f_0) …]}.
     * Computed in double; torch computes it in float32, a difference of float32 rounding (the arguments reach
     * 999 rad, where one float32 ulp is 6e-5).
     *
     * @return {@code [t.length, dim]}, row-major
     */
    public static double[] timestepFeatures(double[] t, int dim) {
        int half = dim / 2;
        double[] out = new double[t.length * dim];
        for (int b = 0; b < t.length; b++) {
            for (int i = 0; i < half; i++) {
                double arg = t[b] * Math.exp(-Math.log(MAX_PERIOD) * i / half);
                out[b * dim + i] = Math.cos(arg);
                out[b * dim + half + i] = Math.sin(arg);
            }
        }
        return out;
    }

    /**
     * The UNet's parameters for a sample of {@code inChannels} channels (4 for SD; the discriminator's widened
     * {@code conv_in} takes the student's feature width), in forward order, which is the diffusers state-dict order.
     */
    public static List<TensorInfo> parameters(SdConfig c, int inChannels) {
        return parameters(new ShapeOps(), c, inChannels);
    }

    /** {@link #parameters(SdConfig, int)} through a given {@link ShapeOps} (or a {@link LoraOps} over one). */
    public static List<TensorInfo> parameters(Ops<long[]> o, SdConfig c, int inChannels) {
        int m = 1 << (c.unetWidths().length - 1);
        forward(o, c, new long[] {1, inChannels, m, m}, new long[] {1, c.unetWidths()[0]},
                new long[] {1, 1, c.crossAttentionDim()});
        return shapesOf(o).parameters();
    }

    private static ShapeOps shapesOf(Ops<long[]> o) {
        if (o instanceof ShapeOps s) {
            return s;
        }
        if (o instanceof LoraOps<long[]> l) {
            return shapesOf(l.base());
        }
        throw new IllegalArgumentException("not a shape run: " + o.getClass().getSimpleName());
    }
}
