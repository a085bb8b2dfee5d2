package org.adcsr.core.io;

import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;

/**
 * Reads a safetensors file: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data buffer.
 *
 * <p>{@link #open} validates the whole header the way the reference Rust implementation does: a header of at most
 * {@link #MAX_HEADER_BYTES} bytes that fits in the file; a JSON object whose members are tensors
 * ({@code dtype}, {@code shape}, {@code data_offsets}; other members are ignored) and an optional
 * {@code __metadata__} object of strings; known dtypes; non-negative dimensions; {@code end - begin} equal to the
 * element count times the element size (overflow counts as malformed); and, sorted by offsets, tensors that tile the
 * data buffer exactly from its start to the end of the file, without gaps or overlaps. Duplicate names are refused.
 * Every violation is a {@link BadInputException} naming the file.
 *
 * <p>Tensor data is read lazily by memory-mapping the tensor's own region, so files over 2 GiB work. A single tensor
 * is limited only by what a Java array (for {@link #readFloats}) or a {@link ByteBuffer} (for {@link #readRaw}) can
 * hold. Instances are safe for concurrent reads; {@link #close} closes the file.
 */
public final class SafetensorsReader implements TensorSource {
    /** Largest header accepted, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";
    /** Bytes mapped at once by {@link #readFloats}: a multiple of every element size, well below 2 GiB. */
    private static final int MAP_CHUNK_BYTES = 1 << 30;

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Stored> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;

    /** One tensor's header entry; offsets are relative to the data buffer. */
    private record Stored(TensorInfo info, long begin, long end) {
    }

    private SafetensorsReader(Path path, FileChannel channel, long dataStart, Map<String, Stored> tensors,
            Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.names = List.copyOf(tensors.keySet());
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    /**
     * Opens and validates a safetensors file; no tensor data is read yet.
     *
     * @throws BadInputException when the file cannot be opened or is not a well-formed safetensors file
     */
    public static SafetensorsReader open(Path path) {
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw BadInputException.of(path, "cannot open: " + describe(e), e);
        }
        try {
            return parse(path, channel);
        } catch (RuntimeException e) {
            closeQuietly(channel, e);
            throw e;
        }
    }

    private static SafetensorsReader parse(Path path, FileChannel channel) {
        try {
            long size = channel.size();
            if (size < 8) {
                throw BadInputException.of(path, "not a safetensors file: " + size + " bytes, too short for a header");
            }
            ByteBuffer start = readFully(channel, 0, (int) Math.min(size, 9));
            long headerLength = start.duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong();
            String kind = otherFormat(start);
            if (kind != null) {
                throw BadInputException.of(path, "not a safetensors file: " + kind);
            }
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw BadInputException.of(path, "not a safetensors file: its first 8 bytes give a header of "
                        + Long.toUnsignedString(headerLength) + " bytes, over the limit of " + MAX_HEADER_BYTES);
            }
            if (headerLength > size - 8) {
                throw BadInputException.of(path, "truncated or not a safetensors file: its header of "
                        + headerLength + " bytes runs past the end of the file (" + size + " bytes)");
            }
            if (start.limit() == 9 && start.get(8) != '{') {
                throw BadInputException.of(path, "not a safetensors file: no JSON header after its first 8 bytes");
            }
            String json = decodeUtf8(path, readFully(channel, 8, (int) headerLength));
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, Stored> tensors = parseHeader(path, json, metadata);
            long dataStart = 8 + headerLength;
            checkLayout(path, tensors, size - dataStart);
            return new SafetensorsReader(path, channel, dataStart, tensors, metadata);
        } catch (IOException e) {
            throw BadInputException.of(path, "cannot read: " + describe(e), e);
        }
    }

    /**
     * What a file that is not safetensors is, from its first bytes (an image, a zip archive such as a PyTorch
     * checkpoint, a pickle, text), or null when it may be safetensors.
     */
    static String otherFormat(ByteBuffer start) {
        byte[] b = new byte[start.remaining()];
        start.duplicate().get(b);
        if (b.length >= 4 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
            return "it is a PNG image";
        }
        if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
            return "it is a JPEG image";
        }
        if (b.length >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) {
            return "it is a zip archive (a PyTorch checkpoint? give .pt/.ckpt/.pkl files where those are accepted)";
        }
        if (b.length >= 2 && (b[0] & 0xff) == 0x80 && b[1] >= 2 && b[1] <= 5) {
            return "it is a Python pickle";
        }
        boolean text = b.length == 9;
        for (byte x : b) {
            text &= x >= 0x20 && x < 0x7f || x == '\n' || x == '\r' || x == '\t';
        }
        return text && b[8] != '{' ? "it starts with text" : null;
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        return buffer.flip();
    }

    private static String decodeUtf8(Path path, ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw BadInputException.of(path, "safetensors header is not valid UTF-8");
        }
    }

    /** Parses the JSON header into tensors (in file order), filling {@code metadata}. */
    private static Map<String, Stored> parseHeader(Path path, String json, Map<String, String> metadata) {
        Map<String, Stored> tensors = new LinkedHashMap<>();
        boolean sawMetadata = false;
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            if (reader.peek() != JsonToken.BEGIN_OBJECT) {
                throw BadInputException.of(path, "safetensors header is not a JSON object");
            }
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if (name.equals(METADATA_KEY)) {
                    if (sawMetadata) {
                        throw BadInputException.of(path, "safetensors header has " + METADATA_KEY + " twice");
                    }
                    sawMetadata = true;
                    parseMetadata(path, reader, metadata);
                } else if (tensors.containsKey(name)) {
                    throw BadInputException.of(path, "safetensors header names tensor " + quote(name) + " twice");
                } else {
                    tensors.put(name, parseTensor(path, reader, name));
                }
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw BadInputException.of(path, "safetensors header has data after the JSON object");
            }
        } catch (IOException | IllegalStateException e) {
            // MalformedJsonException, EOFException, nesting too deep; a value of the wrong JSON type
            throw BadInputException.of(path, "invalid safetensors header JSON: " + jsonProblem(e.getMessage()), e);
        }
        return tensors;
    }

    private static void parseMetadata(Path path, JsonReader reader, Map<String, String> metadata) throws IOException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw BadInputException.of(path, "safetensors " + METADATA_KEY + " is not a JSON object");
        }
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            if (reader.peek() != JsonToken.STRING) {
                throw BadInputException.of(path, "safetensors " + METADATA_KEY + " value of " + quote(key)
                        + " is not a string");
            }
            if (metadata.put(key, reader.nextString()) != null) {
                throw BadInputException.of(path, "safetensors " + METADATA_KEY + " has key " + quote(key) + " twice");
            }
        }
        reader.endObject();
    }

    private static Stored parseTensor(Path path, JsonReader reader, String name) throws IOException {
        String what = "tensor " + quote(name);
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            throw BadInputException.of(path, what + ": header entry is not a JSON object");
        }
        DType dtype = null;
        long[] shape = null;
        long[] offsets = null;
        reader.beginObject();
        while (reader.hasNext()) {
            String field = reader.nextName();
            boolean repeated = switch (field) {
                case "dtype" -> dtype != null;
                case "shape" -> shape != null;
                case "data_offsets" -> offsets != null;
                default -> false;
            };
            if (repeated) {
                throw BadInputException.of(path, what + ": field " + field + " appears twice");
            }
            switch (field) {
                case "dtype" -> {
                    if (reader.peek() != JsonToken.STRING) {
                        throw BadInputException.of(path, what + ": dtype is not a string");
                    }
                    dtype = parseDType(path, what, reader.nextString());
                }
                case "shape" -> shape = parseLongs(path, what + " shape", reader, MAX_DIMS);
                case "data_offsets" -> offsets = parseLongs(path, what + " data_offsets", reader, 2);
                default -> reader.skipValue();
            }
        }
        reader.endObject();
        if (dtype == null || shape == null || offsets == null) {
            throw BadInputException.of(path, what + ": needs dtype, shape and data_offsets");
        }
        if (offsets.length != 2) {
            throw BadInputException.of(path, what + ": data_offsets must be [begin, end]");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape);
        long bytes;
        try {
            bytes = Math.multiplyExact(info.numel(), dtype.size());
        } catch (ArithmeticException e) {
            throw BadInputException.of(path, what + ": shape " + info.shapeString() + " is too large");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw BadInputException.of(path, what + ": data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end - begin != bytes) {
            throw BadInputException.of(path, what + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes but " + dtype + " " + info.shapeString() + " needs " + bytes);
        }
        return new Stored(info, begin, end);
    }

    private static DType parseDType(Path path, String what, String text) {
        try {
            return DType.valueOf(text);
        } catch (IllegalArgumentException e) {
            throw BadInputException.of(path, what + ": unsupported dtype " + quote(text));
        }
    }

    /** A JSON array of at most {@code max} non-negative integer literals that fit a long. */
    private static long[] parseLongs(Path path, String what, JsonReader reader, int max) throws IOException {
        List<Long> values = new ArrayList<>();
        if (reader.peek() != JsonToken.BEGIN_ARRAY) {
            throw BadInputException.of(path, what + " is not a JSON array");
        }
        reader.beginArray();
        while (reader.hasNext()) {
            if (values.size() == max) {
                throw BadInputException.of(path, what + " has more than " + max + " values");
            }
            if (reader.peek() != JsonToken.NUMBER) {
                throw BadInputException.of(path, what + " must hold only integers");
            }
            String text = reader.nextString();
            if (text.length() > 40) {
                throw BadInputException.of(path, what + " holds a number of " + text.length() + " digits");
            }
            long v;
            try {
                v = Long.parseLong(text); // integer literals only, as in the reference
            } catch (NumberFormatException e) {
                throw BadInputException.of(path, what + " holds " + text + ", not a 64-bit integer");
            }
            if (v < 0) {
                throw BadInputException.of(path, what + " has a negative value " + v);
            }
            values.add(v);
        }
        reader.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    /** Sorted by offsets, the tensors must tile {@code [0, dataBytes)} exactly. */
    private static void checkLayout(Path path, Map<String, Stored> tensors, long dataBytes) {
        List<Stored> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(Stored::begin).thenComparingLong(Stored::end));
        long expected = 0;
        for (Stored s : sorted) {
            if (s.begin != expected) {
                throw BadInputException.of(path, "tensor " + quote(s.info.name()) + ": data_offsets begin at " + s.begin
                        + (s.begin < expected ? ", overlapping the previous tensor which ends at " : ", leaving a gap after ")
                        + expected);
            }
            expected = s.end;
        }
        if (expected != dataBytes) {
            throw BadInputException.of(path, "tensor data ends at " + expected + " but the data buffer holds " + dataBytes
                    + " bytes (truncated or trailing data)");
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public TensorInfo info(String name) {
        Stored s = tensors.get(name);
        return s == null ? null : s.info;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * {@inheritDoc}
     *
     * @throws BadInputException when the tensor has more elements than a Java array holds, or the file shrank
     * @throws UncheckedIOException when reading fails
     */
    @Override
    public float[] readFloats(String name) {
        return readFloats(name, MAP_CHUNK_BYTES);
    }

    /** {@link #readFloats(String)} mapping at most {@code chunkBytes} (a multiple of 8) at a time; for tests. */
    float[] readFloats(String name, int chunkBytes) {
        Stored s = stored(name);
        long numel = s.info.numel();
        if (numel > Integer.MAX_VALUE - 8) {
            throw BadInputException.of(path, "tensor " + quote(name) + " has " + numel
                    + " elements, too many for one array");
        }
        DType dtype = s.info.dtype();
        float[] out = new float[(int) numel];
        int done = 0;
        for (long pos = s.begin; pos < s.end; pos += chunkBytes) {
            ByteBuffer chunk = map(s, pos, Math.min(chunkBytes, s.end - pos));
            int count = chunk.remaining() / dtype.size();
            convert(dtype, chunk, out, done, count);
            done += count;
        }
        return out;
    }

    /**
     * The stored bytes of one tensor (little-endian, C order, in its stored dtype) as a read-only buffer mapping the
     * file; it stays valid after {@link #close}.
     *
     * @throws IllegalArgumentException when the name is absent
     * @throws BadInputException when the tensor is 2 GiB or larger, or the file shrank
     * @throws UncheckedIOException when mapping fails
     */
    public ByteBuffer readRaw(String name) {
        Stored s = stored(name);
        if (s.end - s.begin > Integer.MAX_VALUE) {
            throw BadInputException.of(path, "tensor " + quote(name) + " has " + (s.end - s.begin)
                    + " bytes, too many for one buffer");
        }
        return map(s, s.begin, s.end - s.begin);
    }

    private Stored stored(String name) {
        Stored s = tensors.get(name);
        if (s == null) {
            throw new IllegalArgumentException(path + ": no tensor " + quote(name));
        }
        if (!channel.isOpen()) {
            throw new IllegalStateException(path + ": reader is closed");
        }
        return s;
    }

    /** Maps {@code [pos, pos + length)} of the data buffer, little-endian. */
    private ByteBuffer map(Stored s, long pos, long length) {
        try {
            // A mapping past the end of a file that shrank since open would crash on access, not throw.
            if (channel.size() < dataStart + s.end) {
                throw BadInputException.of(path, "file shrank while open: tensor " + quote(s.info.name())
                        + " is no longer complete");
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + pos, length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot read tensor " + quote(s.info.name()), e);
        }
    }

    private static void convert(DType dtype, ByteBuffer in, float[] out, int offset, int count) {
        switch (dtype) {
            case F32 -> in.asFloatBuffer().get(out, offset, count);
            case F64 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = (float) in.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = Halfs.f16ToFloat(in.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = Halfs.bf16ToFloat(in.getShort(i * 2));
                }
            }
            case I64 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = in.getLong(i * 8);
                }
            }
            case I32 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = in.getInt(i * 4);
                }
            }
            case I16 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = in.getShort(i * 2);
                }
            }
            case I8 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = in.get(i);
                }
            }
            case U8 -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = in.get(i) & 0xff;
                }
            }
            case BOOL -> {
                for (int i = 0; i < count; i++) {
                    out[offset + i] = in.get(i) != 0 ? 1f : 0f;
                }
            }
        }
    }

    /** Closes the file. Buffers returned by {@link #readRaw} stay readable. */
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": cannot close", e);
        }
    }

    private static void closeQuietly(FileChannel channel, Throwable primary) {
        try {
            channel.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    /** A name as a JSON string literal (control characters escaped, so messages stay on one line), shortened. */
    /** Most dimensions a tensor may claim (torch allows 64). */
    static final int MAX_DIMS = 64;

    static String quote(String s) {
        String q = new JsonPrimitive(s).toString();
        return q.length() <= 120 ? q : q.substring(0, 117) + "...";
    }

    /** What went wrong, in words: the exception's message without Java class names. */
    private static String describe(IOException e) {
        String m = e.getMessage() == null ? "" : oneLine(e.getMessage())
                .replaceAll("(?:[a-z]\\w*\\.)+[A-Z]\\w*(?:Exception|Error): ", "");
        if (!m.isBlank()) {
            return m;
        }
        return e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : e instanceof java.io.EOFException ? "unexpected end of file" : "I/O error";
    }

    /** Gson's message without its advice to parse leniently or its link, on one line, shortened. */
    private static String jsonProblem(String message) {
        String m = oneLine(message)
                .replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON", "malformed JSON")
                .replaceAll("\\.? See https?://\\S+$", "");
        return m.length() <= 160 ? m : m.substring(0, 157) + "...";
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ");
    }
}
