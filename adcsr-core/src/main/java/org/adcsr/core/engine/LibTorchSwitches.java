package org.adcsr.core.engine;

import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Two process-wide libtorch settings that DJL does not expose, reached through the exported C++ symbols of the
 * libtorch that DJL has loaded (JNA, no code of ours in native form):
 * <ul>
 *   <li>{@code at::globalContext().setUserEnabledMkldnn(bool)}: what {@code torch.backends.mkldnn.enabled} sets
 *       in Python. Off, libtorch computes convolutions with its own im2col + BLAS kernels instead of oneDNN's.
 *       {@link Autograd} turns oneDNN off while gradients are computed, where {@link EngineCheck} found oneDNN's
 *       backward convolutions wrong.</li>
 *   <li>{@code FLAGS_caffe2_log_level}: c10's log threshold ({@code TORCH_CPP_LOG_LEVEL}). Raised to ERROR so that
 *       libtorch's "Could not initialize NNPACK! Reason: Unsupported hardware." (printed on stderr by every small
 *       convolution on CPUs NNPACK does not know, harmless: libtorch then uses its own kernels) does not reach the
 *       user.</li>
 * </ul>
 * Where a symbol is missing (another libtorch build), the switch reports itself unavailable and nothing else
 * changes; {@link EngineCheck} then does without it.
 */
public final class LibTorchSwitches {
    private static final String CONTEXT = "_ZN2at13globalContextEv";
    private static final String SET_MKLDNN = "_ZN2at7Context20setUserEnabledMkldnnEb";
    private static final String GET_MKLDNN = "_ZNK2at7Context17userEnabledMkldnnEv";
    private static final String LOG_LEVEL = "FLAGS_caffe2_log_level";
    /** c10's ERROR severity. */
    private static final int ERROR = 2;

    private static volatile NativeLibrary torch;
    private static volatile NativeLibrary c10;

    private LibTorchSwitches() {}

    private static NativeLibrary torch() {
        if (torch == null) {
            torch = open("libtorch_cpu.so");
        }
        return torch;
    }

    private static NativeLibrary c10() {
        if (c10 == null) {
            c10 = open("libc10.so");
        }
        return c10;
    }

    private static NativeLibrary open(String name) {
        String dir = ai.djl.pytorch.jni.LibUtils.getLibtorchPath(); // throws before DJL has loaded libtorch
        Path lib = Paths.get(dir).resolve(name);
        if (!Files.isRegularFile(lib)) {
            throw new UnsatisfiedLinkError(lib + " not found");
        }
        return NativeLibrary.getInstance(lib.toString()); // the same handle DJL's System.load got
    }

    /** Whether {@link #setOneDnn} can work with this libtorch. */
    public static boolean oneDnnSwitchAvailable() {
        try {
            torch().getFunction(CONTEXT);
            torch().getFunction(SET_MKLDNN);
            torch().getFunction(GET_MKLDNN);
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }

    /** Whether libtorch may use oneDNN (mkldnn) kernels now. */
    public static boolean oneDnn() {
        Pointer ctx = torch().getFunction(CONTEXT).invokePointer(new Object[0]);
        return (torch().getFunction(GET_MKLDNN).invokeInt(new Object[] {ctx}) & 0xff) != 0;
    }

    /** Lets libtorch use oneDNN kernels, or not ({@code torch.backends.mkldnn.enabled = on}). */
    public static void setOneDnn(boolean on) {
        Pointer ctx = torch().getFunction(CONTEXT).invokePointer(new Object[0]);
        torch().getFunction(SET_MKLDNN).invokeVoid(new Object[] {ctx, on ? 1 : 0});
    }

    /** Raises libtorch's C++ log threshold to ERROR (warnings such as NNPACK's are dropped). False if unavailable. */
    public static boolean quietWarnings() {
        try {
            c10().getGlobalVariableAddress(LOG_LEVEL).setInt(0, ERROR);
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }
}
