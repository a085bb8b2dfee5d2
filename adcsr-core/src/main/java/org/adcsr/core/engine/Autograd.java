package org.adcsr.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;

/**
 * Back-propagation as every training step and gradient test of the suite must run it: {@code gc.backward(loss)}
 * under the {@link EngineCheck.Backward} mode the self-check chose. Where libtorch's oneDNN backward convolutions
 * are wrong (README "Known engine issues"), oneDNN is switched off for the duration of the backward pass, so
 * libtorch computes the gradients with its own kernels; the forward pass keeps oneDNN's speed.
 */
public final class Autograd {
    private Autograd() {}

    /**
     * {@code gc.backward(loss)}, correct on this machine.
     *
     * @throws EngineFaultException if no backward mode passed the self-check
     */
    public static void backward(GradientCollector gc, NDArray loss) {
        run(() -> gc.backward(loss));
    }

    /**
     * {@code target.backward(gradient, retain_graph=keepGraph)} inside an open GradientCollector: back-propagates
     * {@code gradient} (the shape of {@code target}) from a non-scalar or intermediate array, keeping the graph for a
     * further backward pass when asked (what {@code torch.autograd.grad(..., retain_graph=True)} is used for, e.g.
     * the adaptive weight of LDM's loss). Gradients accumulate into the leaves.
     */
    public static void backward(NDArray target, NDArray gradient, boolean keepGraph) {
        run(() -> JniUtils.backward((PtNDArray) target, (PtNDArray) gradient, keepGraph, false));
    }

    private static volatile Runnable beforeBackward;

    /**
     * Test hook: {@code r} runs before every backward pass from now on ({@code null} removes it). The tests run a
     * garbage collection there, as a long run does now and then between the passes, to show that no gradient reads
     * memory the collector freed (README "Known engine issues").
     */
    public static void beforeBackward(Runnable r) {
        beforeBackward = r;
    }

    private static void run(Runnable backward) {
        EngineCheck.Result r = EngineCheck.ensure();
        Runnable hook = beforeBackward;
        if (hook != null) {
            hook.run();
        }
        switch (r.backward()) {
            case NATIVE:
            case CHANNELS_LAST:
            case PADDED: // the convolutions were laid out for it in the forward pass
                backward.run();
                return;
            case WITHOUT_ONEDNN:
                synchronized (Autograd.class) { // a process-wide libtorch setting
                    LibTorchSwitches.setOneDnn(false);
                    try {
                        backward.run();
                    } finally {
                        LibTorchSwitches.setOneDnn(true);
                    }
                }
                return;
            default:
                throw new EngineFaultException("libtorch computes wrong gradients on this machine and no"
                        + " work-around passed the self-check (" + String.join("; ", r.findings())
                        + "); see README \"Known engine issues\"");
        }
    }
}
