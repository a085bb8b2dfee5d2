package org.adcsr.core.io;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Writes safetensors files, streaming one tensor at a time.
 *
 * <p>The file is written under a hidden temporary name in the target directory, flushed to disk, and then renamed
 * over the target (atomically where the file system allows). On any failure the temporary file is deleted, so the
 * target name only ever shows a complete file: the previous one or the new one.
 *
 * <p>Layout: the header lists {@code __metadata__} first (when non-empty) and then the tensors in the order given;
 * it is padded with spaces so the data buffer starts at a multiple of 8 bytes; tensor data follows in the same order
 * without gaps.
 *
 * <p>Output dtype {@link DType#F32} or {@link DType#F16}. F16 rounds to nearest even; a finite value that would
 * overflow to infinity in F16 (magnitude 65520 or more) is refused with an {@link IllegalArgumentException} rather than
 * silently stored as infinity. Infinities and NaN are stored as such; values too small for F16 become subnormal or
 * zero.
 */
public final class SafetensorsWriter {
    private static final int BUFFER_BYTES = 1 << 20;

    private SafetensorsWriter() {
    }

    /**
     * One tensor to write. {@code data} is called once, while the tensor is written, and must return exactly
     * numel(shape) values in C order.
     */
    public record Entry(String name, long[] shape, Supplier<float[]> data) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(data, "data");
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public String toString() {
            return name + " " + Arrays.toString(shape);
        }

        /** An entry for an array already in memory. */
        public static Entry of(String name, long[] shape, float[] values) {
            return new Entry(name, shape, () -> values);
        }
    }

    /**
     * Writes {@code entries} to {@code out}, replacing any existing file only once the new one is complete.
     *
     * @param metadata {@code __metadata__} strings; written only when non-empty
     * @param outType {@link DType#F32} or {@link DType#F16}
     * @throws IllegalArgumentException for a bad entry (duplicate or reserved name, negative or oversized shape, a
     *     supplier returning the wrong number of values, an F16 overflow) or an unsupported {@code outType}
     * @throws IOException when writing or renaming fails
     */
    public static void write(Path out, Map<String, String> metadata, List<Entry> entries, DType outType)
            throws IOException {
        if (outType != DType.F32 && outType != DType.F16) {
            throw new IllegalArgumentException("safetensors output dtype must be F32 or F16, not " + outType);
        }
        byte[] header = header(metadata, entries, outType);
        AtomicFiles.write(out, ch -> {
            ByteBuffer start = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            drain(ch, start.putLong(header.length).put(header));
            ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : entries) {
                writeData(ch, buf, e, outType);
            }
            drain(ch, buf);
        });
    }

    /** Writes every tensor of {@code src}, in its order, converted to {@code outType}; see {@link #write}. */
    public static void copy(TensorSource src, Path out, Map<String, String> metadata, DType outType)
            throws IOException {
        List<Entry> entries = new ArrayList<>();
        for (String name : src.names()) {
            entries.add(new Entry(name, src.info(name).shape(), () -> src.readFloats(name)));
        }
        write(out, metadata, entries, outType);
    }

    /** The header JSON, validated against the entries and space-padded to a multiple of 8 bytes. */
    private static byte[] header(Map<String, String> metadata, List<Entry> entries, DType outType) throws IOException {
        StringWriter json = new StringWriter();
        try (JsonWriter w = new JsonWriter(json)) {
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name("__metadata__").beginObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    w.name(m.getKey()).value(m.getValue());
                }
                w.endObject();
            }
            Set<String> seen = new HashSet<>();
            long offset = 0;
            for (Entry e : entries) {
                if (e.name().equals("__metadata__")) {
                    throw new IllegalArgumentException("tensor name __metadata__ is reserved");
                }
                if (!seen.add(e.name())) {
                    throw new IllegalArgumentException("tensor " + SafetensorsReader.quote(e.name()) + " given twice");
                }
                long end = Math.addExact(offset, byteLength(e, outType));
                w.name(e.name()).beginObject();
                w.name("dtype").value(outType.name());
                w.name("shape").beginArray();
                for (long d : e.shape) {
                    w.value(d);
                }
                w.endArray();
                w.name("data_offsets").beginArray().value(offset).value(end).endArray();
                w.endObject();
                offset = end;
            }
            w.endObject();
        }
        byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(utf8, (utf8.length + 7) / 8 * 8);
        Arrays.fill(padded, utf8.length, padded.length, (byte) ' ');
        return padded;
    }

    private static long byteLength(Entry e, DType outType) {
        try {
            long n = 1;
            for (long d : e.shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor " + SafetensorsReader.quote(e.name())
                            + " has a negative dimension in " + Arrays.toString(e.shape));
                }
                n = Math.multiplyExact(n, d);
            }
            return Math.multiplyExact(n, outType.size());
        } catch (ArithmeticException x) {
            throw new IllegalArgumentException("tensor " + SafetensorsReader.quote(e.name()) + " shape "
                    + Arrays.toString(e.shape) + " is too large");
        }
    }

    private static void writeData(FileChannel ch, ByteBuffer buf, Entry e, DType outType) throws IOException {
        float[] values = e.data().get();
        long numel = byteLength(e, outType) / outType.size();
        if (values == null || values.length != numel) {
            throw new IllegalArgumentException("tensor " + SafetensorsReader.quote(e.name()) + " shape "
                    + Arrays.toString(e.shape) + " needs " + numel + " values, the supplier gave "
                    + (values == null ? "null" : values.length));
        }
        for (int i = 0; i < values.length; i++) {
            if (buf.remaining() < 4) {
                drain(ch, buf);
            }
            if (outType == DType.F32) {
                buf.putFloat(values[i]);
            } else {
                short h = Halfs.floatToF16(values[i]);
                if ((h & 0x7fff) == 0x7c00 && Float.isFinite(values[i])) {
                    throw new IllegalArgumentException("tensor " + SafetensorsReader.quote(e.name()) + " value "
                            + values[i] + " at index " + i + " overflows F16");
                }
                buf.putShort(h);
            }
        }
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        buf.clear();
    }
}
