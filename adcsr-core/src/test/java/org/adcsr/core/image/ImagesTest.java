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

    @Test
    void webpIsRead() throws Exception {
        Path f = Path.of(ImagesTest.class.getResource("/fixtures/images/gradient-6x4-lossless.webp").toURI());
        Image img = Images.read(f);
        assertEquals(6, img.width());
        assertEquals(4, img.height());
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 6; x++) {
                assertEquals(40 * x, img.sample(0, y, x));
                assertEquals(60 * y, img.sample(1, y, x));
                assertEquals(100, img.sample(2, y, x));
            }
        }
    }

    @Test
    void jpegExifOrientationIsApplied() throws IOException {
        Image img = random(8, 4, 3, 255, 9);
        Path plain = tmp.resolve("plain.jpg");
        Images.write(img, plain, 100);
        Image stored = Images.read(plain);
        byte[] jpeg = Files.readAllBytes(plain);
        for (int orientation = 1; orientation <= 8; orientation++) {
            byte[] tagged = withOrientation(jpeg, orientation);
            assertEquals(orientation, Exif.orientation(tagged));
            Image shown = Images.decode(tagged, "o.jpg", Images.DEFAULT_MAX_PIXELS);
            boolean swap = orientation >= 5;
            assertEquals(swap ? 4 : 8, shown.width());
            // the stored top-left pixel lands where the orientation puts it
            int[][] corner = {null, {0, 0}, {7, 0}, {7, 3}, {0, 3}, {0, 0}, {3, 0}, {3, 7}, {0, 7}};
            assertEquals(stored.sample(0, 0, 0), shown.sample(0, corner[orientation][1], corner[orientation][0]),
                    "orientation " + orientation);
            // the header-only size agrees with the decoded image
            Path file = Files.write(tmp.resolve("o" + orientation + ".jpg"), tagged);
            assertEquals(java.util.List.of(shown.width(), shown.height()),
                    java.util.Arrays.stream(Images.size(file)).boxed().toList(), "orientation " + orientation);
        }
        assertEquals(8, Images.size(plain)[0]);
        assertThrows(BadInputException.class, () -> Images.size(tmp.resolve("missing.png")));
    }

    @Test
    void aRegionHasTheSamplesOfTheWholeImagesCrop() throws IOException {
        // every EXIF orientation of a JPEG (chroma subsampled, sides not multiples of 8), and 16-bit RGBA and gray PNGs
        Path plain = tmp.resolve("region.jpg");
        Images.write(random(21, 13, 3, 255, 5), plain, 90);
        byte[] jpeg = Files.readAllBytes(plain);
        java.util.List<Path> files = new java.util.ArrayList<>();
        for (int orientation = 1; orientation <= 8; orientation++) {
            files.add(Files.write(tmp.resolve("r" + orientation + ".jpg"), withOrientation(jpeg, orientation)));
        }
        for (Image img : new Image[] {random(19, 11, 4, 65535, 6), random(9, 17, 1, 255, 7)}) {
            Path p = tmp.resolve("r" + img.channels() + ".png");
            Images.write(img, p, 95);
            files.add(p);
        }
        for (Path file : files) {
            Image whole = Images.read(file);
            int[][] regions = {{0, 0, whole.width(), whole.height()}, {0, 0, 1, 1}, {2, 3, 5, 4},
                    {whole.width() - 6, whole.height() - 7, 6, 7}, {1, 0, whole.width() - 2, whole.height()}};
            for (int[] r : regions) {
                Image part = Images.readRegion(file, r[0], r[1], r[2], r[3], Images.DEFAULT_MAX_PIXELS);
                String what = file.getFileName() + " " + java.util.Arrays.toString(r);
                assertEquals(r[2], part.width(), what);
                assertEquals(r[3], part.height(), what);
                assertEquals(whole.channels(), part.channels(), what);
                for (int c = 0; c < whole.channels(); c++) {
                    for (int y = 0; y < r[3]; y++) {
                        for (int x = 0; x < r[2]; x++) {
                            assertEquals(whole.sample(c, r[1] + y, r[0] + x), part.sample(c, y, x), what);
                        }
                    }
                }
            }
            assertThrows(BadInputException.class,
                    () -> Images.readRegion(file, 1, 0, whole.width(), 1, Images.DEFAULT_MAX_PIXELS));
        }
    }

    /** Inserts an APP1 Exif segment (big-endian TIFF, IFD0 with one Orientation entry) after SOI. */
    private static byte[] withOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(8 + 2 + 12 + 4);
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8);
        tiff.putShort((short) 1).putShort((short) 0x0112).putShort((short) 3).putInt(1)
                .putShort((short) orientation).putShort((short) 0).putInt(0);
        byte[] exif = ByteBuffer.allocate(6 + tiff.capacity()).put("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1))
                .put(tiff.array()).array();
        ByteBuffer out = ByteBuffer.allocate(jpeg.length + 4 + exif.length);
        out.put(jpeg, 0, 2).put((byte) 0xff).put((byte) 0xe1).putShort((short) (exif.length + 2)).put(exif)
                .put(jpeg, 2, jpeg.length - 2);
        return out.array();
    }

    /** A small PNG written by ImageIO. */
    private static byte[] png(int w, int h) throws IOException {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h,
                java.awt.image.BufferedImage.TYPE_INT_RGB);
        new Random(3).ints(w * h).forEach(v -> { });
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, (x * 31 + y * 17) * 0x010203);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        javax.imageio.ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private static void fixCrc(byte[] b, int chunk) {
        int n = ByteBuffer.wrap(b, chunk, 4).getInt();
        CRC32 crc = new CRC32();
        crc.update(b, chunk + 4, 4 + n);
        ByteBuffer.wrap(b).putInt(chunk + 8 + n, (int) crc.getValue());
    }

    @Test
    void pngChunkCrcIsChecked() throws IOException {
        byte[] good = png(16, 8);
        assertEquals(16, Images.decode(good, "ok.png", Images.DEFAULT_MAX_PIXELS).width());
        byte[] bad = good.clone();
        bad[bad.length - 20] ^= 0x10; // inside the last IDAT (IEND is the last 12 bytes)
        BadInputException e = assertThrows(BadInputException.class,
                () -> Images.decode(bad, "bad.png", Images.DEFAULT_MAX_PIXELS));
        assertTrue(e.getMessage().startsWith("bad.png: PNG chunk IDAT at byte ")
                && e.getMessage().endsWith("fails its CRC-32 check: the file is corrupt"), e.getMessage());
    }

    @Test
    void aSmallPngClaimingAHugeSizeIsRefusedBeforeDecoding() throws IOException {
        byte[] b = png(16, 8);
        ByteBuffer.wrap(b).putInt(16, 16384).putInt(20, 16384); // IHDR width and height
        fixCrc(b, 8);
        long before = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        BadInputException e = assertThrows(BadInputException.class,
                () -> Images.decode(b, "forged.png", Images.DEFAULT_MAX_PIXELS));
        assertTrue(e.getMessage().contains("too few for any valid image data"), e.getMessage());
        long after = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        assertTrue(after - before < 64L << 20, "no image-sized allocation: " + (after - before));
    }
}
