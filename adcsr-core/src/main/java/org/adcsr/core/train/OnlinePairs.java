package org.adcsr.core.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Rng;
import org.adcsr.core.degrade.Degrader;
import org.adcsr.core.degrade.PairRecord;
import org.adcsr.core.degrade.Planes;
import org.adcsr.core.degrade.Settings;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;

/**
 * Stage-2 pairs degraded on the fly from photos (adcsr-distill {@code --images}), with adcsr-degrade's operations.
 * Sample k of the run (k = (step − 1)·B + j) is a crop of image {@code perm_e[k mod n]} of epoch {@code e = k div n}
 * (a seeded permutation of the n images), degraded with the draws {@code adcsr-degrade --seed S --batch-size B} gives
 * its pair k: {@link PairRecord#draw} with {@code Rng.pairSeed(S, k)} and, for the draws shared by a batch, the step's
 * {@code Rng.pairSeed(~S, step − 1)}. A batch is a pure function of the step (a resumed run sees the same ones), and
 * each sample's record is logged ({@link #draws}) so that {@code adcsr-degrade --replay} writes the very pairs the run
 * trained on. Each sample decodes only its crop's region of the photo, so memory does not grow with the photos.
 */
public final class OnlinePairs implements TrainingPairs {
    /** The photos and the degradation: what a run stores to be resumed. */
    public record Spec(List<Path> images, Settings degrade) {
        public Spec {
            images = List.copyOf(images);
        }
    }

    /** Mixed into the run seed for the epoch permutations, so they do not share a stream with the draws. */
    private static final long PERMUTATION_STREAM = 0x9E3779B97F4A7C15L;

    private final List<Path> images;
    private final int[][] sizes;
    private final Settings degrade;
    private final long seed;
    private long epoch = -1;
    private int[] perm;
    private long lastStep = -1;
    private List<PairRecord> lastDraws = List.of();

    private OnlinePairs(List<Path> images, int[][] sizes, Settings degrade, long seed) {
        this.images = images;
        this.sizes = sizes;
        this.degrade = degrade;
        this.seed = seed;
    }

    /** The photos of {@code spec} (each size read from its header now, so a bad file stops the run before step 1). */
    public static OnlinePairs open(Spec spec, long seed) {
        List<Path> files = spec.images();
        int[][] sizes = new int[files.size()][];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = Images.size(files.get(i));
        }
        return new OnlinePairs(files, sizes, spec.degrade().validate(), seed);
    }

    /**
     * Files as given and the images under directories (sorted, {@link Images#EXTENSIONS}), as absolute paths (the
     * run's settings and draws log name them); none is an error.
     */
    public static List<Path> expand(List<Path> inputs) {
        List<Path> out = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                int before = out.size();
                try (Stream<Path> walk = Files.walk(p)) {
                    walk.filter(Files::isRegularFile).filter(Images::isImageName).sorted()
                            .forEach(f -> out.add(f.toAbsolutePath().normalize()));
                } catch (IOException | java.io.UncheckedIOException e) {
                    throw BadInputException.of(p, "cannot list (" + e.getMessage() + ")", e);
                }
                if (out.size() == before) {
                    throw BadInputException.of(p, "no images (." + String.join(", .",
                            new java.util.TreeSet<>(Images.EXTENSIONS)) + ")");
                }
            } else if (Files.isRegularFile(p)) {
                out.add(p.toAbsolutePath().normalize());
            } else {
                throw BadInputException.of(p, Files.exists(p) ? "not a file or directory" : "no such file");
            }
        }
        if (out.isEmpty()) {
            throw new BadInputException("no images given");
        }
        return out;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public int[] lrSize() {
        int lr = degrade.gtSize() / 4;
        return new int[] {lr, lr};
    }

    /** The image of sample {@code k}. */
    int imageOf(long k) {
        long e = k / images.size();
        if (e != epoch) {
            perm = PairData.permutation(images.size(), new Rng(Rng.pairSeed(seed ^ PERMUTATION_STREAM, e)));
            epoch = e;
        }
        return perm[(int) (k % images.size())];
    }

    /**
     * The records of step {@code step}'s samples (ids are k, six digits, as adcsr-degrade numbers its pairs); the last
     * step's are kept, so the batch and the log of one step draw once.
     */
    public List<PairRecord> draws(long step, int batch) {
        if (step == lastStep && batch == lastDraws.size()) {
            return lastDraws;
        }
        lastDraws = drawn(step, batch);
        lastStep = step;
        return lastDraws;
    }

    private List<PairRecord> drawn(long step, int batch) {
        List<PairRecord> out = new ArrayList<>(batch);
        for (int j = 0; j < batch; j++) {
            long k = (step - 1) * batch + j;
            int i = imageOf(k);
            // the batch's shared draws: every sample starts a generator of the same seed, as adcsr-degrade does
            Rng shared = batch > 1 ? new Rng(Rng.pairSeed(~seed, step - 1)) : null;
            PairRecord rec = PairRecord.draw(degrade, Rng.pairSeed(seed, k), shared, sizes[i][0], sizes[i][1],
                    Degrader.DIFFJPEG);
            rec.id = String.format(Locale.ROOT, "%06d", k);
            rec.source = images.get(i).toString();
            rec.hrPath = "hr/" + rec.id + ".png";
            rec.lrPath = "lr/" + rec.id + ".png";
            out.add(rec);
        }
        return List.copyOf(out);
    }

    @Override
    public PairData.Batch batch(long step, int batch) {
        List<PairRecord> draws = draws(step, batch);
        int lr = degrade.gtSize() / 4;
        int plane = lr * lr;
        float[] lrOut = new float[batch * 3 * plane];
        float[] hrOut = new float[batch * 3 * 16 * plane];
        int[] idx = new int[batch];
        for (int j = 0; j < batch; j++) {
            PairRecord rec = draws.get(j);
            Path file = Path.of(rec.source);
            int[] r = Degrader.region(rec, rec.sourceWidth, rec.sourceHeight);
            Image part = Images.readRegion(file, r[0], r[1], r[2], r[3], Images.DEFAULT_MAX_PIXELS);
            Degrader.Pair pair;
            try {
                pair = Degrader.apply(rec, new Degrader.Source(Degrader.toRgb(part), r[0], r[1], rec.sourceWidth,
                        rec.sourceHeight));
            } catch (IllegalArgumentException e) {
                throw BadInputException.of(file, "pair " + rec.id + ": " + e.getMessage(), e);
            }
            copy(pair.lr(), lrOut, j);
            copy(pair.hr(), hrOut, j);
            idx[j] = imageOf((step - 1) * batch + j);
        }
        return new PairData.Batch(lrOut, hrOut, idx);
    }

    /** Quantised planes in [0, 1] to [−1, 1] exactly as {@link PairData} reads the same pair from its PNGs. */
    private static void copy(Planes p, float[] out, int j) {
        int n = p.d.length;
        for (int i = 0; i < n; i++) {
            out[j * n + i] = Math.round(p.d[i] * 255f) / 255f * 2f - 1f;
        }
    }

    /** The CSV columns of the draws log: the step, then adcsr-degrade's pairs.csv columns. */
    public static List<String> logColumns() {
        List<String> c = new ArrayList<>();
        c.add("step");
        c.addAll(List.of(PairRecord.header()));
        return c;
    }

    /** One row per sample of the step, for {@link MetricsLog#appendCells}. */
    public static List<List<String>> logRows(List<PairRecord> draws) {
        return draws.stream().map(PairRecord::toRow).toList();
    }
}
