package org.adcsr.core.model;

import java.util.function.UnaryOperator;

/**
 * The operations the AdcSR network is built from, over an abstract tensor type {@code T}. The forward pass in
 * {@link AdcsrNetwork} is written once against this interface; {@link DjlOps} runs it on DJL arrays and
 * {@link ShapeOps} runs it on shapes alone, which yields the parameter list (names and shapes, the checkpoint keys)
 * and the cost report from the very code that computes the output.
 *
 * <p>Parameters are addressed by checkpoint key: an op called with {@code name} uses {@code name + ".weight"} and
 * {@code name + ".bias"}. Tensors are NCHW images or {@code [B, N, C]} token sequences.
 */
public interface Ops<T> {

    /** Channels (axis 1 of NCHW, or the last axis of a token sequence). */
    int channels(T x);

    /** 2-D convolution with bias: weight {@code [out, in, k, k]}, symmetric zero padding. */
    default T conv2d(T x, String name, int out, int kernel, int stride, int padding) {
        return conv2d(x, name, out, kernel, stride, padding, padding, padding, padding);
    }

    /**
     * 2-D convolution with bias and zero padding that may differ per side (diffusers' VAE {@code Downsample2D} pads
     * only the bottom and the right, by one, before a stride-2 convolution).
     */
    default T conv2d(T x, String name, int out, int kernel, int stride, int padTop, int padBottom, int padLeft,
            int padRight) {
        return conv2d(x, name, out, kernel, stride, padTop, padBottom, padLeft, padRight, true);
    }

    /** 2-D convolution, with a bias {@code [out]} only if {@code bias} (PEFT's LoRA convolutions have none). */
    T conv2d(T x, String name, int out, int kernel, int stride, int padTop, int padBottom, int padLeft, int padRight,
            boolean bias);

    /** Linear layer on the last axis: weight {@code [out, in]}, bias {@code [out]} if {@code bias}. */
    T linear(T x, String name, int out, boolean bias);

    /** GroupNorm over NCHW with affine weight and bias {@code [C]} and the biased variance. */
    T groupNorm(T x, String name, int groups, double eps);

    /** LayerNorm over the last axis with affine weight and bias and the biased variance. */
    T layerNorm(T x, String name, double eps);

    /** {@code x·sigmoid(x)}. */
    T silu(T x);

    /** GEGLU: with {@code a, g} the first and second halves of the last axis, {@code a·GELU(g)}, GELU the erf form. */
    T geglu(T x);

    /**
     * {@code a + b}, where {@code b} has the shape of {@code a}, or is {@code [B, C]} for an NCHW {@code a} and is
     * added to every pixel (a time embedding: diffusers' {@code temb[:, :, None, None]}).
     */
    T add(T a, T b);

    /** {@code s·x} (LoRA's {@code alpha/r} scale). */
    T scale(T x, double s);

    /** Concatenation along channels, {@code [a, b]}. */
    T concatChannels(T a, T b);

    /** Nearest-neighbour ×2 (each pixel becomes a 2×2 block). */
    T upsampleNearest2x(T x);

    /**
     * diffusers' {@code Upsample2D}: nearest ×2, then the 3×3 conv {@code name} (padding 1, bias) to {@code out}
     * channels. An implementation may compute the same function another way (the ONNX graph of adcsr-upscale runs
     * it as four 2×2 sub-pixel convolutions); the parameters are the conv's, as checkpoints store them.
     */
    default T upsampleConv(T x, String name, int out) {
        return conv2d(upsampleNearest2x(x), name, out, 3, 1, 1);
    }

    /** PixelUnshuffle(2): {@code out[c*4 + 2i + j, h, w] = in[c, 2h+i, 2w+j]}. */
    T pixelUnshuffle2(T x);

    /** NCHW to tokens {@code [B, H·W, C]}, token index {@code y·W + x}. */
    T toTokens(T x);

    /** Tokens back to the NCHW shape of {@code like}. */
    T fromTokens(T tokens, T like);

    /**
     * Multi-head attention core: q {@code [B, N, C]} and k, v {@code [B, M, C]} (M = N for self-attention, the
     * text length for cross-attention) are split into {@code heads} heads of {@code C/heads} channels (head m takes
     * channels m·d … m·d+d−1), {@code softmax(q·kᵀ/√d)·v} per head, heads merged in order: {@code [B, N, C]}.
     * {@code name} labels the module for cost reports; the op has no parameters.
     */
    T attention(String name, T q, T k, T v, int heads);

    /**
     * Runs one block of the network on {@code x}. Implementations may free everything the block creates except its
     * result when it returns (autograd keeps what backward needs).
     */
    default T block(T x, UnaryOperator<T> body) {
        return body.apply(x);
    }
}
