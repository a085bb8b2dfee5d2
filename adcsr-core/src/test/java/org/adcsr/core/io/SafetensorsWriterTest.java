package org.adcsr.core.io;

import static org.adcsr.core.io.SafetensorsFiles.le;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.adcsr.core.io.SafetensorsWriter.Entry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static int[] bits(float[] values) {
        int[] b = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = Float.floatToRawIntBits(values[i]);
        }
        return b;
    }

    private List<String> dirListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static float[] randomFloats(Random random, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * 3;
        }
        return v;
    }

    @Test
    void f32RoundTripIsBitExact() throws IOException {
        Random random = new Random(1);
        float[] w = randomFloats(random, 2 * 3 * 4);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE,
            Float.intBitsToFloat(0x7fc12345)};
        float[] big = randomFloats(random, 300_000); // more than one write buffer
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("source_sha256", "ab12");
        metadata.put("tool", "adcsr ü 名 \"quoted\"\n");
        Path out = dir.resolve("out.safetensors");
        SafetensorsWriter.write(out, metadata, List.of(
                Entry.of("z.weight", new long[] {2, 3, 4}, w),
                Entry.of("a", new long[] {6}, special),
                Entry.of("scalar", new long[] {}, new float[] {7}),
                Entry.of("empty", new long[] {0, 5}, new float[0]),
                Entry.of("big", new long[] {300_000}, big)), DType.F32);

        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(List.of("z.weight", "a", "scalar", "empty", "big"), r.names());
            assertEquals(metadata, r.metadata());
            assertEquals(List.copyOf(metadata.keySet()), List.copyOf(r.metadata().keySet()));
            assertEquals(new TensorInfo("z.weight", DType.F32, new long[] {2, 3, 4}), r.info("z.weight"));
            assertEquals(new TensorInfo("empty", DType.F32, new long[] {0, 5}), r.info("empty"));
            assertArrayEquals(bits(w), bits(r.readFloats("z.weight")));
            assertArrayEquals(bits(special), bits(r.readFloats("a")));
            assertArrayEquals(new float[] {7}, r.readFloats("scalar"));
            assertArrayEquals(new float[0], r.readFloats("empty"));
            assertArrayEquals(bits(big), bits(r.readFloats("big")));
        }
        long headerLength = ByteBuffer.wrap(Files.readAllBytes(out), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLength % 8, "data start must be 8-byte aligned");
        assertEquals(List.of("out.safetensors"), dirListing());
    }

    @Test
    void f16RoundsToNearestEven() throws IOException {
        Random random = new Random(2);
        float[] v = randomFloats(random, 1000);
        v[0] = 1f + 0x1p-11f; // a tie
        v[1] = 0x1p-24f;
        v[2] = 1e-9f; // underflows to zero
        v[3] = Float.NEGATIVE_INFINITY;
        v[4] = Float.NaN;
        v[5] = 65504f;
        Path out = dir.resolve("h.safetensors");
        SafetensorsWriter.write(out, Map.of(), List.of(Entry.of("h", new long[] {10, 100}, v)), DType.F16);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(DType.F16, r.info("h").dtype());
            assertEquals(Map.of(), r.metadata());
            float[] got = r.readFloats("h");
            for (int i = 0; i < v.length; i++) {
                assertEquals(Halfs.f16ToFloat(Halfs.floatToF16(v[i])), got[i], "element " + i);
            }
            assertEquals(1f, got[0]);
            assertEquals(0x1p-24f, got[1]);
            assertEquals(0f, got[2]);
            assertTrue(Float.isNaN(got[4]));
            assertEquals(65504f, got[5]);
        }
    }

    @Test
    void f16OverflowIsRefused() throws IOException {
        Path out = dir.resolve("h.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(
                out, Map.of(), List.of(Entry.of("x", new long[] {2}, new float[] {1, 65520f})), DType.F16));
        assertTrue(e.getMessage().contains("overflows F16"), e.getMessage());
        assertEquals(List.of(), dirListing());
    }

    @Test
    void copyConvertsASource() throws IOException {
        Path in = Files.write(dir.resolve("in.safetensors"), new SafetensorsFiles.Builder()
                .metadata("{\"k\":\"v\"}")
                .tensor("b", "BF16", new long[] {2}, le(4, b -> b.putShort((short) 0x3f80).putShort((short) 0xc040)))
                .tensor("i", "I32", new long[] {1, 1}, le(4, b -> b.putInt(-9)))
                .build());
        Path out = dir.resolve("copy.safetensors");
        try (SafetensorsReader src = SafetensorsReader.open(in)) {
            SafetensorsWriter.copy(src, out, src.metadata(), DType.F32);
        }
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(List.of("b", "i"), r.names());
            assertEquals(Map.of("k", "v"), r.metadata());
            assertArrayEquals(new float[] {1, -3}, r.readFloats("b"));
            assertEquals(new TensorInfo("i", DType.F32, new long[] {1, 1}), r.info("i"));
            assertArrayEquals(new float[] {-9}, r.readFloats("i"));
        }
    }

    @Test
    void failedWriteLeavesTheOldFileAndNoTemporary() throws IOException {
        Path out = dir.resolve("m.safetensors");
        byte[] old = "previous complete file".getBytes();
        Files.write(out, old);
        RuntimeException boom = new RuntimeException("supplier failed");
        List<Entry> entries = List.of(
                Entry.of("a", new long[] {1000}, new float[1000]),
                new Entry("b", new long[] {1}, () -> {
                    throw boom;
                }));
        assertEquals(boom, assertThrows(RuntimeException.class,
                () -> SafetensorsWriter.write(out, Map.of(), entries, DType.F32)));
        assertArrayEquals(old, Files.readAllBytes(out));
        assertEquals(List.of("m.safetensors"), dirListing());
    }

    @Test
    void existingFileIsReplacedOnlyAfterACompleteWrite() throws IOException {
        Path out = dir.resolve("m.safetensors");
        byte[] old = "previous complete file".getBytes();
        Files.write(out, old);
        boolean[] checked = {false};
        SafetensorsWriter.write(out, Map.of(), List.of(
                Entry.of("a", new long[] {3}, new float[] {1, 2, 3}),
                new Entry("b", new long[] {1}, () -> {
                    try {
                        assertArrayEquals(old, Files.readAllBytes(out), "target replaced while writing");
                        assertEquals(2, dirListing().size(), "one temporary file beside the target");
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                    checked[0] = true;
                    return new float[] {4};
                })), DType.F32);
        assertTrue(checked[0]);
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertArrayEquals(new float[] {1, 2, 3}, r.readFloats("a"));
            assertArrayEquals(new float[] {4}, r.readFloats("b"));
        }
        assertEquals(List.of("m.safetensors"), dirListing());
    }

    @Test
    void badEntriesAreRefusedBeforeAnythingIsWritten() throws IOException {
        Path out = dir.resolve("x.safetensors");
        float[] two = {1, 2};
        List<List<Entry>> bad = List.of(
                List.of(Entry.of("a", new long[] {2}, two), Entry.of("a", new long[] {2}, two)),
                List.of(Entry.of("__metadata__", new long[] {2}, two)),
                List.of(Entry.of("a", new long[] {-2}, two)),
                List.of(Entry.of("a", new long[] {1L << 62, 4}, two)),
                List.of(Entry.of("a", new long[] {3}, two)),
                List.of(new Entry("a", new long[] {2}, () -> null)));
        for (List<Entry> entries : bad) {
            assertThrows(IllegalArgumentException.class,
                    () -> SafetensorsWriter.write(out, Map.of(), entries, DType.F32), entries.toString());
        }
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(
                out, Map.of(), List.of(Entry.of("a", new long[] {2}, two)), DType.BF16));
        assertFalse(Files.exists(out));
        assertEquals(List.of(), dirListing());
    }
}
