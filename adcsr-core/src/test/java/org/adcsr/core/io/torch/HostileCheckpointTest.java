package org.adcsr.core.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Whole checkpoints that are hostile or damaged: bad storages and views, truncation, flipped bytes. */
class HostileCheckpointTest {
    private static final Duration BUDGET = Duration.ofSeconds(120); // a hang guard, not a speed test

    @TempDir
    Path dir;

    private static byte[] floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private Path checkpoint(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        return TorchZips.checkpoint(dir.resolve("hostile.pt"), pickle, storages);
    }

    private static byte[] oneTensor(long numel, long offset, long[] shape, long[] stride) {
        return PickleWriter.proto(2).op('}').str("w").tensor("0", numel, offset, shape, stride).op('s').stop();
    }

    private String fails(byte[] pickle, Map<String, byte[]> storages) throws IOException {
        Path file = checkpoint(pickle, storages);
        BadInputException e = assertThrows(BadInputException.class,
                () -> assertTimeoutPreemptively(Duration.ofSeconds(30), () -> TorchCheckpoint.open(file).close()));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void handMadeCheckpointReadsAStridedView() throws IOException {
        Path file = checkpoint(oneTensor(6, 1, new long[] {2, 2}, new long[] {1, 3}), Map.of("0", floats(0, 1, 2, 3, 4, 5)));
        try (TensorSource source = TorchCheckpoint.open(file).tensors()) {
            assertArrayEquals(new float[] {1, 4, 2, 5}, source.readFloats("w"));
        }
    }

    @Test
    void sparseViewIsReadElementByElement() throws IOException {
        float[] storage = new float[200_001];
        storage[7] = 1;
        storage[100_007] = 2;
        storage[200_000] = 3;
        Path file = checkpoint(oneTensor(storage.length, 7, new long[] {2}, new long[] {100_000}),
                Map.of("0", floats(storage)));
        try (TensorSource source = TorchCheckpoint.open(file).tensors()) {
            assertArrayEquals(new float[] {1, 2}, source.readFloats("w"));
        }
    }

    @Test
    void hugeNumelFailsWithoutAllocating() throws IOException {
        String message = fails(oneTensor(1_000_000_000_000_000L, 0, new long[] {1_000_000_000_000_000L},
                new long[] {1}), Map.of("0", floats(1, 2)));
        assertTrue(message.contains("but its entry has 8 bytes"), message);
        assertTrue(fails(oneTensor(Long.MAX_VALUE / 2, 0, new long[] {1}, new long[] {1}), Map.of("0", floats(1)))
                .contains("overflows"));
    }

    @Test
    void viewsOutsideTheirStorageAreRejected() throws IOException {
        Map<String, byte[]> six = Map.of("0", floats(0, 1, 2, 3, 4, 5));
        assertTrue(fails(oneTensor(6, 6, new long[] {1}, new long[] {1}), six).contains("past the end of storage"));
        assertTrue(fails(oneTensor(6, 0, new long[] {2, 3}, new long[] {4, 1}), six).contains("past the end"));
        assertTrue(fails(oneTensor(6, 0, new long[] {2, 3}, new long[] {3}), six).contains("2 sizes but 1 strides"));
        assertTrue(fails(oneTensor(6, -1, new long[] {1}, new long[] {1}), six).contains("negative storage offset"));
        assertTrue(fails(oneTensor(6, 0, new long[] {-2}, new long[] {1}), six).contains("negative size"));
        assertTrue(fails(oneTensor(6, 0, new long[] {1L << 62, 4}, new long[] {4, 1L << 62}), six)
                .contains("overflows"));
        assertTrue(fails(oneTensor(6, 0, new long[65], new long[65]), six).contains("dimensions"));
        assertTrue(fails(oneTensor(6, 7, new long[] {0}, new long[] {1}), six).contains("past the end"));
    }

    @Test
    void storageProblemsAreRejected() throws IOException {
        byte[] pickle = oneTensor(6, 0, new long[] {6}, new long[] {1});
        assertTrue(fails(pickle, Map.of("1", floats(0, 1, 2, 3, 4, 5))).contains("has no entry"));
        assertTrue(fails(pickle, Map.of("0", floats(0, 1, 2))).contains("but its entry has 12 bytes"));

        byte[] complex = PickleWriter.proto(2).mark().str("storage").global("torch", "ComplexFloatStorage").str("0")
                .str("cpu").integer(1).tuple().op('Q').stop();
        assertTrue(fails(complex, Map.of("0", floats(1, 2))).contains("unsupported storage type torch.ComplexFloatStorage"));

        byte[] twice = PickleWriter.proto(2).op('}').str("a").tensor("0", 6, 0, new long[] {6}, new long[] {1}).op('s')
                .str("b").tensor("0", 3, 0, new long[] {3}, new long[] {1}).op('s').stop();
        assertTrue(fails(twice, Map.of("0", floats(0, 1, 2, 3, 4, 5))).contains("declared twice"));

        byte[] notStorage = PickleWriter.proto(2).global("os", "system").op('Q').stop();
        assertTrue(fails(notStorage, Map.of()).contains("persistent id"));
    }

    @Test
    void codeInACheckpointIsRefusedNamingTheEntry() throws IOException {
        Path marker = dir.resolve("pwned");
        byte[] pickle = PickleWriter.proto(2).op('}')
                .str("w").tensor("0", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("evil").global("os", "system").str("touch " + marker).op(0x85).reduce().op('s').stop();
        String message = fails(pickle, Map.of("0", floats(1, 2)));
        assertTrue(message.contains("refused pickle global os.system in entry 'evil' of archive/data.pkl"),
                message);
        assertTrue(Files.notExists(marker));
    }

    @Test
    void cyclicAndDeepContainersAreWalkedSafely() throws IOException {
        // {"self": <the dict itself>, "w": tensor}: the walk expands each container once
        byte[] cyclic = PickleWriter.proto(2).op('}').put(0).str("self").get(0).op('s')
                .str("w").tensor("0", 2, 0, new long[] {2}, new long[] {1}).op('s').stop();
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(checkpoint(cyclic, Map.of("0", floats(1, 2))))) {
            assertEquals(List.of("w"), ckpt.tensors().names());
        }
        PickleWriter deep = PickleWriter.proto(2).op(']');
        for (int i = 0; i < 100_000; i++) {
            deep.op(']');
        }
        for (int i = 0; i < 100_000; i++) {
            deep.op('a'); // each list goes into the one below it
        }
        assertTrue(fails(deep.stop(), Map.of()).contains("nested deeper"));
    }

    @Test
    void duplicateFlattenedNamesAreRejected() throws IOException {
        byte[] pickle = PickleWriter.proto(2).op('}')
                .str("a.b").tensor("0", 2, 0, new long[] {2}, new long[] {1}).op('s')
                .str("a").op('}').str("b").tensor("0", 2, 0, new long[] {2}, new long[] {1}).op('s').op('s').stop();
        assertTrue(fails(pickle, Map.of("0", floats(1, 2))).contains("both named a.b"));
    }

    @Test
    void truncatedFilesFailAtEveryCut() throws IOException {
        for (String fixture : List.of("views.pt", "lightning.ckpt", "zip64.pt")) {
            byte[] whole = Files.readAllBytes(Fixtures.path(fixture));
            Path cut = dir.resolve("cut.pt");
            assertTimeoutPreemptively(BUDGET, () -> {
                for (int n = 0; n < whole.length; n++) {
                    Files.write(cut, Arrays.copyOf(whole, n));
                    int length = n;
                    assertThrows(BadInputException.class, () -> TorchCheckpoint.open(cut).close(),
                            () -> fixture + " cut at " + length);
                }
            });
        }
    }

    @Test
    void truncatedPicklesFailAtEveryCut() throws IOException {
        for (String fixture : List.of("views.pt", "views_proto4.pt", "lightning.ckpt")) {
            byte[] pickle = dataPkl(Fixtures.path(fixture));
            assertTimeoutPreemptively(BUDGET, () -> {
                for (int n = 0; n < pickle.length; n++) {
                    byte[] cut = Arrays.copyOf(pickle, n);
                    assertThrows(BadInputException.class,
                            () -> new SafeUnpickler(Path.of(fixture), SafeUnpickler.Limits.DEFAULT,
                                    pid -> new TorchStorage("0", DType.F32, 1 << 20)).load(cut),
                            () -> fixture + " pickle cut at " + cut.length);
                }
            });
        }
    }

    @Test
    void flippedBytesGiveSuccessOrBadInput() throws IOException {
        Random random = new Random(20240611);
        for (String fixture : List.of("views.pt", "lightning.ckpt", "dtypes.pt", "zip64.pt")) {
            byte[] whole = Files.readAllBytes(Fixtures.path(fixture));
            StoredZip.Entry pkl = pickleEntry(Fixtures.path(fixture));
            Path damaged = dir.resolve("damaged.pt");
            assertTimeoutPreemptively(BUDGET, () -> {
                for (int round = 0; round < 400; round++) {
                    byte[] copy = whole.clone();
                    int flips = 1 + random.nextInt(4);
                    for (int f = 0; f < flips; f++) {
                        // most flips land in data.pkl, where the VM is exercised; the rest anywhere
                        int at = random.nextInt(3) > 0
                                ? (int) pkl.dataOffset() + random.nextInt((int) pkl.size())
                                : random.nextInt(copy.length);
                        copy[at] ^= (byte) (1 + random.nextInt(255));
                    }
                    Files.write(damaged, copy);
                    openAndReadEverything(damaged, fixture + " round " + round);
                }
            });
        }
    }

    /** Opening and reading every tensor either works or throws {@link BadInputException}; nothing else. */
    private static void openAndReadEverything(Path file, String what) {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            TensorSource source = ckpt.tensors();
            for (String name : source.names()) {
                source.info(name);
                source.readFloats(name);
            }
        } catch (BadInputException expected) {
            // fine
        } catch (RuntimeException | Error e) {
            fail(what + ": " + e, e);
        }
    }

    private static StoredZip.Entry pickleEntry(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file)) {
            return StoredZip.read(file, channel).entries().values().stream()
                    .filter(e -> e.name().endsWith("/data.pkl")).findFirst().orElseThrow();
        }
    }

    private static byte[] dataPkl(Path file) throws IOException {
        StoredZip.Entry e = pickleEntry(file);
        byte[] whole = Files.readAllBytes(file);
        return Arrays.copyOfRange(whole, (int) e.dataOffset(), (int) (e.dataOffset() + e.size()));
    }
}
