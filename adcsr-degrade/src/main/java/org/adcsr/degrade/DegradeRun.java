package org.adcsr.degrade;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.degrade.Degrader;
import org.adcsr.core.degrade.Kernels;
import org.adcsr.core.degrade.PairRecord;
import org.adcsr.core.degrade.Settings;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.io.AtomicFiles;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVPrinter;
import org.apache.commons.csv.CSVRecord;
import org.adcsr.core.Rng;

/**
 * A whole {@code adcsr-degrade} run: list the pairs (from inputs, or from a CSV to replay), skip those a previous
 * interrupted run finished, make the rest on a thread pool, and write {@code pairs.csv} (sorted by pair index)
 * atomically at the end. Pair i's seed depends only on the run seed and i, so output bytes do not depend on the
 * thread count or on sharding.
 *
 * <p>Files: {@code hr/ID.png}, {@code lr/ID.png}, [{@code kernels/ID_*.png}], {@code pairs.csv} and
 * {@code pairs.settings} (the parameters in config-file form; a resumed run must match it). While running, finished
 * rows go to a hidden journal {@code .pairs.csv.partial}, so an interrupted run resumes without redoing them.
 */
public final class DegradeRun {
    private static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "tif", "tiff", "gif", "webp");

    /** What the run does; {@code replay} set means the pairs come from that CSV and settings/inputs are unused. */
    public record Options(List<Path> inputs, Path output, Settings settings, String presetName, int pairsPerImage,
                          long seed, int shardIndex, int shardCount, String codec, int threads, boolean saveKernels,
                          boolean force, Path replay, int batchSize) {
    }

    /** Where the library reports; the command prints. */
    public interface Listener {
        void warn(String message);

        void progress(long done, long total);
    }

    /** What happened: pairs made now, pairs found done, per-source errors (pairs of those sources are missing). */
    public record Summary(int made, int resumed, int total, Path csv, List<String> errors) {
    }

    private record Job(long index, String id, String source, PairRecord replay) {
    }

    private final Options o;
    private final Listener listener;

    public DegradeRun(Options options, Listener listener) {
        this.o = options;
        this.listener = listener;
    }

    public Summary run() throws IOException {
        List<Job> jobs = o.replay() != null ? replayJobs(o.replay()) : inputJobs();
        String shard = o.shardCount() > 1 ? "." + o.shardIndex() + "-of-" + o.shardCount() : "";
        if (o.shardCount() > 1) {
            List<Job> mine = new ArrayList<>();
            for (Job j : jobs) {
                if (j.index % o.shardCount() == o.shardIndex() - 1) {
                    mine.add(j);
                }
            }
            jobs = mine;
        }
        Path out = o.output();
        Path csv = out.resolve("pairs" + shard + ".csv");
        Path settingsFile = out.resolve("pairs" + shard + ".settings");
        Path journal = out.resolve(".pairs" + shard + ".csv.partial");
        // what this run creates, removed again if it makes no pair at all (every source unreadable)
        List<Path> created = new ArrayList<>();
        for (Path p = out.toAbsolutePath().normalize(); p != null && !Files.exists(p); p = p.getParent()) {
            created.add(0, p);
        }
        for (String sub : o.saveKernels() ? new String[] {"hr", "lr", "kernels"} : new String[] {"hr", "lr"}) {
            if (!Files.exists(out.resolve(sub))) {
                created.add(out.resolve(sub).toAbsolutePath().normalize());
            }
        }
        boolean settingsExisted = Files.exists(settingsFile);
        try {
            Files.createDirectories(out.resolve("hr"));
            Files.createDirectories(out.resolve("lr"));
            if (o.saveKernels()) {
                Files.createDirectories(out.resolve("kernels"));
            }
        } catch (IOException e) {
            throw BadInputException.of(out, "cannot create output directory (" + e.getMessage() + ")", e);
        }
        removeStaleTemporaries(out);

        String fingerprint = fingerprint();
        Map<Long, PairRecord> done = new ConcurrentSkipListMap<>();
        if (Files.exists(settingsFile) && !o.force()) {
            String old = Files.readString(settingsFile, StandardCharsets.UTF_8);
            if (!old.equals(fingerprint)) {
                throw BadInputException.of(out, "holds pairs made with other settings (" + settingsFile.getFileName()
                        + " differs); use another directory, or --force to overwrite");
            }
            readDone(csv, done);
            readDone(journal, done);
        } else if (!o.force() && (Files.exists(csv) || Files.exists(journal))) {
            throw BadInputException.of(out, "holds pairs of an unknown run (no " + settingsFile.getFileName()
                    + "); use another directory, or --force to overwrite");
        }
        if (o.force()) {
            Files.deleteIfExists(journal);
        }
        AtomicFiles.writeStream(settingsFile, s -> s.write(fingerprint.getBytes(StandardCharsets.UTF_8)));

        Map<Long, Job> byIndex = new LinkedHashMap<>();
        for (Job j : jobs) {
            byIndex.put(j.index, j);
        }
        done.keySet().retainAll(byIndex.keySet());
        done.values().removeIf(r -> !Files.exists(out.resolve(r.hrPath)) || !Files.exists(out.resolve(r.lrPath)));
        int resumed = done.size();

        Map<String, List<Job>> bySource = new LinkedHashMap<>();
        for (Job j : jobs) {
            if (!done.containsKey(j.index)) {
                bySource.computeIfAbsent(j.source, k -> new ArrayList<>()).add(j);
            }
        }
        int total = jobs.size();
        AtomicInteger finished = new AtomicInteger(resumed);
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        listener.progress(finished.get(), total);
        int threads = Math.max(1, o.threads());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "adcsr-degrade");
            t.setDaemon(true);
            return t;
        });
        Semaphore inFlight = new Semaphore(threads + 1);
        List<Future<?>> futures = new ArrayList<>();
        try (BufferedWriter jw = Files.newBufferedWriter(journal, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            for (Map.Entry<String, List<Job>> e : bySource.entrySet()) {
                inFlight.acquireUninterruptibly();
                SourceHolder holder = new SourceHolder(e.getKey(), e.getValue().size(), inFlight);
                for (Job j : e.getValue()) {
                    futures.add(pool.submit(() -> {
                        try {
                            PairRecord rec = makePair(j, holder);
                            String row = csvLine(rec);
                            synchronized (jw) {
                                jw.write(row);
                                jw.flush();
                            }
                            done.put(j.index, rec);
                            listener.progress(finished.incrementAndGet(), total);
                        } catch (BadInputException ex) {
                            if (holder.fail(ex.getMessage())) {
                                errors.add(ex.getMessage());
                            }
                        } finally {
                            holder.release();
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", ex);
                } catch (java.util.concurrent.ExecutionException ex) {
                    Throwable c = ex.getCause();
                    if (c instanceof RuntimeException re) {
                        throw re;
                    }
                    if (c instanceof Error err) {
                        throw err;
                    }
                    throw new IOException(c);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        if (done.isEmpty() && !errors.isEmpty()) {
            // nothing made and nothing to resume: leave no trace (no header-only CSV, no empty hr/ and lr/)
            Files.deleteIfExists(journal);
            if (!settingsExisted) {
                Files.deleteIfExists(settingsFile);
            }
            for (int i = created.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(created.get(i));
                } catch (java.nio.file.DirectoryNotEmptyException e) {
                    // something else lives there now: keep it
                }
            }
            return new Summary(0, 0, total, null, List.copyOf(errors));
        }
        writeCsv(csv, done.values());
        Files.deleteIfExists(journal);
        return new Summary(done.size() - resumed, resumed, total, csv, List.copyOf(errors));
    }

    /**
     * Sources of more pixels than this are not decoded whole: each pair decodes only the region its crop reads
     * ({@link Images#readRegion}), which bounds memory to the crop at the cost of decoding the file once per pair.
     * 2^24 pixels (16.8 MP, 4096 × 4096) take about 400 MB decoded whole (8-bit samples as floats, then RGB planes).
     */
    static final long WHOLE_DECODE_PIXELS = 1L << 24;

    private long wholeDecodePixels = WHOLE_DECODE_PIXELS;

    /** For tests: the size above which sources are decoded per pair, region by region. */
    DegradeRun wholeDecodePixels(long pixels) {
        this.wholeDecodePixels = pixels;
        return this;
    }

    /**
     * A source, shared by its pairs: its size from the header, then either the whole image decoded once and dropped
     * after the last pair, or (over {@link #WHOLE_DECODE_PIXELS}) each pair's region decoded on its own.
     */
    private final class SourceHolder {
        private final String name;
        private final Semaphore inFlight;
        private int remaining;
        private int[] size;
        private Degrader.Source whole;
        private String error;
        private BadInputException readError;
        private boolean warned;

        SourceHolder(String name, int pairs, Semaphore inFlight) {
            this.name = name;
            this.remaining = pairs;
            this.inFlight = inFlight;
        }

        /** Width and height (EXIF orientation applied), from the header; the same error to every pair. */
        synchronized int[] size() {
            if (size == null && readError == null) {
                try {
                    size = Images.size(Path.of(name));
                } catch (BadInputException e) {
                    readError = e;
                }
            }
            if (readError != null) {
                throw readError;
            }
            return size;
        }

        /** The decoded pixels the pair needs: the whole image, or only its crop's region of a large one. */
        Degrader.Source source(PairRecord rec) {
            int[] wh = size();
            if ((long) wh[0] * wh[1] > wholeDecodePixels) {
                // one region at a time per source: a progressive JPEG's decoder holds the whole image's
                // coefficients (about 6 bytes a pixel) whatever the region
                int[] r = Degrader.region(rec, wh[0], wh[1]);
                Image part;
                synchronized (this) {
                    part = Images.readRegion(Path.of(name), r[0], r[1], r[2], r[3], Images.DEFAULT_MAX_PIXELS);
                }
                return new Degrader.Source(Degrader.toRgb(part), r[0], r[1], wh[0], wh[1]);
            }
            synchronized (this) {
                if (whole == null && readError == null) {
                    try {
                        whole = Degrader.Source.whole(Degrader.toRgb(Images.read(Path.of(name))));
                    } catch (BadInputException e) {
                        readError = e;
                    }
                }
                if (readError != null) {
                    throw readError;
                }
                if (whole.width() != wh[0] || whole.height() != wh[1]) {
                    throw new BadInputException(name + ": decodes to " + whole.width() + "x" + whole.height()
                            + " but its header says " + wh[0] + "x" + wh[1]);
                }
                return whole;
            }
        }

        /** Records a failure of this source; true the first time, so each bad source is reported once. */
        synchronized boolean fail(String message) {
            if (error != null) {
                return false;
            }
            error = message;
            return true;
        }

        synchronized boolean warnOnce() {
            boolean first = !warned;
            warned = true;
            return first;
        }

        synchronized void release() {
            if (--remaining == 0) {
                whole = null;
                inFlight.release();
            }
        }
    }

    private PairRecord makePair(Job j, SourceHolder holder) throws IOException {
        int[] size = holder.size();
        PairRecord rec;
        if (j.replay != null) {
            rec = j.replay;
        } else {
            Rng batch = o.batchSize() > 1 ? new Rng(Rng.pairSeed(~o.seed(), j.index / o.batchSize())) : null;
            rec = PairRecord.draw(o.settings(), Rng.pairSeed(o.seed(), j.index), batch, size[0], size[1], o.codec());
            rec.id = j.id;
            rec.source = j.source;
            rec.hrPath = "hr/" + j.id + ".png";
            rec.lrPath = "lr/" + j.id + ".png";
        }
        if ((size[0] < rec.cropSize || size[1] < rec.cropSize) && holder.warnOnce()) {
            listener.warn(j.source + ": " + size[0] + "x" + size[1] + " is smaller than the " + rec.cropSize
                    + " px crop; padded bottom/right by reflection, as the reference does");
        }
        Degrader.Pair pair;
        try {
            pair = Degrader.apply(rec, holder.source(rec));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(j.source + ": pair " + rec.id + ": " + e.getMessage(), e);
        }
        Path out = o.output();
        Images.write(Degrader.toImage(pair.hr()), out.resolve(rec.hrPath), 95);
        Images.write(Degrader.toImage(pair.lr()), out.resolve(rec.lrPath), 95);
        if (o.saveKernels()) {
            saveKernel(rec.kernel1, out.resolve("kernels/" + rec.id + "_kernel1.png"));
            saveKernel(rec.kernel2, out.resolve("kernels/" + rec.id + "_kernel2.png"));
            saveKernel(rec.sinc, out.resolve("kernels/" + rec.id + "_final_sinc.png"));
        }
        return rec;
    }

    /** A 21×21 kernel as a 168×168 gray PNG, each tap an 8×8 block, scaled so the largest tap is white. */
    static void saveKernel(PairRecord.KernelDraw k, Path file) {
        float[] kernel = k.padded();
        float max = 0;
        for (float v : kernel) {
            max = Math.max(max, Math.abs(v));
        }
        int n = Kernels.PADDED;
        int z = 8;
        Image img = Image.blank(n * z, n * z, 1, 255);
        for (int y = 0; y < n * z; y++) {
            for (int x = 0; x < n * z; x++) {
                float v = kernel[(y / z) * n + x / z];
                img.data()[y * n * z + x] = Math.round(Math.max(0f, v) / max * 255f);
            }
        }
        Images.write(img, file, 95);
    }

    private String fingerprint() throws IOException {
        StringBuilder b = new StringBuilder();
        b.append("# adcsr-degrade run parameters; usable as --config FILE\n");
        if (o.replay() != null) {
            b.append("# replay: ").append(o.replay()).append('\n');
            b.append("# replay sha256: ").append(sha256(Files.readAllBytes(o.replay()))).append('\n');
        } else {
            b.append("# preset: ").append(o.presetName()).append('\n');
            b.append("# seed: ").append(o.seed()).append('\n');
            b.append("# pairs per image: ").append(o.pairsPerImage()).append('\n');
            b.append("# jpeg codec: ").append(o.codec()).append('\n');
            if (o.batchSize() > 1) {
                b.append("# batch size: ").append(o.batchSize()).append('\n');
            }
            List<String> src = sources();
            b.append("# inputs: ").append(src.size()).append(" images, first ").append(src.get(0))
                    .append(", list sha256 ").append(sha256(String.join("\n", src).getBytes(StandardCharsets.UTF_8)))
                    .append('\n');
            b.append(o.settings().describe());
        }
        return b.toString();
    }

    private static String sha256(byte[] bytes) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            StringBuilder s = new StringBuilder();
            for (byte x : md.digest(bytes)) {
                s.append(String.format("%02x", x));
            }
            return s.toString();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private List<String> sourcesCache;

    /** Input images in order: files as given, directories walked in sorted path order (image extensions only). */
    List<String> sources() throws IOException {
        if (sourcesCache != null) {
            return sourcesCache;
        }
        List<String> list = new ArrayList<>();
        for (Path p : o.inputs()) {
            if (Files.isDirectory(p)) {
                int before = list.size();
                try (Stream<Path> walk = Files.walk(p)) {
                    walk.filter(Files::isRegularFile)
                            .filter(f -> IMAGE_EXTENSIONS.contains(Images.extension(f)))
                            .map(Path::toString).sorted().forEach(list::add);
                }
                if (list.size() == before) {
                    throw BadInputException.of(p, "no images (directories are searched for ." + String.join(", .",
                            new java.util.TreeSet<>(IMAGE_EXTENSIONS)) + ")");
                }
            } else if (Files.isRegularFile(p)) {
                list.add(p.toString());
            } else {
                throw BadInputException.of(p, Files.exists(p) ? "not a file or directory" : "no such file");
            }
        }
        if (list.isEmpty()) {
            throw new BadInputException("no input images (directories are searched for ." + String.join(", .",
                    new java.util.TreeSet<>(IMAGE_EXTENSIONS)) + ")");
        }
        sourcesCache = list;
        return list;
    }

    private List<Job> inputJobs() throws IOException {
        List<Job> jobs = new ArrayList<>();
        List<String> src = sources();
        long index = 0;
        for (String s : src) {
            for (int k = 0; k < o.pairsPerImage(); k++, index++) {
                jobs.add(new Job(index, String.format(Locale.ROOT, "%06d", index), s, null));
            }
        }
        return jobs;
    }

    private List<Job> replayJobs(Path file) throws IOException {
        List<Job> jobs = new ArrayList<>();
        Map<String, Long> seen = new TreeMap<>();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get().parse(r)) {
            long index = 0;
            for (CSVRecord row : parser) {
                PairRecord rec;
                try {
                    rec = PairRecord.fromRow(row.toMap());
                } catch (IllegalArgumentException e) {
                    throw BadInputException.of(file, "line " + parser.getCurrentLineNumber() + ": "
                            + e.getMessage());
                }
                for (String rel : new String[] {rec.hrPath, rec.lrPath}) {
                    Path p = Path.of(rel);
                    if (p.isAbsolute() || p.normalize().startsWith("..") || !Images.extension(p).equals("png")) {
                        throw BadInputException.of(file, "line " + parser.getCurrentLineNumber()
                                + ": output path must be a relative .png inside the output directory: " + rel);
                    }
                }
                if (seen.put(rec.id, index) != null) {
                    throw BadInputException.of(file, "duplicate id " + rec.id);
                }
                jobs.add(new Job(index++, rec.id, rec.source, rec));
            }
        } catch (NoSuchFileException e) {
            throw BadInputException.of(file, "no such file", e);
        } catch (UncheckedIOException | IllegalStateException e) {
            throw BadInputException.of(file, "malformed CSV (" + e.getMessage() + ")", e);
        }
        if (jobs.isEmpty()) {
            throw BadInputException.of(file, "no pairs to replay");
        }
        return jobs;
    }

    /** Rows of a finished CSV or journal; a torn last line (interrupted write) is ignored. */
    private void readDone(Path file, Map<Long, PairRecord> done) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        Map<String, Long> indexById = new TreeMap<>();
        for (Job j : o.replay() != null ? replayJobs(o.replay()) : inputJobs()) {
            indexById.put(j.id, j.index);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (!text.startsWith(String.join(",", PairRecord.header()))) {
            text = String.join(",", PairRecord.header()) + "\r\n" + text;
        }
        try (CSVParser parser = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new java.io.StringReader(text))) {
            for (CSVRecord row : parser) {
                if (!row.isConsistent()) {
                    continue;
                }
                try {
                    PairRecord rec = PairRecord.fromRow(row.toMap());
                    Long index = indexById.get(rec.id);
                    if (index != null) {
                        done.put(index, rec);
                    }
                } catch (IllegalArgumentException e) {
                    // torn or foreign row: that pair is made again
                }
            }
        } catch (UncheckedIOException | IllegalStateException e) {
            // a torn quote at the end: keep what was parsed
        }
    }

    private static String csvLine(PairRecord rec) throws IOException {
        StringWriter sw = new StringWriter();
        try (CSVPrinter p = new CSVPrinter(sw, CSVFormat.DEFAULT)) {
            p.printRecord(rec.toRow());
        }
        return sw.toString();
    }

    private static void writeCsv(Path csv, Iterable<PairRecord> rows) throws IOException {
        AtomicFiles.writeStream(csv, os -> {
            java.io.Writer w = new java.io.OutputStreamWriter(os, StandardCharsets.UTF_8);
            CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(PairRecord.header()).get());
            for (PairRecord r : rows) {
                p.printRecord(r.toRow());
            }
            p.flush();
        });
    }

    /** Deletes temporary files ({@code .NAME.HEX.tmp}) that a killed run left behind. */
    private static void removeStaleTemporaries(Path out) throws IOException {
        for (String dir : new String[] {".", "hr", "lr", "kernels"}) {
            Path d = out.resolve(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.list(d)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(".") && n.matches("\\..+\\.[0-9a-f]+\\.tmp")) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}
