package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.adcsr.core.BadInputException;
import org.adcsr.core.degrade.Degrader;
import org.adcsr.core.degrade.PairRecord;
import org.adcsr.core.degrade.Planes;
import org.adcsr.core.degrade.Settings;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pairs degraded on the fly: pure in the step, each photo once per epoch, and replayable from the logged draws. */
class OnlinePairsTest {
    @TempDir
    Path dir;

    /** 64 px HR crops (16 px LR) of the 160x140 degrade fixture photo; resize ranges that keep a 21-tap blur valid. */
    static Settings small() {
        return Settings.of("adcsr", null, List.of("resize_range=[0.5, 1.5]", "resize_range2=[0.75, 1.2]"), 64);
    }

    Path photo(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = OnlinePairsTest.class.getResourceAsStream("/fixtures/degrade/photo.png")) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void theLoggedDrawsReplayToTheSameBatch() throws IOException {
        Path a = photo("a.png");
        OnlinePairs data = OnlinePairs.open(new OnlinePairs.Spec(List.of(a), small()), 5);
        assertArrayEquals(new int[] {16, 16}, data.lrSize());
        PairData.Batch b = data.batch(3, 2);
        assertArrayEquals(b.lr(), data.batch(3, 2).lr(), "a batch is a pure function of the step");
        Planes whole = Degrader.toRgb(Images.read(a));
        List<PairRecord> draws = data.draws(3, 2);
        assertEquals(List.of("000004", "000005"), draws.stream().map(r -> r.id).toList());
        for (int j = 0; j < 2; j++) {
            // through the log's row form, as adcsr-degrade --replay reads it back, and from the whole decoded photo
            PairRecord back = PairRecord.fromRow(draws.get(j).toMap());
            Degrader.Pair pair = Degrader.apply(back, whole);
            float[] lr = Arrays.copyOfRange(b.lr(), j * 3 * 256, (j + 1) * 3 * 256);
            float[] hr = Arrays.copyOfRange(b.hr(), j * 3 * 4096, (j + 1) * 3 * 4096);
            for (int i = 0; i < lr.length; i++) {
                assertEquals(Math.round(pair.lr().d[i] * 255f) / 255f * 2f - 1f, lr[i], "LR value " + i);
            }
            for (int i = 0; i < hr.length; i++) {
                assertEquals(Math.round(pair.hr().d[i] * 255f) / 255f * 2f - 1f, hr[i], "HR value " + i);
            }
        }
    }

    @Test
    void theSecondStageDrawsAreSharedWithinABatchOnly() throws IOException {
        // as adcsr-degrade --batch-size: the second stage's resize scale (a continuous draw) is one per batch
        OnlinePairs data = OnlinePairs.open(new OnlinePairs.Spec(List.of(photo("a.png")), small()), 7);
        Set<Double> perStep = new TreeSet<>();
        for (long step = 1; step <= 4; step++) {
            List<PairRecord> d = data.draws(step, 3);
            for (PairRecord r : d) {
                assertEquals(d.get(0).stage2.scale, r.stage2.scale, "step " + step);
                assertEquals(d.get(0).resizeFirst, r.resizeFirst, "step " + step);
            }
            perStep.add(d.get(0).stage2.scale);
        }
        assertTrue(perStep.size() >= 2, "new draws for new batches: " + perStep);
    }

    @Test
    void everyPhotoOncePerEpoch() throws IOException {
        List<Path> photos = List.of(photo("a.png"), photo("b.png"), photo("c.png"));
        OnlinePairs data = OnlinePairs.open(new OnlinePairs.Spec(photos, small()), 9);
        for (long epoch = 0; epoch < 3; epoch++) {
            Set<Integer> seen = new TreeSet<>();
            for (long k = 3 * epoch; k < 3 * epoch + 3; k++) {
                seen.add(data.imageOf(k));
            }
            assertEquals(Set.of(0, 1, 2), seen, "epoch " + epoch);
        }
        assertEquals(List.of(dir.resolve("a.png"), dir.resolve("b.png"), dir.resolve("c.png")),
                OnlinePairs.expand(List.of(dir)));
        BadInputException e = assertThrows(BadInputException.class,
                () -> OnlinePairs.expand(List.of(dir.resolve("none"))));
        assertEquals(dir.resolve("none") + ": no such file", e.getMessage());
        Path broken = Files.write(dir.resolve("broken.png"), new byte[] {1, 2, 3});
        assertThrows(BadInputException.class,
                () -> OnlinePairs.open(new OnlinePairs.Spec(List.of(broken), small()), 1));
    }
}
