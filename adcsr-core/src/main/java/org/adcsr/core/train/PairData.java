package org.adcsr.core.train;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Rng;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Stage-2 training pairs from adcsr-degrade's {@code pairs.csv} (columns {@code id}, {@code lr_path},
 * {@code hr_path}; relative paths are relative to the CSV's folder), served in batches whose content is a pure
 * function of the step: sample k of the run (k = (step − 1)·B + j) is pair {@code perm_e[k mod n]} of epoch
 * {@code e = k div n}, each epoch a seeded permutation. A resumed run therefore sees exactly the batches an
 * uninterrupted one would, with nothing to save, whatever the thread count.
 */
public final class PairData implements TrainingPairs {
    /** One pair: its id, LR and HR files. */
    public record Pair(String id, Path lr, Path hr) {}

    /** A batch: LR {@code [B, 3, h, w]} and HR {@code [B, 3, 4h, 4w]} in [−1, 1], and the pairs' indices. */
    public record Batch(float[] lr, float[] hr, int[] indices) {}

    private final List<Pair> pairs;
    private final long seed;
    private final int lrHeight;
    private final int lrWidth;
    private long epoch = -1;
    private int[] perm;

    private PairData(List<Pair> pairs, long seed, int lrHeight, int lrWidth) {
        this.pairs = pairs;
        this.seed = seed;
        this.lrHeight = lrHeight;
        this.lrWidth = lrWidth;
    }

    /**
     * Reads {@code pairs.csv} and checks every pair's image sizes from the file headers (all LR images one size, each
     * HR image 4× its LR) before any training starts.
     */
    public static PairData open(Path csv, long seed) {
        List<Pair> pairs = read(csv);
        int[] size = null;
        for (Pair p : pairs) {
            int[] lr = Images.size(p.lr());
            int[] hr = Images.size(p.hr());
            if (hr[0] != 4 * lr[0] || hr[1] != 4 * lr[1]) {
                throw BadInputException.of(p.hr(), "is " + hr[0] + "x" + hr[1] + ", not 4x its LR image "
                        + p.lr() + " (" + lr[0] + "x" + lr[1] + ")");
            }
            if (size == null) {
                size = lr;
            } else if (size[0] != lr[0] || size[1] != lr[1]) {
                throw BadInputException.of(p.lr(), "is " + lr[0] + "x" + lr[1] + ", but the first pair's LR is "
                        + size[0] + "x" + size[1] + " (a batch needs one size; make the pairs with one --gt-size)");
            }
        }
        return new PairData(pairs, seed, size[1], size[0]);
    }

    /** The pairs of a {@code pairs.csv}, in file order. */
    public static List<Pair> read(Path csv) {
        Path base = csv.toAbsolutePath().getParent();
        List<Pair> out = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(csv, StandardCharsets.UTF_8);
                CSVParser p = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            for (String c : new String[] {"id", "lr_path", "hr_path"}) {
                if (!p.getHeaderMap().containsKey(c)) {
                    throw BadInputException.of(csv, "has no '" + c + "' column (adcsr-degrade's pairs.csv has id,"
                            + " hr_path, lr_path, ...)");
                }
            }
            for (CSVRecord rec : p) {
                out.add(new Pair(rec.get("id"), base.resolve(rec.get("lr_path")), base.resolve(rec.get("hr_path"))));
            }
        } catch (NoSuchFileException e) {
            throw BadInputException.of(csv, "no such file");
        } catch (IOException | java.io.UncheckedIOException | IllegalStateException | IllegalArgumentException e) {
            throw BadInputException.of(csv, "not a readable pairs CSV (" + e.getMessage() + ")");
        }
        if (out.isEmpty()) {
            throw BadInputException.of(csv, "has no pairs");
        }
        return out;
    }

    public List<Pair> pairs() {
        return List.copyOf(pairs);
    }

    @Override
    public int size() {
        return pairs.size();
    }

    @Override
    public int[] lrSize() {
        return new int[] {lrHeight, lrWidth};
    }

    /** The pair index of sample {@code k} of the run. */
    public int indexOf(long k) {
        long e = k / pairs.size();
        if (e != epoch) {
            perm = permutation(pairs.size(), new Rng(Rng.pairSeed(seed, e)));
            epoch = e;
        }
        return perm[(int) (k % pairs.size())];
    }

    @Override
    public Batch batch(long step, int batch) {
        int[] idx = new int[batch];
        for (int j = 0; j < batch; j++) {
            idx[j] = indexOf((step - 1) * batch + j);
        }
        return load(idx);
    }

    /** The pairs with the given indices as a batch. */
    public Batch load(int[] idx) {
        int plane = lrHeight * lrWidth;
        float[] lr = new float[idx.length * 3 * plane];
        float[] hr = new float[idx.length * 3 * 16 * plane];
        for (int j = 0; j < idx.length; j++) {
            Pair p = pairs.get(idx[j]);
            copy(p.lr(), Images.read(p.lr()), lrWidth, lrHeight, lr, j);
            copy(p.hr(), Images.read(p.hr()), 4 * lrWidth, 4 * lrHeight, hr, j);
        }
        return new Batch(lr, hr, idx);
    }

    private static void copy(Path file, Image img, int w, int h, float[] out, int j) {
        if (img.width() != w || img.height() != h) {
            throw BadInputException.of(file, "is " + img.width() + "x" + img.height() + ", expected " + w + "x" + h);
        }
        int plane = w * h;
        float max = img.maxValue();
        for (int c = 0; c < 3; c++) {
            int src = img.isGray() ? 0 : c;
            int off = (j * 3 + c) * plane;
            for (int i = 0; i < plane; i++) {
                out[off + i] = img.data()[src * plane + i] / max * 2f - 1f; // as (x/255)·2 − 1 in float32
            }
        }
    }

    /** A Fisher–Yates permutation of 0…n−1. */
    public static int[] permutation(int n, Rng rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int k = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[k];
            p[k] = t;
        }
        return p;
    }
}
