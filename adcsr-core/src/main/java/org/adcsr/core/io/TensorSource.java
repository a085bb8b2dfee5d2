package org.adcsr.core.io;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A read-only set of named tensors, read lazily one tensor at a time (a safetensors file, the tensors of a PyTorch
 * checkpoint, or a prefix-filtered view of either). Names keep the order of the file.
 *
 * <p>Implementations never execute anything from the file and fail with {@link org.adcsr.core.BadInputException}
 * naming the file on malformed input.
 */
public interface TensorSource extends AutoCloseable {

    /** The file this source reads (for messages). */
    Path path();

    /** The file the tensor {@code name} comes from (for messages): {@link #path()} unless this view merges files. */
    default Path pathOf(String name) {
        return path();
    }

    /** The name the tensor {@code name} has in its file (for messages): {@code name} unless this view renames. */
    default String originalName(String name) {
        return name;
    }

    /** Tensor names in file order. */
    List<String> names();

    default boolean contains(String name) {
        return info(name) != null;
    }

    /** Info of one tensor, or {@code null} when absent. */
    TensorInfo info(String name);

    /**
     * The tensor's elements as F32 in C (row-major) order, whatever the stored type (F16 and BF16 widened, F64
     * narrowed, integers converted) and whatever the stored strides.
     *
     * @throws IllegalArgumentException when the name is absent
     */
    float[] readFloats(String name);

    /** Free-form string metadata ({@code __metadata__} for safetensors); empty when the format has none. */
    Map<String, String> metadata();

    /** A view holding only the tensors whose names start with {@code prefix}, with the prefix removed. */
    default TensorSource withPrefix(String prefix) {
        return PrefixedTensorSource.of(this, prefix);
    }

    @Override
    void close();
}
