package org.adcsr.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Locale;
import java.util.function.BiPredicate;

/**
 * The one 2-D convolution every network of the suite calls (the AdcSR UNet and decoder through {@code DjlOps}, and
 * LPIPS, DISTS and the FID Inception). It runs in one of three {@link Mode}s, which {@link EngineCheck} picks once
 * per process, before the first convolution: libtorch's own convolution when the self-check finds it correct, else
 * a work-around.
 *
 * <p>Why: on the AMD EPYC (Zen 5, AVX-512) machines this suite is built on, libtorch 2.7.1's oneDNN 3.7.1 direct
 * convolution returns wrong numbers, NaN at times, whenever oneDNN pads the input channels into its blocked layout:
 * more than 16 input channels and not a multiple of 16 (8 when oneDNN is capped at AVX2), kernels larger than 1×1,
 * on every path that reaches oneDNN (batch 2 or more, or batch 1 above 20,480 input elements). README "Known engine
 * issues" has the repro and the figures. {@link Mode#PADDED} hands oneDNN such inputs already zero-padded to a
 * multiple of 16 channels, so it never pads them itself (same numbers, same speed); {@link Mode#GEMM} avoids
 * oneDNN's convolution altogether (im2col and a matrix product). All three are differentiable (composed of
 * autograd-tracked ops) and agree to float32 rounding; gradients are guarded separately ({@link Autograd}).
 */
public final class Convolution {
    /** How {@link #conv2d} computes. */
    public enum Mode {
        /** libtorch's {@code conv2d} (oneDNN on CPU): the fastest. */
        NATIVE,
        /** {@link #NATIVE}, with inputs of more than 8 channels zero-padded to a multiple of {@value #CHANNEL_BLOCK}. */
        PADDED,
        /** im2col by strided slices, then one matrix product per group: no oneDNN convolution (slower). */
        GEMM;

        /** The lower-case name used in messages and reports. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Set by {@link EngineCheck} when it chose {@link EngineCheck.Backward#PADDED} or
     * {@link EngineCheck.Backward#CHANNELS_LAST}: then every convolution computed
     * while autograd records (grad mode on) runs in the training layout ({@link #trainingLayout}), whatever the
     * forward mode, so that oneDNN's backward kernels only ever see it. Grad mode alone decides, not whether an
     * operand requires gradients: DJL answers that for leaves only ({@code hasGradient()} is false for the output
     * of an op), so a convolution of frozen weights on a differentiated input (D's under LoRA) was missed and its
     * unpadded oneDNN backward gave NaN at times (README "Known engine issues").
     */
    static volatile boolean trainingLayout;

    /**
     * Set with {@link #trainingLayout} by {@link EngineCheck} when it chose {@link EngineCheck.Backward#CHANNELS_LAST}:
     * then the training layout runs narrow convolutions ({@value #NARROW} channels or fewer on a side) in
     * channels-last memory format instead of padding them.
     */
    static volatile boolean channelsLast;

    /**
     * Widest side at which the training layout prefers channels-last: measured (2026-12-07, this machine, forward and
     * backward of 4×8→8 at 256², 8→3, 16→8, 16→16 at 64², strided 8→8 and 16→32) 1.5 to 7 times as fast as the
     * padded layout up to 16 channels on a side, and up to twice as slow for 64 channels or more on both.
     */
    static final int NARROW = 16;

    /** The channel multiple {@link Mode#PADDED} pads to: AVX-512's float32 block, a multiple of AVX2's. */
    static final int CHANNEL_BLOCK = 16;

    /** Largest im2col matrix {@link Mode#GEMM} builds at once, in elements (64 MiB of float32); rows go in chunks. */
    static long maxColumns = 16L << 20;

    /**
     * Test hook: where it answers true for (mode, input shape), that mode's result is spoilt with NaN, as the faulty
     * engine does. Lets tests prove that {@link EngineCheck} catches a broken convolution and switches.
     */
    static volatile BiPredicate<Mode, Shape> fault;

    private Convolution() {}

    /**
     * Test hook for the tools' tests: from now on, convolutions for which {@code f} answers true (by mode and input
     * shape) come out NaN, as on a faulty engine; {@code null} removes it. The self-check runs first, so it chooses
     * its modes on the real engine and only the tool meets the fault.
     */
    public static void simulateFault(BiPredicate<Mode, Shape> f) {
        EngineCheck.ensure();
        fault = f;
    }

    /** The mode {@link #conv2d} uses: {@link EngineCheck}'s choice (runs the check if it has not run yet). */
    public static Mode mode() {
        return EngineCheck.ensure().forward();
    }

    /**
     * {@code torch.nn.functional.conv2d(x, weight, bias, stride, (padH, padW), dilation 1, groups)}.
     *
     * @param x NCHW input
     * @param weight (out, in / groups, kh, kw)
     * @param bias (out), or {@code null}
     */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW, int groups) {
        return conv2d(mode(), x, weight, bias, stride, padH, padW, groups);
    }

    /** {@link #conv2d(NDArray, NDArray, NDArray, int, int, int, int)} with equal padding and one group. */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding) {
        return conv2d(mode(), x, weight, bias, stride, padding, padding, 1);
    }

    /** The convolution in a given mode, whatever {@link EngineCheck} chose (the check itself and benchmarks). */
    public static NDArray conv2d(Mode m, NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW,
            int groups) {
        NDArray y;
        if (trainingLayout && JniUtils.isGradMode()) {
            y = trainingLayout(x, weight, bias, stride, padH, padW, groups);
            BiPredicate<Mode, Shape> f = fault;
            return f != null && f.test(m, x.getShape()) ? y.add(Float.NaN) : y;
        }
        switch (m) {
            case NATIVE:
                y = nativeConv(x, weight, bias, stride, padH, padW, groups);
                break;
            case PADDED:
                y = padded(x, weight, bias, stride, padH, padW, groups);
                break;
            default:
                y = gemm(x, weight, bias, stride, padH, padW, groups);
        }
        BiPredicate<Mode, Shape> f = fault;
        return f != null && f.test(m, x.getShape()) ? y.add(Float.NaN) : y;
    }

    private static NDArray nativeConv(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW,
            int groups) {
        return Conv2d.conv2d(x, weight, bias, new Shape(stride, stride), new Shape(padH, padW), new Shape(1, 1),
                groups).singletonOrThrow();
    }

    /**
     * The layout in which oneDNN's backward convolution gets its gradients right on the affected machines (README
     * "Known engine issues"; {@code bench/ConvBackwardPadding.java}): output channels zero-padded to a multiple of
     * {@value #CHANNEL_BLOCK} (the extra outputs, of zero filters, cut off again), and input channels as
     * {@link Mode#PADDED} pads them (above 8 only: the gradients of 3 or 8 unpadded input channels are right once the
     * output is padded, and padding 8 to 16 doubled the work). Strided convolutions, which stay wrong padded in
     * places, run libtorch's own im2col convolution ({@link FusedOps#slowConv2d}, no oneDNN in either direction;
     * 1.4–1.7 times as fast here as {@link #gemm}'s strided slices, whose backward fills a zero input per tap), and
     * grouped ones {@link #gemm}. The sums are the same sums plus exact zeros. With {@link #channelsLast}, narrow
     * convolutions (any stride) run in channels-last memory format instead ({@link FusedOps#convChannelsLast}).
     */
    static NDArray trainingLayout(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW,
            int groups) {
        if (groups != 1) {
            return gemm(x, weight, bias, stride, padH, padW, groups);
        }
        if (channelsLast && Math.min(x.getShape().get(1), weight.getShape().get(0)) <= NARROW) {
            return FusedOps.convChannelsLast(x, weight, bias, stride, padH, padW);
        }
        if (stride != 1) {
            return FusedOps.slowConv2d(x, weight, bias, stride, padH, padW);
        }
        Shape xs = x.getShape();
        Shape ws = weight.getShape();
        long c = xs.get(1);
        long out = ws.get(0);
        // the input as the forward needs it (Mode.PADDED's rule: 8 channels or fewer stay as they are, half or less
        // of the work of padding them); the output always, for the backward's input gradient
        long extraIn = extraChannels(c);
        long extraOut = (CHANNEL_BLOCK - out % CHANNEL_BLOCK) % CHANNEL_BLOCK;
        if (extraIn == 0 && extraOut == 0) {
            return nativeConv(x, weight, bias, stride, padH, padW, 1);
        }
        NDManager m = x.getManager();
        NDArray xp = extraIn == 0 ? x : zeroChannels(x, extraIn);
        NDArray wp = extraIn == 0 ? weight : onto(m, NDArrays.concat(new NDList(weight,
                m.zeros(new Shape(out, extraIn, ws.get(2), ws.get(3)), weight.getDataType())), 1));
        NDArray bp = bias;
        if (extraOut > 0) {
            wp = onto(m, NDArrays.concat(new NDList(wp,
                    m.zeros(new Shape(extraOut, c + extraIn, ws.get(2), ws.get(3)), weight.getDataType())), 0));
            bp = bias == null ? null : onto(m, NDArrays.concat(new NDList(bias,
                    m.zeros(new Shape(extraOut), bias.getDataType())), 0));
        }
        NDArray y = nativeConv(xp, wp, bp, stride, padH, padW, 1);
        return extraOut == 0 ? y : y.get(new NDIndex(":, :{}", out));
    }

    /** NCHW {@code x} with {@code extra} zero channels appended: one {@code constant_pad_nd} (its backward a slice). */
    static NDArray zeroChannels(NDArray x, long extra) {
        return x.pad(new Shape(0, 0, 0, 0, 0, extra), 0);
    }

    /** Zero channels to append to {@code c} channels in {@link Mode#PADDED}: none up to 8 or at a multiple of 16. */
    static long extraChannels(long c) {
        return c <= 8 ? 0 : (CHANNEL_BLOCK - c % CHANNEL_BLOCK) % CHANNEL_BLOCK;
    }

    /**
     * Zero input channels (and zero weight columns for them) up to a multiple of {@value #CHANNEL_BLOCK}; for a
     * depthwise convolution (groups = channels), zero channels with zero filters, whose outputs are cut off again.
     * The sums are the same sums plus exact zeros.
     */
    private static NDArray padded(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW,
            int groups) {
        Shape xs = x.getShape();
        Shape ws = weight.getShape();
        long c = xs.get(1);
        long extra = extraChannels(c);
        boolean depthwise = groups > 1 && groups == c && ws.get(0) == c;
        if (extra == 0 || (groups != 1 && !depthwise)) {
            return nativeConv(x, weight, bias, stride, padH, padW, groups);
        }
        NDManager m = x.getManager();
        NDArray xp = zeroChannels(x, extra);
        if (!depthwise) {
            NDArray wp = onto(m, NDArrays.concat(new NDList(weight,
                    m.zeros(new Shape(ws.get(0), extra, ws.get(2), ws.get(3)), weight.getDataType())), 1));
            return nativeConv(xp, wp, bias, stride, padH, padW, 1);
        }
        NDArray wp = onto(m, NDArrays.concat(new NDList(weight,
                m.zeros(new Shape(extra, ws.get(1), ws.get(2), ws.get(3)), weight.getDataType())), 0));
        NDArray bp = bias == null ? null : onto(m, NDArrays.concat(new NDList(bias,
                m.zeros(new Shape(extra), bias.getDataType())), 0));
        return nativeConv(xp, wp, bp, stride, padH, padW, (int) (c + extra)).get(new NDIndex(":, :{}", c));
    }

    /**
     * Convolution as a matrix product: for output rows {@code r0..r1}, the kh·kw shifted, strided views of the padded
     * input are stacked into columns (B, groups, C/groups·kh·kw, rows·wo) and multiplied by the weights viewed as
     * (groups, out/groups, C/groups·kh·kw). Rows go in chunks of at most {@link #maxColumns} column elements.
     */
    static NDArray gemm(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW, int groups) {
        Shape xs = x.getShape();
        Shape ws = weight.getShape();
        long b = xs.get(0);
        long c = xs.get(1);
        long h = xs.get(2);
        long w = xs.get(3);
        long out = ws.get(0);
        int kh = (int) ws.get(2);
        int kw = (int) ws.get(3);
        long ho = (h + 2L * padH - kh) / stride + 1;
        long wo = (w + 2L * padW - kw) / stride + 1;
        long k = c / groups * kh * kw;
        NDArray wm = onto(x.getManager(), weight.reshape(groups, out / groups, k));
        NDArray y;
        if (kh == 1 && kw == 1 && stride == 1 && padH == 0 && padW == 0) {
            y = wm.matMul(x.reshape(b, groups, c / groups, h * w)).reshape(b, out, h, w);
        } else {
            NDArray xp = padH > 0 || padW > 0 ? x.pad(new Shape(padW, padW, padH, padH), 0) : x;
            long rows = Math.max(1, Math.min(ho, maxColumns / Math.max(1, b * c * kh * kw * wo)));
            NDList parts = new NDList();
            for (long r0 = 0; r0 < ho; r0 += rows) {
                long first = r0;
                long n = Math.min(rows, ho - r0);
                // each chunk's columns are freed before the next is built
                NDArray part = Scopes.scoped(() -> {
                    NDList cols = new NDList();
                    for (int ky = 0; ky < kh; ky++) {
                        for (int kx = 0; kx < kw; kx++) {
                            cols.add(xp.get(new NDIndex(":, :, {}:{}:{}, {}:{}:{}", first * stride + ky,
                                    (first + n - 1) * stride + ky + 1, stride, kx, (wo - 1) * stride + kx + 1,
                                    stride)));
                        }
                    }
                    // (B, C, kh·kw, n, wo) -> (B, groups, C/groups·kh·kw, n·wo): channel-major, as the weights
                    NDArray col = NDArrays.stack(cols, 2).reshape(b, groups, k, n * wo);
                    return wm.matMul(col).reshape(b, out, n, wo);
                });
                parts.add(part);
            }
            y = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 2);
        }
        return bias == null ? y : y.add(onto(x.getManager(), bias.reshape(1, out, 1, 1)));
    }

    /**
     * {@code a}, derived from a weight, moved to the input's manager. DJL puts an operation's result in the manager
     * of its receiver (or first operand): a weight's reshape or concat, and so a product with it, would otherwise
     * live as long as the weights (all of a training run, or every tile of an image) and hold its autograd graph.
     */
    private static NDArray onto(NDManager m, NDArray a) {
        a.attach(m);
        return a;
    }
}
