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

    /**
     * {@code v} as a 0-d tensor of {@code x}'s type in memory libtorch allocated (a clone, not a view of Java's).
     * {@code toType(type, true)} alone is not enough: where the type already matches (a float64 network and a
     * double) DJL returns a new array over the same {@code from_blob} memory, which the collector frees once the
     * array that held the buffer is gone.
     */
    public static NDArray scalar(NDArray x, double v) {
        return owned(x.getManager().create(v), x.getDataType());
    }

    /**
     * {@code a} converted to {@code type} as a tensor that libtorch owns, closing {@code a}. Use it for every array
     * made from Java data ({@code NDManager.create(float[])} and the like) that enters differentiated code and is not
     * kept referenced until the backward pass: such an array is a {@code from_blob} view of a Java direct buffer,
     * autograd may save it, and once the array object is unreachable the collector frees the buffer under it. Seen
     * as garbage gradients of the Stage-2 discriminator after a garbage collection, from its timestep features.
     */
    public static NDArray owned(NDArray a, ai.djl.ndarray.types.DataType type) {
        NDArray typed = a.toType(type, false);
        NDArray copy = typed.duplicate();
        if (typed != a) {
            typed.close();
        }
        a.close();
        return copy;
    }
}
