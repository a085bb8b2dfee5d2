package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training data: crops are exact, the order is seeded and resumable, bad images are skipped or refused. */
class CropSamplerTest {
    @TempDir
    Path tmp;

    /** An 8-bit RGB image whose red is x, green y and blue the image's number, so every crop says where it came from. */
    Path image(String name, int w, int h, int id) {
        Image img = Image.blank(w, h, 3, 255);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setSample(0, y, x, x);
                img.setSample(1, y, x, y);
                img.setSample(2, y, x, id);
            }
        }
        Path p = tmp.resolve(name);
        Images.write(img, p, 95);
        return p;
    }

    List<Path> images(int n) {
        List<Path> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(image("i" + i + ".png", 20 + i, 24, i * 10));
        }
        return list;
    }

    static int value(float v) {
        return Math.round((v + 1) * 127.5f);
    }

    @Test
    void cropsAreExactWindowsFlippedOrNot() {
        CropSampler s = new CropSampler(images(3), 8, true, 1, false, w -> { });
        int flipped = 0;
        for (int k = 0; k < 30; k++) {
            float[] b = s.next(1);
            int id = value(b[2 * 64]);
            int top = value(b[64]);
            int first = value(b[0]);
            int last = value(b[7]);
            boolean flip = first > last;
            flipped += flip ? 1 : 0;
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    assertEquals(flip ? first - x : first + x, value(b[y * 8 + x]), "red is the column");
                    assertEquals(top + y, value(b[64 + y * 8 + x]), "green is the row");
                    assertEquals(id, value(b[128 + y * 8 + x]), "blue is the image");
                }
            }
            assertTrue(id % 10 == 0 && id <= 20);
        }
        assertTrue(flipped > 5 && flipped < 25, "about half the crops are flipped: " + flipped);
    }

    @Test
    void eachEpochVisitsEveryImageOnceInASeededOrder() {
        List<Path> list = images(5);
        CropSampler a = new CropSampler(list, 8, false, 7, false, w -> { });
        CropSampler b = new CropSampler(list, 8, false, 7, false, w -> { });
        CropSampler c = new CropSampler(list, 8, false, 8, false, w -> { });
        int[] ids = new int[10];
        boolean differs = false;
        for (int k = 0; k < 10; k++) {
            float[] x = a.next(1);
            assertArrayEquals(x, b.next(1));
            differs |= !Arrays.equals(x, c.next(1));
            ids[k] = value(x[2 * 64]);
        }
        assertTrue(differs, "another seed, another order");
        int[] first = Arrays.copyOf(ids, 5);
        int[] second = Arrays.copyOfRange(ids, 5, 10);
        Arrays.sort(first);
        Arrays.sort(second);
        assertArrayEquals(new int[] {0, 10, 20, 30, 40}, first);
        assertArrayEquals(new int[] {0, 10, 20, 30, 40}, second);
        assertArrayEquals(new long[] {1, 5}, a.position()); // epoch 2 begins at the next draw
    }

    @Test
    void aRestoredPositionContinuesExactly() {
        List<Path> list = images(4);
        CropSampler straight = new CropSampler(list, 8, true, 3, false, w -> { });
        CropSampler first = new CropSampler(list, 8, true, 3, false, w -> { });
        for (int k = 0; k < 3; k++) {
            assertArrayEquals(straight.next(2), first.next(2));
        }
        long[] pos = first.position();
        CropSampler resumed = new CropSampler(list, 8, true, 3, false, w -> { });
        resumed.restore(pos);
        for (int k = 0; k < 4; k++) {
            assertArrayEquals(straight.next(2), resumed.next(2));
        }
    }

    @Test
    void unreadableAndSmallImagesAreSkippedOnceOrRefused() throws IOException {
        List<Path> list = new ArrayList<>(images(2));
        Path broken = tmp.resolve("broken.png");
        Files.writeString(broken, "not a png");
        list.add(broken);
        list.add(image("small.png", 5, 5, 90));
        List<String> warnings = new ArrayList<>();
        CropSampler s = new CropSampler(list, 8, false, 1, false, warnings::add);
        for (int k = 0; k < 12; k++) {
            int id = value(s.next(1)[2 * 64]);
            assertTrue(id == 0 || id == 10, "only the good images: " + id);
        }
        assertEquals(2, s.skipped());
        assertEquals(2, warnings.size(), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.startsWith(broken.toString())), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("5x5, smaller than the 8-pixel crop")), warnings.toString());

        CropSampler strict = new CropSampler(list, 8, false, 1, true, w -> { });
        BadInputException e = assertThrows(BadInputException.class, () -> {
            for (int k = 0; k < 8; k++) {
                strict.next(1);
            }
        });
        assertTrue(e.getMessage().startsWith(broken.toString()) || e.getMessage().contains("small.png"),
                e.getMessage());
    }

    @Test
    void cropsLargerThanEveryImageAreRefused() {
        CropSampler s = new CropSampler(images(2), 64, false, 1, false, w -> { });
        BadInputException e = assertThrows(BadInputException.class, () -> s.next(1));
        assertEquals("no usable training image: all 2 are unreadable or smaller than the 64-pixel crop",
                e.getMessage());
        assertFalse(e.getMessage().isEmpty());
        assertThrows(BadInputException.class, () -> new CropSampler(List.of(), 8, false, 1, false, w -> { }));
    }
}
