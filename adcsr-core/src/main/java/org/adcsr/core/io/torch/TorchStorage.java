package org.adcsr.core.io.torch;

import org.adcsr.core.io.DType;

/**
 * One storage of a PyTorch zip checkpoint: the raw little-endian array in entry {@code <prefix>/data/<key>}.
 *
 * @param key   the entry name below {@code data/}
 * @param dtype element type, from the storage type tag ({@code torch.FloatStorage} is F32 …)
 * @param numel number of elements
 */
public record TorchStorage(String key, DType dtype, long numel) {
    /** Size of the storage in bytes. */
    public long byteSize() {
        return Math.multiplyExact(numel, (long) dtype.size());
    }
}
