package org.adcsr.core.io.torch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.Halfs;

/**
 * Reads one strided view of a storage entry as F32 in C order with positioned reads. A contiguous view is read in
 * chunks; any other view reads the span of the storage it covers once and gathers from memory, unless that span is
 * much larger than the view, in which case it reads element by element.
 */
final class StridedReader {
    private static final int CHUNK_BYTES = 8 << 20;
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final FileChannel channel;
    private final Path file;

    StridedReader(FileChannel channel, Path file) {
        this.channel = channel;
        this.file = file;
    }

    /** The elements of {@code ref}, whose storage bytes start at {@code dataOffset} in the file. */
    float[] read(TorchTensorRef ref, long dataOffset) throws IOException {
        if (ref.numel() > MAX_ARRAY) {
            throw BadInputException.of(file, ref + " has " + ref.numel() + " elements, too many for one float array");
        }
        float[] out = new float[(int) ref.numel()];
        if (out.length == 0) {
            return out;
        }
        DType dtype = ref.dtype();
        long base = dataOffset + ref.storageOffset() * dtype.size();
        long[][] dims = coalesce(ref.shape(), ref.stride());
        long[] shape = dims[0];
        long[] stride = dims[1];
        if (shape.length == 0 || shape.length == 1 && stride[0] == 1) {
            readContiguous(base, dtype, out);
            return out;
        }
        long span = 1;
        for (int i = 0; i < shape.length; i++) {
            span += (shape[i] - 1) * stride[i];
        }
        if (span <= 2L * out.length + (1 << 16) && span * dtype.size() <= MAX_ARRAY) {
            ByteBuffer bytes = readAt(base, (int) (span * dtype.size()));
            gather(shape, stride, index -> get(bytes, dtype, (int) index * dtype.size()), out);
        } else {
            ByteBuffer one = ByteBuffer.allocate(dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
            gather(shape, stride, index -> {
                one.clear();
                StoredZip.readFully(channel, one, base + index * dtype.size(), file);
                return get(one, dtype, 0);
            }, out);
        }
        return out;
    }

    /** Drops size-1 dimensions and merges dimensions that are contiguous with the next one. */
    static long[][] coalesce(long[] shape, long[] stride) {
        List<long[]> dims = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) {
                continue;
            }
            if (!dims.isEmpty()) {
                long[] prev = dims.get(dims.size() - 1);
                if (prev[1] == shape[i] * stride[i]) {
                    prev[0] *= shape[i];
                    prev[1] = stride[i];
                    continue;
                }
            }
            dims.add(new long[] {shape[i], stride[i]});
        }
        long[][] out = new long[2][dims.size()];
        for (int i = 0; i < dims.size(); i++) {
            out[0][i] = dims.get(i)[0];
            out[1][i] = dims.get(i)[1];
        }
        return out;
    }

    private interface ElementAt {
        float at(long storageIndex) throws IOException;
    }

    /** Visits the view in C order (an odometer over the dimensions) and stores each element. */
    private static void gather(long[] shape, long[] stride, ElementAt source, float[] out) throws IOException {
        int n = shape.length;
        long[] index = new long[n];
        long position = 0;
        for (int k = 0; k < out.length; k++) {
            out[k] = source.at(position);
            for (int d = n - 1; d >= 0; d--) {
                if (++index[d] < shape[d]) {
                    position += stride[d];
                    break;
                }
                position -= (index[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
    }

    private void readContiguous(long base, DType dtype, float[] out) throws IOException {
        int perChunk = CHUNK_BYTES / dtype.size();
        for (int done = 0; done < out.length; ) {
            int n = Math.min(perChunk, out.length - done);
            ByteBuffer bytes = readAt(base + (long) done * dtype.size(), n * dtype.size());
            for (int i = 0; i < n; i++) {
                out[done + i] = get(bytes, dtype, i * dtype.size());
            }
            done += n;
        }
    }

    private ByteBuffer readAt(long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        StoredZip.readFully(channel, buffer, position, file);
        return buffer;
    }

    private static float get(ByteBuffer b, DType dtype, int at) {
        return switch (dtype) {
            case F32 -> b.getFloat(at);
            case F64 -> (float) b.getDouble(at);
            case F16 -> Halfs.f16ToFloat(b.getShort(at));
            case BF16 -> Halfs.bf16ToFloat(b.getShort(at));
            case I64 -> (float) b.getLong(at);
            case I32 -> (float) b.getInt(at);
            case I16 -> b.getShort(at);
            case I8 -> b.get(at);
            case U8 -> b.get(at) & 0xff;
            case BOOL -> b.get(at) != 0 ? 1f : 0f;
        };
    }
}
