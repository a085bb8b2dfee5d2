package org.adcsr.core.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Consumer;

/** Builds safetensors files byte by byte for tests, independently of {@link SafetensorsWriter}. */
final class SafetensorsFiles {
    private SafetensorsFiles() {
    }

    /** The 8-byte little-endian length, the header text as given, then {@code data}. */
    static byte[] file(String headerJson, byte[] data) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    /** Little-endian bytes written by {@code fill} into a buffer of {@code size} bytes. */
    static byte[] le(int size, Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return b.array();
    }

    /** Tensors laid out back to back, header entries in the order added. */
    static final class Builder {
        private final StringBuilder json = new StringBuilder("{");
        private final ByteArrayOutputStream data = new ByteArrayOutputStream();

        Builder metadata(String rawJsonObject) {
            append("\"__metadata__\":" + rawJsonObject);
            return this;
        }

        Builder tensor(String name, String dtype, long[] shape, byte[] bytes) {
            int begin = data.size();
            data.writeBytes(bytes);
            String shapeJson = Arrays.toString(shape).replace(" ", "");
            append("\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shapeJson + ",\"data_offsets\":["
                    + begin + "," + data.size() + "]}");
            return this;
        }

        private void append(String member) {
            if (json.length() > 1) {
                json.append(',');
            }
            json.append(member);
        }

        byte[] build() {
            return file(json + "}", data.toByteArray());
        }
    }
}
