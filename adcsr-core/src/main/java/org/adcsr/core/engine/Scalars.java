package org.adcsr.core.engine;

import ai.djl.ndarray.NDArray;

/**
 * Multiplying or dividing by a number in code that autograd differentiates. DJL's {@code mul(Number)} and
 * {@code div(Number)} wrap the number in a tensor over a Java direct buffer ({@code torch.from_blob}) and close it
 * at once; autograd keeps that tensor for the backward pass (the gradient of {@code x·v} is {@code g·v}), and once the
 * garbage collector reclaims the buffer the backward pass multiplies by whatever the freed memory holds. Seen as
 * wrong gradients at random, upstream of an attention's query scale in about half the runs of a whole Stage-1 step
 * (README "Known engine issues"). These functions make the number a tensor libtorch owns.
 */
public final class Scalars {
    private Scalars() {}

    /** {@code x · v}, safe to back-propagate. */
    public static NDArray mul(NDArray x, double v) {
        try (NDArray s = scalar(x, v)) {
            return x.mul(s);
        }
    }

    /** {@code x / v}, safe to back-propagate. */
    public static NDArray div(NDArray x, double v) {
        try (NDArray s = scalar(x, v)) {
            return x.div(s);
        }
    }

    /** {@code v} as a 0-d tensor of {@code x}'s type in memory libtorch allocated (a copy, not a view of Java's). */
    static NDArray scalar(NDArray x, double v) {
        try (NDArray java = x.getManager().create(v)) {
            return java.toType(x.getDataType(), true);
        }
    }
}
