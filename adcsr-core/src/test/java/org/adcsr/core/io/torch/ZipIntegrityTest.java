package org.adcsr.core.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CRC-32 of every entry read, and local/central header and end-record consistency. */
class ZipIntegrityTest {
    @TempDir
    Path dir;

    private byte[] good;

    @BeforeEach
    void write() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        data.putFloat(1).putFloat(2).putFloat(3).putFloat(4);
        byte[] pickle = PickleWriter.proto(2).op('}').str("w").tensor("0", 4, 0, new long[] {4}, new long[] {1})
                .op('s').stop();
        good = Files.readAllBytes(TorchZips.checkpoint(dir.resolve("good.pt"), pickle, Map.of("0", data.array())));
    }

    private static int indexOf(byte[] b, byte[] what, int from) {
        outer:
        for (int i = from; i <= b.length - what.length; i++) {
            for (int j = 0; j < what.length; j++) {
                if (b[i + j] != what[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    /** Offset of the local header of {@code name} (the first "PK\3\4" + name occurrence). */
    private int local(String name) {
        int at = indexOf(good, ("archive/" + name).getBytes(StandardCharsets.UTF_8), 0);
        return at - 30;
    }

    private int central(String name) {
        int at = indexOf(good, ("archive/" + name).getBytes(StandardCharsets.UTF_8), local(name) + 31);
        return at - 46;
    }

    private String fails(byte[] bytes, boolean read) throws IOException {
        Path file = Files.write(dir.resolve("bad.pt"), bytes);
        BadInputException e = assertThrows(BadInputException.class, () -> {
            try (TensorSource s = TorchCheckpoint.open(file).tensors()) {
                if (read) {
                    s.readFloats("w");
                }
            }
        });
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage();
    }

    private static void putInt(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    @Test
    void theGoodFileReads() throws IOException {
        try (TensorSource s = TorchCheckpoint.open(Files.write(dir.resolve("ok.pt"), good)).tensors()) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, s.readFloats("w"));
        }
    }

    @Test
    void aFlippedTensorByteFailsTheCrcNamingTheEntry() throws IOException {
        byte[] b = good.clone();
        b[local("data/0") + 30 + "archive/data/0".length() + 5] ^= 0x40;
        String m = fails(b, true);
        assertTrue(m.contains("entry archive/data/0 fails its CRC-32 check"), m);
    }

    @Test
    void aFlippedPickleByteFailsTheCrc() throws IOException {
        byte[] b = good.clone();
        int data = local("data.pkl") + 30 + "archive/data.pkl".length();
        b[data + 4] ^= 0x01; // inside the str "w" length, still a loadable pickle maybe; the CRC says no first
        assertTrue(fails(b, false).contains("entry archive/data.pkl fails its CRC-32 check"));
    }

    @Test
    void localAndCentralHeadersMustAgree() throws IOException {
        byte[] crc = good.clone();
        putInt(crc, local("data/0") + 14, 0x12345678);
        assertTrue(fails(crc, false).contains("different CRC-32 in its local and central headers"));

        byte[] size = good.clone();
        putInt(size, local("data/0") + 22, 0);
        assertTrue(fails(size, false).contains("different size in its local and central headers"));

        byte[] encrypted = good.clone();
        encrypted[local("data/0") + 6] |= 1;
        assertTrue(fails(encrypted, false).contains("is encrypted (local header)"));

        byte[] name = good.clone();
        name[local("data/0") + 30 + "archive/data/".length()] = '9';
        assertTrue(fails(name, false).contains("different name in its local header"));

        byte[] zip64 = good.clone();
        putInt(zip64, central("data/0") + 20, -1);
        putInt(zip64, central("data/0") + 24, -1);
        assertTrue(fails(zip64, false).contains("0xFFFFFFFF but no ZIP64 field"));
    }

    @Test
    void endRecordCountsMustAgree() throws IOException {
        int eocd = good.length - 22;
        byte[] disk = good.clone();
        disk[eocd + 8] = (byte) (disk[eocd + 8] - 1);
        assertTrue(fails(disk, false).contains("two different entry counts"));

        byte[] both = good.clone();
        both[eocd + 8] = (byte) (both[eocd + 8] - 1);
        both[eocd + 10] = (byte) (both[eocd + 10] - 1);
        assertTrue(fails(both, false).contains("holds more than the 2 entries its end record counts"));
    }
}
