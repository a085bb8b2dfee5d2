package org.adcsr.core.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.CRC32;
import org.adcsr.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImagesTest {
    @TempDir
    Path tmp;

    private static Image random(int w, int h, int channels, int max, long seed) {
        Random r = new Random(seed);
        Image img = Image.blank(w, h, channels, max);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = r.nextInt(max + 1);
        }
        return img;
    }

    @Test
    void pngRoundTripsExactlyIn8And16BitGrayRgbAndAlpha() {
        for (int max : new int[] {255, 65535}) {
            for (int channels = 1; channels <= 4; channels++) {
                Image img = random(7, 5, channels, max, channels * 31L + max);
                Path f = tmp.resolve("x" + max + "_" + channels + ".png");
                Images.write(img, f, 95);
                Image back = Images.read(f);
                assertEquals(channels, back.channels(), f.toString());
                assertEquals(max, back.maxValue(), f.toString());
                assertArrayEquals(img.data(), back.data(), f.toString());
            }
        }
    }

    @Test
    void jpegAndBmpAreWrittenAs8BitOpaque() {
        Image img = random(16, 8, 4, 65535, 3);
        Path jpg = tmp.resolve("a.jpg");
        Images.write(img, jpg, 90);
        Image back = Images.read(jpg);
        assertEquals(3, back.channels());
        assertEquals(255, back.maxValue());
        Path bmp = tmp.resolve("a.bmp");
        Images.write(img, bmp, 90);
        assertArrayEquals(Images.to8BitOpaque(img).data(), Images.read(bmp).data());
    }

    @Test
    void badFilesGiveOneLineErrorsNamingTheFile() throws IOException {
        Path empty = Files.write(tmp.resolve("empty.png"), new byte[0]);
        Path text = Files.writeString(tmp.resolve("text.png"), "hello, not an image");
        Path png = tmp.resolve("ok.png");
        Images.write(random(8, 8, 3, 255, 1), png, 90);
        byte[] bytes = Files.readAllBytes(png);
        Path truncated = Files.write(tmp.resolve("truncated.png"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        for (Path f : new Path[] {empty, text, truncated, tmp.resolve("missing.png")}) {
            BadInputException e = assertThrows(BadInputException.class, () -> Images.read(f));
            assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
        assertThrows(BadInputException.class, () -> Images.write(random(2, 2, 3, 255, 1), tmp.resolve("x.xyz"), 90));
    }

    @Test
    void decompressionBombIsRefusedFromTheHeader() {
        // a valid PNG header (IHDR) claiming 100000 x 100000 pixels, and nothing else
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ihdr.array());
        long t0 = System.nanoTime();
        BadInputException e = assertThrows(BadInputException.class,
                () -> Images.decode(png.toByteArray(), "bomb.png", Images.DEFAULT_MAX_PIXELS));
        assertTrue(e.getMessage().contains("100000x100000"), e.getMessage());
        assertTrue(System.nanoTime() - t0 < 2e9);
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(12 + data.length);
        b.putInt(data.length).put(type.getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put(data);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 4, 4 + data.length);
        b.putInt((int) crc.getValue());
        out.writeBytes(b.array());
    }
}
