package org.adcsr.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * libtorch's fused {@code silu} and {@code group_norm}, its oneDNN-free convolution {@code thnn_conv2d}, and its
 * convolution in channels-last memory format ({@code memory_format=2} is {@code torch.channels_last}), which DJL's JNI
 * does not expose, reached through a TorchScript module that this class writes in memory from the source
 * text below (no file is read, nothing else is loaded): one method per op, each one ATen call (plus the memory-format
 * conversions named below). All are differentiable, as any ATen op is.
 *
 * <p>Why: composed of the ops DJL has, SiLU is {@code x · sigmoid(x)} (two kernels and two autograd nodes each way)
 * and GroupNorm a {@code layer_norm} over each group's flattened {@code C/G · H · W} values followed by a
 * per-channel multiply and add, which took 1.8 to 32 times as long as {@code group_norm} forward and backward at
 * 8–16 channels of 128²–256² (README, adcsr-train-vae speed).
 */
public final class FusedOps {
    /** The module's TorchScript source: what {@code torch.jit.script} writes for these methods. */
    static final String SOURCE = String.join("\n",
            "class Fused(Module):",
            "  __parameters__ = []",
            "  __buffers__ = []",
            "  training : bool",
            "  def forward(self: __torch__.Fused,",
            "    x: Tensor) -> Tensor:",
            "    return x",
            "  def silu(self: __torch__.Fused,",
            "    x: Tensor) -> Tensor:",
            "    return torch.silu(x)",
            "  def group_norm(self: __torch__.Fused,",
            "    x: Tensor,",
            "    groups: int,",
            "    weight: Tensor,",
            "    bias: Tensor,",
            "    eps: float,",
            "    narrow: int) -> Tensor:",
            "    y = torch.group_norm(torch.contiguous(x), groups, weight, bias, eps)",
            "    if torch.le(torch.size(x, 1), narrow):",
            "      _0 = torch.is_contiguous(x, 2)",
            "    else:",
            "      _0 = False",
            "    if _0:",
            "      _2 = torch.__not__(torch.is_contiguous(x))",
            "      _1 = _2",
            "    else:",
            "      _1 = False",
            "    if _1:",
            "      y1 = torch.contiguous(y, memory_format=2)",
            "      y0 = y1",
            "    else:",
            "      y0 = y",
            "    return y0",
            "  def slow_conv2d(self: __torch__.Fused,",
            "    x: Tensor,",
            "    weight: Tensor,",
            "    bias: Optional[Tensor],",
            "    kernel: List[int],",
            "    stride: List[int],",
            "    padding: List[int]) -> Tensor:",
            "    return torch.thnn_conv2d(torch.contiguous(x), torch.contiguous(weight), kernel, bias, stride, padding)",
            "  def conv_cl(self: __torch__.Fused,",
            "    x: Tensor,",
            "    weight: Tensor,",
            "    bias: Optional[Tensor],",
            "    stride: List[int],",
            "    padding: List[int]) -> Tensor:",
            "    _0 = torch.contiguous(x, memory_format=2)",
            "    _1 = torch.contiguous(weight, memory_format=2)",
            "    return torch.conv2d(_0, _1, bias, stride, padding)",
            "");

    private static volatile FusedOps instance;

    private final PtSymbolBlock module;
    private final Method run;
    private final Object lib;
    private final Constructor<IValue> wrap;

    private FusedOps() {
        // the module lives as long as the process, in a manager of its own
        PtNDManager m = (PtNDManager) NDManager.newBaseManager();
        try {
            module = JniUtils.loadModule(m, new ByteArrayInputStream(archive()), false, false);
            // PyTorchLibrary.moduleRunMethod(handle, method, ivalues, isTrain, separateCudaStream): DJL's public
            // IValueUtils.runMethod passes isTrain = false, which runs the method without autograd
            Class<?> c = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
            Field f = c.getDeclaredField("LIB");
            f.setAccessible(true);
            lib = f.get(null);
            run = c.getDeclaredMethod("moduleRunMethod", long.class, String.class, long[].class, boolean.class,
                    boolean.class);
            run.setAccessible(true);
            wrap = IValue.class.getDeclaredConstructor(long.class);
            wrap.setAccessible(true);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this DJL version lacks PyTorchLibrary.moduleRunMethod or IValue(long): " + e,
                    e);
        }
    }

    private static FusedOps get() {
        FusedOps f = instance;
        if (f == null) {
            synchronized (FusedOps.class) {
                f = instance;
                if (f == null) {
                    f = new FusedOps();
                    instance = f;
                }
            }
        }
        return f;
    }

    /** {@code F.silu(x) = x · sigmoid(x)} in one kernel each way; the result belongs to {@code x}'s manager. */
    public static NDArray silu(NDArray x) {
        return get().call("silu", x, IValue.from((PtNDArray) x));
    }

    /**
     * {@code F.group_norm(x, groups, weight, bias, eps)} on NCHW {@code x}; {@code weight} and {@code bias} (C) are
     * converted to {@code x}'s type where they differ. A channels-last {@code x} ({@link #convChannelsLast}'s output)
     * is normalised NCHW-contiguous (libtorch's channels-last GroupNorm backward took a quarter of the tiny config's
     * training step); with {@link Convolution#NARROW} channels or fewer its result goes back to channels-last, so
     * that the SiLU after it and the narrow convolution after that see one memory format both ways (SiLU's backward
     * on a channels-last gradient and an NCHW input ran unvectorised, 8 % of that step), while wider ones stay NCHW
     * for the padded layout's convolutions. The result belongs to {@code x}'s manager.
     */
    public static NDArray groupNorm(NDArray x, int groups, NDArray weight, NDArray bias, double eps) {
        NDArray w = weight.getDataType() == x.getDataType() ? weight : weight.toType(x.getDataType(), false);
        NDArray b = bias.getDataType() == x.getDataType() ? bias : bias.toType(x.getDataType(), false);
        try {
            return get().call("group_norm", x, IValue.from((PtNDArray) x), IValue.from(groups),
                    IValue.from((PtNDArray) w), IValue.from((PtNDArray) b), IValue.from(eps),
                    IValue.from(Convolution.NARROW));
        } finally {
            if (w != weight) {
                w.close();
            }
            if (b != bias) {
                b.close();
            }
        }
    }

    /**
     * {@code torch._C._nn.thnn_conv2d}: libtorch's own convolution (im2col and a matrix product each way, in one op
     * with a col2im backward), which never reaches oneDNN; one group. {@code bias} may be null.
     */
    public static NDArray slowConv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW) {
        return convolution("slow_conv2d", x, weight, bias,
                IValue.listFrom(weight.getShape().get(2), weight.getShape().get(3)), IValue.listFrom(stride, stride),
                IValue.listFrom(padH, padW));
    }

    /**
     * {@code F.conv2d(x, weight, bias, stride, (padH, padW))} with input and weight converted to channels-last (NHWC)
     * memory format; one group. oneDNN then runs its NHWC kernels, which never pad channels into blocks: right in both
     * directions where its blocked NCHW kernels are not (README "Known engine issues"), and several times as fast on
     * narrow layers. The result keeps that memory format (an NCHW array with NHWC strides, which every op reads as
     * NCHW): the next convolution, the residual add and SiLU take it without a copy. {@code bias} may be null.
     */
    public static NDArray convChannelsLast(NDArray x, NDArray weight, NDArray bias, int stride, int padH, int padW) {
        return convolution("conv_cl", x, weight, bias, IValue.listFrom(stride, stride), IValue.listFrom(padH, padW));
    }

    /** A convolution method of the module: (x, weight, bias, then {@code rest}). */
    private static NDArray convolution(String method, NDArray x, NDArray weight, NDArray bias, IValue... rest) {
        // DJL has no public None IValue: a missing bias is a zero one (no gradient asked of it)
        NDArray b = bias != null ? bias : x.getManager().zeros(new Shape(weight.getShape().get(0)), x.getDataType());
        IValue[] args = new IValue[3 + rest.length];
        args[0] = IValue.from((PtNDArray) x);
        args[1] = IValue.from((PtNDArray) weight);
        args[2] = IValue.from((PtNDArray) b);
        System.arraycopy(rest, 0, args, 3, rest.length);
        try {
            return get().call(method, x, args);
        } finally {
            if (b != bias) {
                b.close();
            }
        }
    }

    private NDArray call(String method, NDArray like, IValue... args) {
        long[] handles = new long[args.length];
        for (int i = 0; i < args.length; i++) {
            handles[i] = args[i].getHandle();
        }
        try {
            long out = (Long) run.invoke(lib, module.getHandle(), method, handles, JniUtils.isGradMode(), false);
            try (IValue result = wrap.newInstance(out)) {
                return result.toTensor((PtNDManager) like.getManager());
            }
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } finally {
            for (IValue a : args) {
                a.close();
            }
        }
    }

    /** The TorchScript archive ({@code torch.jit.save}'s zip layout) of {@link #SOURCE}. */
    static byte[] archive() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            // data.pkl: pickle protocol 2 of a __torch__.Fused object whose state is {"training": True}
            byte[] data = concat(new byte[] {(byte) 0x80, 2}, ascii("c__torch__\nFused\nq\u0000)\u0081}(X"),
                    new byte[] {8, 0, 0, 0}, ascii("trainingq\u0001\u0088ubq\u0002."));
            stored(zip, "fused/data.pkl", data);
            stored(zip, "fused/code/__torch__.py", SOURCE.getBytes(StandardCharsets.UTF_8));
            stored(zip, "fused/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, "fused/version", ascii("3\n"));
        }
        return bytes.toByteArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] content) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(content.length);
        CRC32 crc = new CRC32();
        crc.update(content);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(content);
        zip.closeEntry();
    }
}
