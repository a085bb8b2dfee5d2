package org.adcsr.core.io;

import static org.adcsr.core.io.SafetensorsFiles.file;
import static org.adcsr.core.io.SafetensorsFiles.le;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.adcsr.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Malformed files fail with a one-line {@link BadInputException} naming the file, and nothing else. */
class SafetensorsHostileTest {
    @TempDir
    Path dir;

    private static final byte[] EIGHT = new byte[8];

    private static String tensor(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    /** Asserts that opening the file fails cleanly, and returns the message. */
    private String assertBad(byte[] bytes) throws IOException {
        Path p = Files.write(dir.resolve("bad.safetensors"), bytes);
        BadInputException e = assertThrows(BadInputException.class, () -> SafetensorsReader.open(p).close());
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        assertEquals(-1, e.getMessage().indexOf('\n'), e.getMessage());
        return e.getMessage();
    }

    private String assertBadHeader(String json, byte[] data) throws IOException {
        return assertBad(file(json, data));
    }

    @Test
    void otherFormatsAreNamedNotMisreadAsHeaderLengths() throws IOException {
        assertTrue(assertBad("hello text file, not safetensors at all".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .endsWith("not a safetensors file: it starts with text"));
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        assertTrue(assertBad(png).endsWith("not a safetensors file: it is a PNG image"));
        byte[] zip = {'P', 'K', 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0};
        assertTrue(assertBad(zip).contains("not a safetensors file: it is a zip archive (a PyTorch checkpoint?"));
        byte[] pickle = {(byte) 0x80, 2, '}', 'q', 0, '.', 0, 0, 0, 0};
        assertTrue(assertBad(pickle).endsWith("not a safetensors file: it is a Python pickle"));
        assertTrue(assertBad(le(16, b -> b.putLong(9))).contains("runs past the end of the file (16 bytes)"));
    }

    @Test
    void badHeaderLengths() throws IOException {
        for (int n = 0; n < 8; n++) {
            assertBad(new byte[n]);
        }
        assertBad(le(16, b -> b.putLong(Long.MIN_VALUE))); // 2^63
        assertBad(le(16, b -> b.putLong(-1))); // 2^64 - 1
        assertBad(le(16, b -> b.putLong(SafetensorsReader.MAX_HEADER_BYTES + 1)));
        assertBad(le(16, b -> b.putLong(9))); // one byte past the end
        String message = assertBad(le(16, b -> b.putLong(Long.MIN_VALUE)));
        assertTrue(message.contains("9223372036854775808"), message);
    }

    @Test
    void badJson() throws IOException {
        for (String json : new String[] {"", " ", "{", "{\"a\":", "{\"a\" 1}", "{} x", "{}{}", "[]", "\"s\"", "12",
                "null", "{'a':{}}", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}",
                "{\"a\":[]}", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}} \u0000",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":" + "[".repeat(10000)
                        + "]".repeat(10000) + "}}"}) {
            assertBadHeader(json, EIGHT);
        }
        byte[] notUtf8 = file("{\"\u00e9\":1}", EIGHT);
        notUtf8[10] = (byte) 0xff;
        assertBad(notUtf8);
    }

    @Test
    void badTensorEntries() throws IOException {
        for (String entry : new String[] {
            tensor("a", "F8_E4M3", "[8]", "[0,8]"), // unknown dtype
            tensor("a", "f32", "[2]", "[0,8]"),
            "\"a\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}",
            "\"a\":{\"dtype\":null,\"shape\":[2],\"data_offsets\":[0,8]}",
            tensor("a", "F32", "[-2]", "[0,8]"), // negative shape
            tensor("a", "F32", "[2.0]", "[0,8]"),
            tensor("a", "F32", "[2e0]", "[0,8]"),
            tensor("a", "F32", "[\"2\"]", "[0,8]"),
            tensor("a", "F32", "2", "[0,8]"),
            tensor("a", "F32", "[null]", "[0,8]"),
            tensor("a", "F32", "[2]", "[0,8,8]"),
            tensor("a", "F32", "[2]", "[8]"),
            tensor("a", "F32", "[2]", "[-8,0]"),
            tensor("a", "F32", "[2]", "[0,99999999999999999999]"),
            tensor("a", "F32", "[2]", "[8,0]"), // begin > end
            tensor("a", "F32", "[3]", "[0,8]"), // byte length does not match
            tensor("a", "F16", "[2]", "[0,8]"),
            tensor("a", "F32", "[2]", "[0,16]"), // past the end
            tensor("a", "F32", "[4]", "[0,16]"),
            tensor("a", "F32", "[2]", "[8,16]"), // gap at the start, past the end
            tensor("a", "F32", "[4294967296,4294967296]", "[0,8]"), // numel overflows
            tensor("a", "F32", "[4611686018427387904]", "[0,8]"), // bytes overflow
            tensor("a", "F32", "[4294967296,4294967296,0]", "[0,0]"),
            tensor("a", "F32", "[2]", "[9223372036854775799,9223372036854775807]"),
            "\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}", // missing dtype
            "\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}",
            "\"a\":{\"dtype\":\"F32\",\"shape\":[2]}",
            "\"a\":1",
            tensor("a", "F32", "[2]", "[0,8]") + ",\"__metadata__\":[]",
            tensor("a", "F32", "[2]", "[0,8]") + ",\"__metadata__\":{\"k\":1}",
            tensor("a", "F32", "[2]", "[0,8]") + ",\"__metadata__\":{\"k\":\"v\",\"k\":\"w\"}",
            tensor("a", "F32", "[2]", "[0,8]") + ",\"__metadata__\":{},\"__metadata__\":{}",
            tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("a", "F32", "[2]", "[0,8]"), // duplicate name
            tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("b", "F32", "[2]", "[0,8]"), // same region
            tensor("a", "F32", "[1]", "[0,4]"), // trailing data
        }) {
            assertBadHeader("{" + entry + "}", EIGHT);
        }
    }

    @Test
    void overlappingAndGappedTensors() throws IOException {
        String overlap = assertBadHeader("{" + tensor("a", "F32", "[2]", "[0,8]") + ","
                + tensor("b", "F32", "[2]", "[4,12]") + "}", new byte[12]);
        assertTrue(overlap.contains("overlapping"), overlap);
        String gap = assertBadHeader("{" + tensor("a", "F32", "[1]", "[0,4]") + ","
                + tensor("b", "F32", "[1]", "[8,12]") + "}", new byte[12]);
        assertTrue(gap.contains("gap"), gap);
        String name = assertBadHeader("{" + tensor("a\\nb", "F32", "[3]", "[0,8]") + "}", EIGHT);
        assertTrue(name.contains("\"a\\nb\""), name); // control characters stay escaped
    }

    private static byte[] validFile() {
        return new SafetensorsFiles.Builder()
                .metadata("{\"k\":\"v\"}")
                .tensor("w", "F16", new long[] {2, 3}, new byte[12])
                .tensor("b", "BF16", new long[] {3}, le(6, b -> b.putShort((short) 0x3f80)))
                .tensor("s", "F32", new long[] {}, le(4, b -> b.putFloat(5)))
                .tensor("i", "I64", new long[] {1}, new byte[8])
                .build();
    }

    @Test
    void truncationAnywhereFails() throws IOException {
        byte[] valid = validFile();
        try (SafetensorsReader r = SafetensorsReader.open(Files.write(dir.resolve("ok.safetensors"), valid))) {
            assertEquals(4, r.names().size());
        }
        for (int cut = 0; cut < valid.length; cut++) {
            assertBad(Arrays.copyOf(valid, cut));
        }
    }

    @Test
    void randomByteFlipsFailCleanlyOrReadFine() throws IOException {
        byte[] valid = validFile();
        Random random = new Random(20240611);
        Path p = dir.resolve("flipped.safetensors");
        int opened = 0;
        for (int round = 0; round < 3000; round++) {
            byte[] bytes = valid.clone();
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                int at = random.nextInt(bytes.length);
                bytes[at] = random.nextInt(2) == 0 ? (byte) (bytes[at] ^ (1 << random.nextInt(8)))
                        : (byte) random.nextInt(256);
            }
            Files.write(p, bytes);
            try (SafetensorsReader r = SafetensorsReader.open(p)) {
                for (String name : r.names()) {
                    assertEquals(r.info(name).numel(), r.readFloats(name).length);
                }
                opened++;
            } catch (BadInputException expected) {
                assertTrue(expected.getMessage().startsWith(p + ": "));
            } catch (RuntimeException | Error e) {
                fail("round " + round + ": " + e, e);
            }
        }
        assertTrue(opened > 0, "some flips only touch data and must still read");
    }

    @Test
    void aFieldRepeatedInsideOneEntryIsRefused() throws IOException {
        String[] dup = {
            "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"shape\":[2],\"data_offsets\":[0,8]}}",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4],\"data_offsets\":[0,8]}}",
        };
        for (String json : dup) {
            String m = assertBadHeader(json, new byte[8]);
            assertTrue(m.contains("tensor \"a\": field ") && m.endsWith(" appears twice"), m);
        }
    }

    @Test
    void claimedSizesAreBoundedAndMessagesStayShort() throws IOException {
        String dims = "[" + "1,".repeat(9_999) + "1]";
        String m = assertBadHeader("{" + tensor("a", "F32", dims, "[0,4]") + "}", new byte[4]);
        assertTrue(m.contains("shape has more than 64 values"), m);
        assertTrue(m.length() <= 300, m);

        String offsets = assertBadHeader("{" + tensor("a", "F32", "[1]", "[0,4,8]") + "}", new byte[4]);
        assertTrue(offsets.contains("data_offsets has more than 2 values"), offsets);

        String longName = "n".repeat(1 << 20);
        String named = assertBadHeader("{" + tensor(longName, "F99", "[1]", "[0,4]") + "}", new byte[4]);
        assertTrue(named.length() <= 300 && named.contains("..."), named.length() + " " + named);

        String control = assertBadHeader("{" + tensor("a\\u001b[31mred\\u0007", "F99", "[1]", "[0,4]") + "}",
                new byte[4]);
        assertTrue(control.chars().noneMatch(c -> c < 0x20 || c == 0x7f), control);
    }
}
