package org.adcsr.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.adcsr.core.BadInputException;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.image.PilResize;
import org.adcsr.eval.metrics.FolderMetric;
import org.adcsr.eval.metrics.Metric;

/**
 * Scores pairs with a list of metrics, several images at a time. A pair that cannot be scored (unreadable file,
 * size or colour mismatch, a metric undefined for it) becomes one message and is left out of the means; the other
 * pairs are still scored. Rows come back in input order.
 */
public final class Evaluator {
    private final List<Metric> metrics;
    private final int threads;
    private final PilResize.Filter resizeSr;
    private final AtomicInteger resized = new AtomicInteger();

    /** An evaluator that refuses SR/GT size mismatches. */
    public Evaluator(List<Metric> metrics, int threads) {
        this(metrics, threads, null);
    }

    /**
     * @param resizeSr when an SR image's size differs from its GT's, resize the SR image to the GT's size with this
     *     filter ({@link PilResize#resize}) and score the resized image with every metric; null refuses the pair
     */
    public Evaluator(List<Metric> metrics, int threads, PilResize.Filter resizeSr) {
        this.metrics = List.copyOf(metrics);
        this.threads = Math.max(1, threads);
        this.resizeSr = resizeSr;
    }

    /** The metrics' CSV columns, suffixed with the resize filter when SR images are resized (README, adcsr-eval). */
    public List<String> columns() {
        String suffix = resizeSr == null ? "" : "_resized_" + resizeSr.name().toLowerCase(java.util.Locale.ROOT);
        return metrics.stream().map(m -> m.column() + suffix).toList();
    }

    /** Scores of one image, in metric order. */
    public record Row(String image, double[] values) {}

    /**
     * The result of a run.
     *
     * @param columns the CSV column of each metric: its {@link Metric#column}, with {@code _resized_bicubic} or
     *     {@code _resized_lanczos} appended when SR images are resized to their GT's size (every number may change)
     * @param rows scored images, in input order
     * @param problems one line per image left out
     * @param means mean of each metric over {@code rows}; for a {@link FolderMetric} its set-level value over the
     *     scored pairs (NaN, with a problem line, when undefined); image rows hold NaN for it
     * @param resized how many SR images were resized to their GT's size
     */
    public record Report(List<Metric> metrics, List<String> columns, List<Row> rows, List<String> problems, double[] means, int resized) {
        public int count() {
            return rows.size();
        }
    }

    /** Scores every pair; {@code progress} receives the number of pairs done so far. */
    public Report run(List<Pair> pairs, IntConsumer progress) {
        boolean needGt = metrics.stream().anyMatch(Metric::fullReference);
        List<Object> outcome = new ArrayList<>();            // Row or String, per pair
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(threads, Math.max(1, pairs.size())), r -> {
            Thread t = new Thread(r, "adcsr-eval");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (Pair p : pairs) {
                futures.add(pool.submit(() -> {
                    Object o = score(p, needGt);
                    progress.accept(done.incrementAndGet());
                    return o;
                }));
            }
            for (Future<Object> f : futures) {
                outcome.add(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        } finally {
            pool.shutdownNow();
        }
        List<Row> rows = new ArrayList<>();
        List<Scored> scored = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Object o : outcome) {
            if (o instanceof Scored sc) {
                rows.add(sc.row());
                scored.add(sc);
            } else {
                problems.add((String) o);
            }
        }
        double[] means = new double[metrics.size()];
        for (int m = 0; m < means.length; m++) {
            if (metrics.get(m) instanceof FolderMetric fm) {
                List<double[]> srF = new ArrayList<>(), gtF = new ArrayList<>();
                for (Scored sc : scored) {
                    srF.add(sc.features()[m][0]);
                    gtF.add(sc.features()[m][1]);
                }
                try {
                    means[m] = fm.folder(srF, gtF);
                } catch (IllegalArgumentException e) {
                    means[m] = Double.NaN;
                    problems.add(fm.name() + ": " + e.getMessage() + " (" + rows.size() + " scored); no score is "
                            + "written");
                }
                continue;
            }
            double s = 0;
            for (Row r : rows) {
                s += r.values()[m];
            }
            means[m] = rows.isEmpty() ? Double.NaN : s / rows.size();
        }
        return new Report(metrics, columns(), rows, problems, means, resized.getAndSet(0));
    }

    /** A scored pair: its row and, per folder-level metric (null elsewhere), the SR and GT features. */
    private record Scored(Row row, double[][][] features) {}

    private static String sizeMismatch(Pair p, int sw, int sh, int gw, int gh) {
        return p.sr() + ": size " + sw + "x" + sh + " differs from " + p.gt() + " " + gw + "x" + gh
                + " (SR and GT must match; --resize-sr resizes SR to GT)";
    }

    /** A {@link Scored}, or the one-line reason this pair was left out. */
    private Object score(Pair p, boolean needGt) {
        Image sr, gt = null;
        try {
            if (needGt && p.gt() != null && resizeSr == null) {
                // compare the sizes the headers give before decoding anything
                int[] s = Images.size(p.sr());
                int[] g = Images.size(p.gt());
                if (s[0] != g[0] || s[1] != g[1]) {
                    return sizeMismatch(p, s[0], s[1], g[0], g[1]);
                }
            }
            sr = Images.read(p.sr());
            if (needGt) {
                if (p.gt() == null) {
                    return p.sr() + ": no ground truth for the full-reference metrics";
                }
                gt = Images.read(p.gt());
            }
        } catch (BadInputException e) {
            return e.getMessage();
        }
        if (gt != null) {
            if ((sr.width() != gt.width() || sr.height() != gt.height()) && resizeSr != null) {
                sr = PilResize.resize(sr, gt.width(), gt.height(), resizeSr);
                resized.incrementAndGet();
            }
            if (sr.width() != gt.width() || sr.height() != gt.height()) {
                return sizeMismatch(p, sr.width(), sr.height(), gt.width(), gt.height());
            }
            if (sr.isGray() != gt.isGray()) {
                return p.sr() + ": " + kind(sr) + " but " + p.gt() + " is " + kind(gt)
                        + " (convert one so both are gray or both colour)";
            }
        }
        double[] v = new double[metrics.size()];
        double[][][] features = new double[metrics.size()][][];
        for (int m = 0; m < v.length; m++) {
            Metric metric = metrics.get(m);
            if (metric instanceof FolderMetric fm) {
                v[m] = Double.NaN;
                try {
                    features[m] = new double[][] {fm.features(sr), fm.features(gt)};
                } catch (IllegalArgumentException e) {
                    return p.sr() + ": " + metric.name() + ": " + e.getMessage();
                }
                continue;
            }
            try {
                v[m] = metric.score(sr, metric.fullReference() ? gt : null);
            } catch (IllegalArgumentException e) {
                return p.sr() + ": " + metric.name() + ": " + e.getMessage();
            }
            if (Double.isNaN(v[m])) {
                return p.sr() + ": " + metric.name() + " is undefined for this image";
            }
        }
        return new Scored(new Row(p.name(), v), features);
    }

    private static String kind(Image img) {
        return img.isGray() ? "gray" : "colour";
    }
}
