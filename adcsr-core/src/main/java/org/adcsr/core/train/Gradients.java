package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/** Gradient checks and clipping over a {@link ParameterStore}'s trainable parameters. */
public final class Gradients {
    private Gradients() {}

    /** Sets the gradient of {@code leaf} to exactly zero ({@code grad.zero_()}: also where it held NaN). */
    public static void zero(NDArray leaf) {
        JniUtils.zeroGrad((PtNDArray) leaf);
    }

    /**
     * The global L2 norm of all trainable gradients, {@code ‖(‖g₁‖, ‖g₂‖, …)‖} as {@code torch.nn.utils.clip_grad_norm_}
     * computes it (per-tensor norms in float32, then the norm of those); NaN or infinity if any gradient is not finite.
     */
    public static double globalNorm(ParameterStore store) {
        double sumSquares = 0;
        for (String name : store.trainable()) {
            float n;
            try (NDArray g = store.gradient(name); NDArray norm = g.norm()) {
                n = (float) scalar(norm);
            }
            sumSquares += (double) n * n;
        }
        return (float) Math.sqrt(sumSquares);
    }

    /**
     * {@code torch.nn.utils.clip_grad_norm_(params, maxNorm)}: if the global norm exceeds {@code maxNorm}, every
     * gradient is scaled by {@code maxNorm / (norm + 1e-6)}. Returns the norm before clipping.
     */
    public static double clipGlobalNorm(ParameterStore store, double maxNorm) {
        double norm = globalNorm(store);
        float coef = (float) (maxNorm / (norm + 1e-6));
        if (coef < 1) {
            for (String name : store.trainable()) {
                try (NDArray g = store.gradient(name)) {
                    g.muli(coef);
                }
            }
        }
        return norm;
    }

    /** The first trainable parameter whose gradient holds NaN or infinity, or null if all are finite. */
    public static String firstNonFinite(ParameterStore store) {
        for (String name : store.trainable()) {
            if (!Double.isFinite(maxAbs(store, name))) {
                return name;
            }
        }
        return null;
    }

    /**
     * The largest |gradient| of trainable {@code name} (NaN or infinity if one is not finite). Every array made on the
     * way is closed: they belong to the parameters' manager and would otherwise live as long as the run, a
     * gradient's worth of memory per parameter and step.
     */
    public static double maxAbs(ParameterStore store, String name) {
        try (NDArray g = store.gradient(name); NDArray a = g.abs(); NDArray m = a.max()) {
            return scalar(m);
        }
    }

    /** A one-element array's value as a double; the converted copy, if one is made, is closed. */
    static double scalar(NDArray x) {
        NDArray d = x.toType(DataType.FLOAT64, false);
        try {
            return d.getDouble();
        } finally {
            if (d != x) {
                d.close();
            }
        }
    }
}
