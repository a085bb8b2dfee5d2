package org.adcsr.core.train;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Rng;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;

/**
 * The training tools' data: random square crops of a list of images, in a seeded order, as float RGB in [−1, 1]
 * (the range LDM's autoencoder and AdcSR train in). Epoch e visits every image once, in a permutation drawn from
 * {@code (seed, e)}; sample i of epoch e takes its crop offset and flip from {@code (seed, e, i)}. So the batches
 * depend on nothing but the seed and the position, which is two numbers a checkpoint stores ({@link #position()}),
 * and a resumed run draws exactly what an uninterrupted one would.
 *
 * <p>Gray images are replicated to RGB, alpha is dropped, 16-bit samples are scaled by 65535. An image that cannot be
 * read, or is smaller than the crop, is skipped with one warning line (once per file) and counted, or, with
 * {@code strict}, refused.
 */
public final class CropSampler {
    private final List<Path> images;
    private final int crop;
    private final boolean flips;
    private final long seed;
    private final boolean strict;
    private final Consumer<String> warn;
    private final boolean[] bad;
    private int skipped;
    private long epoch;
    private int index;
    private int[] order;

    /**
     * @param images the training images (a fixed list: the order of the list is part of the run's settings)
     * @param flips horizontal flips with probability ½
     * @param warn where the one-line warnings about skipped images go
     */
    public CropSampler(List<Path> images, int crop, boolean flips, long seed, boolean strict, Consumer<String> warn) {
        if (images.isEmpty()) {
            throw new BadInputException("no training images");
        }
        if (crop < 1) {
            throw new IllegalArgumentException("crop must be positive: " + crop);
        }
        this.images = List.copyOf(images);
        this.crop = crop;
        this.flips = flips;
        this.seed = seed;
        this.strict = strict;
        this.warn = warn;
        this.bad = new boolean[images.size()];
        this.order = permutation(0);
    }

    /** Where the next sample comes from: {epoch, index within the epoch}. */
    public long[] position() {
        return new long[] {epoch, index};
    }

    /** Continues from a {@link #position()} taken earlier. */
    public void restore(long[] position) {
        if (position.length != 2 || position[0] < 0 || position[1] < 0 || position[1] > images.size()) {
            throw new IllegalArgumentException("bad data position");
        }
        epoch = position[0];
        index = (int) position[1];
        order = permutation(epoch);
    }

    /** Images skipped so far (unreadable or smaller than the crop), each counted once. */
    public int skipped() {
        return skipped;
    }

    private int[] permutation(long e) {
        int n = images.size();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        Rng r = new Rng(Rng.pairSeed(seed, e));
        for (int i = n - 1; i > 0; i--) { // Fisher–Yates
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * The next {@code batch} crops, NCHW {@code (batch, 3, crop, crop)} values in [−1, 1].
     *
     * @throws BadInputException if a whole epoch passes without one usable image, or with {@code strict} at the
     *     first unusable one
     */
    public float[] next(int batch) {
        int plane = crop * crop;
        float[] out = new float[batch * 3 * plane];
        int visitedWithoutUse = 0;
        for (int b = 0; b < batch; ) {
            if (index == images.size()) {
                epoch++;
                index = 0;
                order = permutation(epoch);
            }
            int which = order[index];
            Rng r = new Rng(Rng.pairSeed(Rng.pairSeed(seed, epoch) ^ 0x5DEECE66DL, index));
            index++;
            Image img = usable(which);
            if (img == null) {
                if (++visitedWithoutUse > images.size()) {
                    throw new BadInputException("no usable training image: all " + images.size()
                            + " are unreadable or smaller than the " + crop + "-pixel crop");
                }
                continue;
            }
            visitedWithoutUse = 0;
            int top = r.nextInt(img.height() - crop + 1);
            int left = r.nextInt(img.width() - crop + 1);
            boolean flip = flips && r.nextDouble() < 0.5;
            float scale = 2f / img.maxValue();
            for (int c = 0; c < 3; c++) {
                int src = img.isGray() ? 0 : c;
                int base = (b * 3 + c) * plane;
                for (int y = 0; y < crop; y++) {
                    for (int x = 0; x < crop; x++) {
                        int sx = left + (flip ? crop - 1 - x : x);
                        out[base + y * crop + x] = img.sample(src, top + y, sx) * scale - 1;
                    }
                }
            }
            b++;
        }
        return out;
    }

    /** The image, or null (warned once, counted once) if it cannot serve a crop. */
    private Image usable(int which) {
        if (bad[which]) {
            return null;
        }
        Path file = images.get(which);
        String problem;
        try {
            Image img = Images.read(file);
            if (img.width() >= crop && img.height() >= crop) {
                return img;
            }
            problem = "is " + img.width() + "x" + img.height() + ", smaller than the " + crop + "-pixel crop";
        } catch (BadInputException e) {
            if (strict) {
                throw e;
            }
            problem = null;
            warn.accept(e.getMessage() + " (skipped)");
        }
        if (problem != null) {
            if (strict) {
                throw BadInputException.of(file, problem);
            }
            warn.accept(file + ": " + problem + " (skipped)");
        }
        bad[which] = true;
        skipped++;
        return null;
    }

    /** The images of the list, for messages and run settings. */
    public List<Path> images() {
        return new ArrayList<>(images);
    }
}
