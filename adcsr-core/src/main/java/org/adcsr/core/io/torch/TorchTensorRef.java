package org.adcsr.core.io.torch;

import java.util.Arrays;
import org.adcsr.core.io.DType;

/**
 * A tensor of a PyTorch checkpoint as {@code _rebuild_tensor_v2} describes it: a strided view into a storage. No data
 * is read until asked for. Construction checks that the view stays inside its storage.
 */
public final class TorchTensorRef {
    /** Tensors with more dimensions are rejected (PyTorch itself allows 64). */
    static final int MAX_DIMS = 64;

    private final TorchStorage storage;
    private final long offset;
    private final long[] shape;
    private final long[] stride;
    private final long numel;

    private TorchTensorRef(TorchStorage storage, long offset, long[] shape, long[] stride, long numel) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.stride = stride;
        this.numel = numel;
    }

    /**
     * A view of {@code numel = Π shape} elements at {@code offset + Σ index_i·stride_i} of {@code storage}.
     *
     * @throws PickleException when a number is negative, the product overflows or the view leaves the storage
     */
    static TorchTensorRef of(TorchStorage storage, long offset, long[] shape, long[] stride) {
        if (shape.length != stride.length) {
            throw new PickleException("tensor has " + shape.length + " sizes but " + stride.length + " strides");
        }
        if (shape.length > MAX_DIMS) {
            throw new PickleException("tensor has " + shape.length + " dimensions (at most " + MAX_DIMS + ")");
        }
        if (offset < 0) {
            throw new PickleException("negative storage offset " + offset);
        }
        long numel = 1;
        long last = offset; // index of the last element of the view
        try {
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] < 0 || stride[i] < 0) {
                    throw new PickleException("negative size or stride in tensor of storage " + storage.key());
                }
                numel = Math.multiplyExact(numel, shape[i]);
                if (shape[i] > 0) {
                    last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
                }
            }
        } catch (ArithmeticException e) {
            throw new PickleException("tensor size overflows in storage " + storage.key());
        }
        boolean inside = numel == 0 ? offset <= storage.numel() : last < storage.numel();
        if (!inside) {
            throw new PickleException("tensor view (offset " + offset + ", shape " + Arrays.toString(shape)
                    + ", stride " + Arrays.toString(stride) + ") reaches past the end of storage " + storage.key()
                    + " of " + storage.numel() + " elements");
        }
        return new TorchTensorRef(storage, offset, shape.clone(), stride.clone(), numel);
    }

    public TorchStorage storage() {
        return storage;
    }

    public DType dtype() {
        return storage.dtype();
    }

    /** Offset of the first element in the storage, in elements. */
    public long storageOffset() {
        return offset;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Strides in elements. */
    public long[] stride() {
        return stride.clone();
    }

    public long numel() {
        return numel;
    }

    /** Whether both refer to the same elements of the same storage in the same layout (an alias). */
    public boolean sameView(TorchTensorRef other) {
        return storage.equals(other.storage) && offset == other.offset && Arrays.equals(shape, other.shape)
                && Arrays.equals(stride, other.stride);
    }

    @Override
    public String toString() {
        return "tensor " + storage.dtype() + " " + Arrays.toString(shape) + " in storage " + storage.key();
    }
}
