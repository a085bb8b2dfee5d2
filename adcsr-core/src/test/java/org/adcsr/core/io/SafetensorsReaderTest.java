package org.adcsr.core.io;

import static org.adcsr.core.io.SafetensorsFiles.le;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
    @TempDir
    Path dir;

    private Path write(byte[] bytes) throws IOException {
        return Files.write(dir.resolve("t.safetensors"), bytes);
    }

    private static void assertFloatBits(float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    "element " + i + ": expected " + expected[i] + ", got " + actual[i]);
        }
    }

    private static final float NAN16 = Halfs.f16ToFloat((short) 0x7e00);

    @Test
    void convertsEveryDtypeToF32() throws IOException {
        byte[] file = new SafetensorsFiles.Builder()
                .tensor("f16", "F16", new long[] {7}, le(14, b -> {
                    for (int h : new int[] {0x3c00, 0x0001, 0x03ff, 0x8000, 0x7c00, 0xfc00, 0x7e00}) {
                        b.putShort((short) h);
                    }
                }))
                .tensor("bf16", "BF16", new long[] {4}, le(8, b -> {
                    for (int h : new int[] {0x3f80, 0xc000, 0x0001, 0x7f80}) {
                        b.putShort((short) h);
                    }
                }))
                .tensor("f64", "F64", new long[] {3}, le(24, b -> b.putDouble(0.1).putDouble(-3.25).putDouble(1e300)))
                .tensor("f32", "F32", new long[] {2, 2}, le(16, b -> b.putFloat(1).putFloat(-0f).putFloat(0x1p-149f)
                        .putFloat(Float.intBitsToFloat(0x7fa00001))))
                .tensor("i64", "I64", new long[] {2}, le(16, b -> b.putLong(-5).putLong(1L << 40)))
                .tensor("i32", "I32", new long[] {2}, le(8, b -> b.putInt(-7).putInt(123456)))
                .tensor("i16", "I16", new long[] {2}, le(4, b -> b.putShort((short) -32768).putShort((short) 32767)))
                .tensor("i8", "I8", new long[] {2}, new byte[] {-128, 127})
                .tensor("u8", "U8", new long[] {2}, new byte[] {0, (byte) 255})
                .tensor("bool", "BOOL", new long[] {3}, new byte[] {0, 1, 2})
                .build();
        try (SafetensorsReader r = SafetensorsReader.open(write(file))) {
            assertFloatBits(new float[] {1, 0x1p-24f, 0x3ffp-24f, -0f, Float.POSITIVE_INFINITY,
                    Float.NEGATIVE_INFINITY, NAN16}, r.readFloats("f16"));
            assertFloatBits(new float[] {1, -2, 0x1p-133f, Float.POSITIVE_INFINITY}, r.readFloats("bf16"));
            assertFloatBits(new float[] {0.1f, -3.25f, Float.POSITIVE_INFINITY}, r.readFloats("f64"));
            assertFloatBits(new float[] {1, -0f, 0x1p-149f, Float.intBitsToFloat(0x7fa00001)}, r.readFloats("f32"));
            assertFloatBits(new float[] {-5, 0x1p40f}, r.readFloats("i64"));
            assertFloatBits(new float[] {-7, 123456}, r.readFloats("i32"));
            assertFloatBits(new float[] {-32768, 32767}, r.readFloats("i16"));
            assertFloatBits(new float[] {-128, 127}, r.readFloats("i8"));
            assertFloatBits(new float[] {0, 255}, r.readFloats("u8"));
            assertFloatBits(new float[] {0, 1, 1}, r.readFloats("bool"));
            assertEquals(new TensorInfo("f32", DType.F32, new long[] {2, 2}), r.info("f32"));
            assertEquals(Map.of(), r.metadata());
        }
    }

    @Test
    void keepsHeaderOrderMetadataAndIgnoresUnknownFields() throws IOException {
        String json = "{\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8],\"extra\":[{\"x\":null}]},"
                + "\"__metadata__\":{\"source\":\"ü/名\",\"ratio\":\"0.5\"},"
                + "\"a\":{\"shape\":[],\"data_offsets\":[0,4],\"dtype\":\"F32\"},"
                + "\"empty\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[8,8]}}     ";
        Path p = write(SafetensorsFiles.file(json, le(8, b -> b.putFloat(2).putFloat(3))));
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertEquals(List.of("z", "a", "empty"), r.names());
            assertEquals(List.of("source", "ratio"), List.copyOf(r.metadata().keySet()));
            assertEquals("ü/名", r.metadata().get("source"));
            assertArrayEquals(new float[] {3}, r.readFloats("z"));
            assertArrayEquals(new float[] {2}, r.readFloats("a"));
            assertArrayEquals(new float[0], r.readFloats("empty"));
            assertEquals(0, r.info("a").shape().length);
            assertEquals(p, r.path());
            assertTrue(r.contains("z"));
            assertNull(r.info("missing"));
            assertThrows(IllegalArgumentException.class, () -> r.readFloats("missing"));
            TensorSource view = r.withPrefix("e");
            assertEquals(List.of("mpty"), view.names());
        }
    }

    @Test
    void readsInChunksAndRaw() throws IOException {
        float[] values = new float[37];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f - 3;
        }
        byte[] f16 = le(2 * values.length, b -> {
            for (float v : values) {
                b.putShort(Halfs.floatToF16(v));
            }
        });
        byte[] f32 = le(4 * values.length, b -> {
            for (float v : values) {
                b.putFloat(v);
            }
        });
        Path p = write(new SafetensorsFiles.Builder().metadata("{}")
                .tensor("h", "F16", new long[] {37}, f16)
                .tensor("f", "F32", new long[] {37}, f32).build());
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertArrayEquals(values, r.readFloats("h", 8));
            assertArrayEquals(values, r.readFloats("f", 8));
            assertArrayEquals(values, r.readFloats("f", 16));
            ByteBuffer raw = r.readRaw("h");
            assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
            assertTrue(raw.isReadOnly());
            byte[] got = new byte[raw.remaining()];
            raw.get(got);
            assertArrayEquals(f16, got);
        }
    }

    @Test
    void closeReleasesTheFile() throws IOException {
        Path p = write(new SafetensorsFiles.Builder().tensor("a", "F32", new long[] {1}, le(4, b -> b.putFloat(7)))
                .build());
        SafetensorsReader r = SafetensorsReader.open(p);
        ByteBuffer raw = r.readRaw("a");
        r.close();
        assertThrows(IllegalStateException.class, () -> r.readFloats("a"));
        assertEquals(7f, raw.getFloat(0)); // mappings outlive the channel
    }

    @Test
    void missingFileIsBadInput() {
        Path p = dir.resolve("nope.safetensors");
        BadInputException e = assertThrows(BadInputException.class, () -> SafetensorsReader.open(p));
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
    }

    /** A sparse file whose last tensor lies beyond 2^31: offsets over 2 GiB work, nothing big is allocated. */
    @Test
    void readsTensorsBeyondTwoGiB() throws IOException {
        long pad = (1L << 31) + 8;
        String json = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + pad + "],\"data_offsets\":[0," + pad + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + pad + "," + (pad + 16) + "]}}";
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        Path p = dir.resolve("big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(le(8, b -> b.putLong(header.length)));
            f.write(header);
            f.setLength(8 + header.length + pad + 16);
            f.seek(8 + header.length + pad);
            f.write(le(16, b -> b.putFloat(1.5f).putFloat(-2).putFloat(0x1p100f).putFloat(42)));
        }
        try (SafetensorsReader r = SafetensorsReader.open(p)) {
            assertArrayEquals(new float[] {1.5f, -2, 0x1p100f, 42}, r.readFloats("tail"));
            assertEquals(-2f, r.readRaw("tail").getFloat(4));
            assertThrows(BadInputException.class, () -> r.readFloats("pad")); // more elements than an array holds
            assertThrows(BadInputException.class, () -> r.readRaw("pad"));
        } finally {
            Files.delete(p);
        }
        assertFalse(Files.exists(p));
    }
}
