package org.adcsr.core.model;

import java.util.function.IntUnaryOperator;

/**
 * The building blocks of every network in the suite, written once over {@link Ops}: diffusers' {@code
 * ResnetBlock2D}, {@code Transformer2DModel} with one {@code BasicTransformerBlock}, {@code Attention}, {@code
 * Upsample2D} and the VAE's single-head attention. The AdcSR student and half decoder ({@link AdcsrNetwork}), the SD
 * VAE encoder ({@link VaeEncoder}) and the SD UNet ({@link SdUnet}) are compositions of these. Parameter names are
 * diffusers' module names under the prefix {@code p}.
 */
public final class Blocks {
    /** GroupNorm eps of a transformer's input norm (diffusers {@code Transformer2DModel}). */
    public static final double TRANSFORMER_NORM_EPS = 1e-6;
    /** LayerNorm eps inside {@code BasicTransformerBlock}. */
    public static final double LAYER_NORM_EPS = 1e-5;

    private Blocks() {
    }

    /** ResnetBlock2D without time embedding ({@link #resnet(Ops, String, Object, Object, int, IntUnaryOperator, double)}). */
    public static <T> T resnet(Ops<T> o, String p, T x, int out, IntUnaryOperator groups, double eps) {
        return resnet(o, p, x, null, out, groups, eps);
    }

    /**
     * ResnetBlock2D: {@code h = conv1(SiLU(norm1(x))); h += time_emb_proj(SiLU(temb))} (only with a time embedding
     * {@code temb} {@code [B, T]}); {@code h = conv2(SiLU(norm2(h))); out = h + (Cin == Cout ? x : conv_shortcut(x))}.
     */
    public static <T> T resnet(Ops<T> o, String p, T x, T temb, int out, IntUnaryOperator groups, double eps) {
        return o.block(x, in -> {
            int c = o.channels(in);
            T h = normActConv(o, p + ".norm1", p + ".conv1", in, groups.applyAsInt(c), eps, out);
            if (temb != null) {
                h = o.add(h, o.linear(o.silu(temb), p + ".time_emb_proj", out, true));
            }
            h = normActConv(o, p + ".norm2", p + ".conv2", h, groups.applyAsInt(out), eps, out);
            T shortcut = c == out ? in : o.conv2d(in, p + ".conv_shortcut", out, 1, 1, 0);
            return o.add(h, shortcut);
        });
    }

    /**
     * {@code conv(SiLU(GroupNorm(x)))}, 3×3, as a block of its own, so that the normalised and activated copies are
     * freed as soon as the conv has run (at 512×512 each is 64 MB of a 128×128 tile's working set).
     */
    public static <T> T normActConv(Ops<T> o, String norm, String conv, T x, int groups, double eps, int out) {
        return o.block(x, in -> o.conv2d(o.silu(o.groupNorm(in, norm, groups, eps)), conv, out, 3, 1, 1));
    }

    /** Upsample2D: nearest ×2, then a 3×3 conv. */
    public static <T> T upsample(Ops<T> o, String conv, T x, int out) {
        return o.block(x, in -> o.upsampleConv(in, conv, out));
    }

    /**
     * Transformer2DModel with linear projections and one BasicTransformerBlock:
     * {@code h = proj_in(tokens(norm(x))); h += attn1(norm1(h)); h += attn2(norm2(h), context); h += ff(norm3(h));
     * out = nchw(proj_out(h)) + x}. Without a {@code context} ({@code [B, M, D]}, the text embedding) there is no
     * {@code attn2}: the AdcSR student's transformers, whose cross-attention was removed.
     */
    public static <T> T transformer(Ops<T> o, String p, T x, T context, int heads, int groups) {
        return o.block(x, in -> {
            int c = o.channels(in);
            T h = o.toTokens(o.groupNorm(in, p + ".norm", groups, TRANSFORMER_NORM_EPS));
            h = o.linear(h, p + ".proj_in", c, true);
            String b = p + ".transformer_blocks.0";
            T n1 = o.layerNorm(h, b + ".norm1", LAYER_NORM_EPS);
            h = o.add(h, attention(o, b + ".attn1", n1, n1, heads, false));
            if (context != null) {
                h = o.add(h, attention(o, b + ".attn2", o.layerNorm(h, b + ".norm2", LAYER_NORM_EPS), context, heads,
                        false));
            }
            T ff = o.linear(o.layerNorm(h, b + ".norm3", LAYER_NORM_EPS), b + ".ff.net.0.proj", 8 * c, true);
            h = o.add(h, o.linear(o.geglu(ff), b + ".ff.net.2", c, true));
            h = o.linear(h, p + ".proj_out", c, true);
            return o.add(o.fromTokens(h, in), in);
        });
    }

    /**
     * diffusers Attention: {@code to_out.0(core(to_q(h), to_k(context), to_v(context)))}, q/k/v biases as given;
     * self-attention when {@code context} is {@code h}, cross-attention otherwise ({@code to_k}, {@code to_v} read
     * the context's width).
     */
    public static <T> T attention(Ops<T> o, String p, T h, T context, int heads, boolean qkvBias) {
        int c = o.channels(h);
        T q = o.linear(h, p + ".to_q", c, qkvBias);
        T k = o.linear(context, p + ".to_k", c, qkvBias);
        T v = o.linear(context, p + ".to_v", c, qkvBias);
        return o.linear(o.attention(p, q, k, v, heads), p + ".to_out.0", c, true);
    }

    /** VAE mid-block attention: GroupNorm, one head over all channels with biased projections, + residual. */
    public static <T> T vaeAttention(Ops<T> o, String p, T x, int groups, double eps) {
        return o.block(x, in -> {
            T h = o.toTokens(o.groupNorm(in, p + ".group_norm", groups, eps));
            h = attention(o, p, h, h, 1, true);
            return o.add(o.fromTokens(h, in), in);
        });
    }
}
