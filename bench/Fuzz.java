// Issue 19's fuzz run: seeded mutants of valid model files and images through the real tools, one process each, so
// exit codes, stderr and peak RSS are what a user would see. Run from the repository root after the build:
//   java -cp 'lib/*' bench/Fuzz.java [N] [minutes] [jobs] [readers]   (bench/fuzz.sh: with the launchers' settings)
// N mutants per reader (default 100), a wall-clock budget after which no new mutant starts (default 20), parallel
// processes (default 2), a regex on the reader names (default all). Mutant i of a reader is the same on every run. Readers: safetensors (our model file), the two torch zips of the parity fixtures
// (net_params_tiny.pkl, halfDecoder_tiny.ckpt), PNG and JPEG. Model mutants run `adcsr-upscale info`, every fifth one
// also a full upscale of a 16x16 image; image mutants run adcsr-upscale (tiny model), adcsr-eval -m psnr and
// adcsr-degrade (2 pairs, AdcSR preset, 256 px) in turn (index mod 3 = 0, 1, 2). A mutant fails on: an exit code other than 0 and 3, a timeout (60 s), a stderr
// line over 300 characters, a Java stack trace on stderr, or (model files) a peak RSS over 1 GiB. Failing mutants
// are kept under bench/out/fuzz/fail/ with the command; the table goes to stdout and bench/out/fuzz.csv.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.adcsr.core.Engines;
import org.adcsr.core.io.DType;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;

public class Fuzz {
    static final int TIMEOUT_S = 60;
    static final int MAX_LINE = 300;
    static final long MODEL_RSS_KB = 1024L * 1024;
    static final Path OUT = Path.of("bench/out/fuzz");
    static final Path PARITY = Path.of("adcsr-core/src/test/resources/fixtures/parity");

    enum Format { SAFETENSORS, ZIP, PNG, JPEG }

    record Reader(String name, Format format, Path seed, boolean model) {}

    record Result(String reader, int index, String op, String tool, int exit, boolean timedOut, int maxLine,
            boolean trace, long rssKb, double seconds, String firstLine) {
        List<String> failures(boolean model) {
            List<String> f = new ArrayList<>();
            if (timedOut) {
                f.add("timeout");
            } else if (exit != 0 && exit != 3) {
                f.add("exit" + exit);
            }
            if (maxLine > MAX_LINE) {
                f.add("long_line");
            }
            if (trace) {
                f.add("trace");
            }
            if (model && rssKb > MODEL_RSS_KB) {
                f.add("rss");
            }
            return f;
        }
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        double minutes = args.length > 1 ? Double.parseDouble(args[1]) : 20;
        int jobs = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Files.createDirectories(OUT.resolve("work"));
        Files.createDirectories(OUT.resolve("fail"));
        Path seeds = Files.createDirectories(OUT.resolve("seeds"));
        Path model = seeds.resolve("tiny.safetensors");
        Path png = seeds.resolve("img.png");
        Path jpg = seeds.resolve("img.jpg");
        makeSeeds(model, png, jpg);
        String only = args.length > 3 ? args[3] : ".*";
        List<Reader> all = List.of(
                new Reader("safetensors", Format.SAFETENSORS, model, true),
                new Reader("torch-zip net_params", Format.ZIP, PARITY.resolve("net_params_tiny.pkl"), true),
                new Reader("torch-zip halfDecoder", Format.ZIP, PARITY.resolve("halfDecoder_tiny.ckpt"), true),
                new Reader("png", Format.PNG, png, false),
                new Reader("jpeg", Format.JPEG, jpg, false));
        List<Reader> readers = all.stream().filter(r -> r.name().matches(only)).toList();
        // The seeds themselves must pass, or every mutant's figures mean nothing.
        for (Reader r : readers) {
            for (int index = -1; index >= (r.model() ? -1 : -3); index--) { // images: every tool
                Result ok = runOne(r, index, "seed", r.seed(), Files.readAllBytes(r.seed()), seeds, false);
                if (ok.exit() != 0) {
                    throw new IllegalStateException("seed " + r.seed() + " fails in " + ok.tool() + ": exit "
                            + ok.exit() + ": " + ok.firstLine());
                }
            }
        }
        long deadline = System.nanoTime() + (long) (minutes * 60e9);
        ExecutorService pool = Executors.newFixedThreadPool(jobs);
        Map<String, List<Future<Result>>> futures = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        // Interleave the readers so that a time budget cuts them all alike.
        for (Reader r : readers) {
            futures.put(r.name(), new ArrayList<>());
        }
        byte[][] seedBytes = new byte[readers.size()][];
        for (int k = 0; k < readers.size(); k++) {
            seedBytes[k] = Files.readAllBytes(readers.get(k).seed());
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < readers.size(); k++) {
                Reader r = readers.get(k);
                byte[] seed = seedBytes[k];
                int index = i;
                futures.get(r.name()).add(pool.submit(() -> {
                    if (System.nanoTime() > deadline) {
                        return null;
                    }
                    Random rnd = new Random(19_000_000L * (all.indexOf(r) + 1) + index);
                    String[] op = new String[1];
                    byte[] mutant = mutate(r.format(), seed, rnd, op);
                    return runOne(r, index, op[0], r.seed(), mutant, OUT.resolve("work"), true);
                }));
            }
        }
        pool.shutdown();
        StringBuilder csv = new StringBuilder("reader,mutants,exit0,exit3,fail_exit,fail_timeout,fail_long_line,"
                + "fail_trace,fail_rss,max_line,max_rss_mb,max_seconds\n");
        System.out.printf(Locale.ROOT, "%-22s %7s %6s %6s %9s %7s %9s %6s %5s %8s %10s %7s%n", "reader", "mutants",
                "exit0", "exit3", "fail_exit", "timeout", "long_line", "trace", "rss", "max_line", "max_rss_MB",
                "max_s");
        List<String> failLines = new ArrayList<>();
        for (Reader r : readers) {
            int count = 0;
            int e0 = 0;
            int e3 = 0;
            int fExit = 0;
            int fTime = 0;
            int fLine = 0;
            int fTrace = 0;
            int fRss = 0;
            int maxLine = 0;
            long maxRss = 0;
            double maxS = 0;
            for (Future<Result> f : futures.get(r.name())) {
                Result x = f.get();
                if (x == null) {
                    continue;
                }
                count++;
                e0 += x.exit() == 0 && !x.timedOut() ? 1 : 0;
                e3 += x.exit() == 3 && !x.timedOut() ? 1 : 0;
                List<String> fl = x.failures(r.model());
                fExit += fl.stream().anyMatch(s -> s.startsWith("exit")) ? 1 : 0;
                fTime += fl.contains("timeout") ? 1 : 0;
                fLine += fl.contains("long_line") ? 1 : 0;
                fTrace += fl.contains("trace") ? 1 : 0;
                fRss += fl.contains("rss") ? 1 : 0;
                maxLine = Math.max(maxLine, x.maxLine());
                maxRss = Math.max(maxRss, x.rssKb());
                maxS = Math.max(maxS, x.seconds());
                if (!fl.isEmpty()) {
                    failLines.add(String.format(Locale.ROOT, "FAIL %s #%d %s %s: %s exit %d, %.1f s, %d MB: %s",
                            r.name(), x.index(), x.op(), x.tool(), fl, x.exit(), x.seconds(), x.rssKb() / 1024,
                            x.firstLine()));
                }
            }
            System.out.printf(Locale.ROOT, "%-22s %7d %6d %6d %9d %7d %9d %6d %5d %8d %10d %7.1f%n", r.name(), count,
                    e0, e3, fExit, fTime, fLine, fTrace, fRss, maxLine, maxRss / 1024, maxS);
            csv.append(String.format(Locale.ROOT, "%s,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.1f%n", r.name(), count, e0,
                    e3, fExit, fTime, fLine, fTrace, fRss, maxLine, maxRss / 1024, maxS));
        }
        failLines.forEach(System.out::println);
        System.out.printf(Locale.ROOT, "# %d failing mutants; %.1f min; timeout %d s per process, %d at a time%n",
                failLines.size(), (System.nanoTime() - t0) / 60e9, TIMEOUT_S, jobs);
        Files.writeString(OUT.getParent().resolve("fuzz.csv"), csv.toString());
    }

    // ---- seeds -------------------------------------------------------------------------------------------------

    static void makeSeeds(Path model, Path png, Path jpg) throws IOException {
        if (!Files.exists(model)) {
            Engine engine = Engines.start(Engines.Target.CPU, 1);
            try (NDManager m = engine.newBaseManager();
                    AdcsrModel net = AdcsrModel.random(AdcsrConfig.tiny(), 19, m, DataType.FLOAT32)) {
                ModelFiles.save(net, model, Map.of("source", "bench/Fuzz.java seed"), DType.F32);
            }
        }
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(19);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                int v = (x * 16) ^ (y * 11);
                img.setRGB(x, y, ((v & 255) << 16) | ((y * 16) << 8) | rnd.nextInt(256));
            }
        }
        ImageIO.write(img, "png", png.toFile());
        ImageIO.write(img, "jpeg", jpg.toFile());
    }

    // ---- running one mutant ------------------------------------------------------------------------------------

    static Result runOne(Reader r, int index, String op, Path seed, byte[] mutant, Path dir, boolean keepFailures)
            throws IOException, InterruptedException {
        String ext = seed.getFileName().toString().replaceAll("^.*\\.", "");
        Path work = Files.createTempDirectory(dir, "m" + index + "-");
        Path file = work.resolve("mutant." + ext);
        Files.write(file, mutant);
        List<String> cmd = new ArrayList<>();
        String tool;
        Path lr = OUT.resolve("seeds/img.png");
        Path tinyModel = OUT.resolve("seeds/tiny.safetensors");
        if (r.model()) {
            boolean full = index % 5 == 0;
            tool = full ? "upscale" : "info";
            cmd.add("bin/adcsr-upscale");
            if (!full) {
                cmd.add("info");
                cmd.addAll(List.of("--size", "16x16"));
            }
            cmd.add("-q");
            if (r.format() == Format.SAFETENSORS) {
                cmd.addAll(List.of("--weights", file.toString()));
            } else {
                Path net = PARITY.resolve("net_params_tiny.pkl");
                Path dec = PARITY.resolve("halfDecoder_tiny.ckpt");
                boolean isDecoder = seed.getFileName().toString().startsWith("halfDecoder");
                cmd.addAll(List.of("--weights", (isDecoder ? net : file).toString(), "--decoder",
                        (isDecoder ? file : dec).toString(), "--config", PARITY.resolve("config_tiny.json").toString(),
                        "--allow-unknown-globals"));
            }
            if (full) {
                cmd.addAll(List.of("--threads", "1", lr.toString(), "-o", work.resolve("sr.png").toString()));
            } else {
                cmd.addAll(List.of("-o", work.resolve("info.csv").toString()));
            }
        } else if (Math.floorMod(index, 3) == 2) {
            tool = "degrade";
            cmd.addAll(List.of("bin/adcsr-degrade", "-q", "--threads", "1", "--preset", "adcsr", "--gt-size", "256",
                    "--pairs-per-image", "2", "--seed", "1", "-o", work.resolve("pairs").toString(), file.toString()));
        } else if (Math.floorMod(index, 3) == 0) {
            tool = "upscale";
            cmd.addAll(List.of("bin/adcsr-upscale", "-q", "--threads", "1", "--weights", tinyModel.toString(),
                    file.toString(), "-o", work.resolve("sr.png").toString()));
        } else {
            tool = "eval";
            Path sr = Files.createDirectories(work.resolve("sr"));
            Path gt = Files.createDirectories(work.resolve("gt"));
            Files.move(file, sr.resolve("img." + ext));
            Files.copy(seed, gt.resolve("img." + ext));
            file = sr.resolve("img." + ext);
            cmd.addAll(List.of("bin/adcsr-eval", "-q", "--sr", sr.toString(), "--gt", gt.toString(), "-m", "psnr",
                    "-o", work.resolve("scores.csv").toString()));
        }
        Path rssFile = work.resolve("rss");
        Path errFile = work.resolve("stderr");
        List<String> full = new ArrayList<>(List.of("/usr/bin/time", "-f", "%M", "-o", rssFile.toString(),
                "timeout", "-k", "5", String.valueOf(TIMEOUT_S)));
        full.addAll(cmd);
        ProcessBuilder pb = new ProcessBuilder(full).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(errFile.toFile()).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null")
                .toFile()));
        long t = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_S + 30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
        }
        double seconds = (System.nanoTime() - t) / 1e9;
        int exit = p.exitValue();
        boolean timedOut = exit == 124 || exit == 137;
        String err = Files.readString(errFile, StandardCharsets.UTF_8);
        int maxLine = 0;
        String first = "";
        for (String line : err.split("\n")) {
            maxLine = Math.max(maxLine, line.codePointCount(0, line.length()));
            if (first.isEmpty() && !line.isBlank()) {
                first = line;
            }
        }
        boolean trace = err.contains("\tat ") || err.matches("(?s).*\\b(java|javax|sun|ai\\.djl)\\.[a-z.]+\\.[A-Z]\\w*"
                + "(Exception|Error)\\b.*");
        long rss = 0;
        // GNU time writes "Command exited with non-zero status N" before the figure; the figure is the last line.
        List<String> rssLines = Files.exists(rssFile) ? Files.readAllLines(rssFile) : List.of();
        for (String l : rssLines) {
            if (l.matches("\\d+")) {
                rss = Long.parseLong(l);
            }
        }
        Result res = new Result(r.name(), index, op, tool, exit, timedOut, maxLine, trace, rss, seconds,
                first.length() > 200 ? first.substring(0, 200) + "…" : first);
        if (keepFailures && !res.failures(r.model()).isEmpty()) {
            Path keep = OUT.resolve("fail").resolve(r.name().replace(' ', '_') + "-" + index);
            Files.createDirectories(keep);
            Files.copy(file, keep.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(keep.resolve("command"), String.join(" ", cmd) + "\n");
            Files.copy(errFile, keep.resolve("stderr"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        try (Stream<Path> s = Files.walk(work)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
        return res;
    }

    // ---- mutations ---------------------------------------------------------------------------------------------

    static final String[] OPS = {"flip", "truncate", "insert", "length", "duplicate", "zero", "inner"};

    /** One seeded mutation of {@code seed}; its name goes to {@code op[0]}. */
    static byte[] mutate(Format format, byte[] seed, Random rnd, String[] op) {
        String o = OPS[rnd.nextInt(OPS.length)];
        op[0] = o;
        byte[] b = seed.clone();
        int len = b.length;
        switch (o) {
            case "flip" -> {
                int bits = 1 + rnd.nextInt(8);
                // Half the flips land in the first 4 KiB, where the headers are.
                for (int k = 0; k < bits; k++) {
                    int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(len, 4096)) : rnd.nextInt(len);
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                }
                return b;
            }
            case "truncate" -> {
                return Arrays.copyOf(b, rnd.nextBoolean() ? rnd.nextInt(Math.min(len, 4096)) : rnd.nextInt(len));
            }
            case "insert" -> {
                int at = rnd.nextBoolean() ? rnd.nextInt(Math.min(len, 4096)) : rnd.nextInt(len);
                byte[] ins = new byte[1 + rnd.nextInt(64)];
                rnd.nextBytes(ins);
                return splice(b, at, 0, ins);
            }
            case "length" -> {
                int[] field = lengthField(format, b, rnd);
                if (field == null) {
                    op[0] = "length(none)flip";
                    b[rnd.nextInt(len)] ^= 0x40;
                    return b;
                }
                op[0] = "length@" + field[0];
                long[] extremes = {0, 1, 0xFFFFFFFFL, 0x7FFFFFFFL, 0x80000000L, rnd.nextInt(1 << 20), len,
                        readField(b, field) + 1, readField(b, field) - 1, readField(b, field) * 2};
                writeField(b, field, extremes[rnd.nextInt(extremes.length)]);
                return b;
            }
            case "duplicate" -> {
                int from = rnd.nextInt(len);
                int n = 1 + rnd.nextInt(Math.min(4096, len - from));
                int at = rnd.nextInt(len);
                return splice(b, at, rnd.nextBoolean() ? 0 : Math.min(n, len - at),
                        Arrays.copyOfRange(b, from, from + n));
            }
            case "zero" -> {
                int from = rnd.nextInt(len);
                int n = 1 + rnd.nextInt(Math.min(rnd.nextBoolean() ? 64 : 65536, len - from));
                Arrays.fill(b, from, from + n, (byte) 0);
                return b;
            }
            default -> {
                return inner(format, b, rnd, op);
            }
        }
    }

    /**
     * A mutation that passes the file's own checksum: inside one zip entry (its CRC-32 recomputed in both headers)
     * or one PNG chunk (its CRC recomputed), so the bytes reach the pickle VM, the tensor loader or the decoder.
     * Formats without a checksum get a burst of byte flips in the header.
     */
    static byte[] inner(Format format, byte[] b, Random rnd, String[] op) {
        if (format == Format.ZIP) {
            List<int[]> entries = zipEntries(b);
            if (!entries.isEmpty()) {
                // data.pkl half the time: the pickle VM is the interesting part.
                int[] e = null;
                for (int[] x : entries) {
                    if (x[4] == 1 && rnd.nextBoolean()) {
                        e = x;
                    }
                }
                if (e == null) {
                    e = entries.get(rnd.nextInt(entries.size()));
                }
                int start = e[1];
                int size = e[2];
                if (size > 0) {
                    op[0] = "inner(" + (e[4] == 1 ? "data.pkl" : "entry") + ")";
                    int hits = 1 + rnd.nextInt(4);
                    for (int k = 0; k < hits; k++) {
                        int at = start + rnd.nextInt(size);
                        b[at] = rnd.nextInt(3) == 0 ? (byte) rnd.nextInt(256) : (byte) (b[at] ^ (1 << rnd.nextInt(8)));
                    }
                    CRC32 crc = new CRC32();
                    crc.update(b, start, size);
                    int c = (int) crc.getValue();
                    le32(b, e[0] + 14, c);
                    le32(b, e[3] + 16, c);
                    return b;
                }
            }
        } else if (format == Format.PNG) {
            List<int[]> chunks = pngChunks(b);
            if (!chunks.isEmpty()) {
                int[] ch = chunks.get(rnd.nextInt(chunks.size()));
                int dataStart = ch[0] + 8;
                if (ch[1] > 0) {
                    op[0] = "inner(" + new String(b, ch[0] + 4, 4, StandardCharsets.ISO_8859_1) + ")";
                    int hits = 1 + rnd.nextInt(4);
                    for (int k = 0; k < hits; k++) {
                        int at = dataStart + rnd.nextInt(ch[1]);
                        b[at] = (byte) rnd.nextInt(256);
                    }
                    CRC32 crc = new CRC32();
                    crc.update(b, ch[0] + 4, 4 + ch[1]);
                    ByteBuffer.wrap(b).putInt(dataStart + ch[1], (int) crc.getValue());
                    return b;
                }
            }
        }
        op[0] = "inner(header)";
        int span = Math.min(b.length, format == Format.SAFETENSORS ? 8 + (int) Math.min(ByteBuffer.wrap(b)
                .order(ByteOrder.LITTLE_ENDIAN).getLong(0), b.length - 8) : 1024);
        for (int k = 0; k < 1 + rnd.nextInt(6); k++) {
            b[rnd.nextInt(span)] = (byte) (rnd.nextBoolean() ? rnd.nextInt(256) : "0123456789[]{}\",:-e".charAt(
                    rnd.nextInt(19)));
        }
        return b;
    }

    /** A length or size field of the format: {offset, width in bytes, 1 if big-endian}; null if none is found. */
    static int[] lengthField(Format format, byte[] b, Random rnd) {
        List<int[]> fields = new ArrayList<>();
        switch (format) {
            case SAFETENSORS -> {
                fields.add(new int[] {0, 8, 0});
                // Numbers in the JSON header (shapes and data_offsets) edited in place as text are "inner"; here
                // the binary header length only.
            }
            case ZIP -> {
                for (int[] e : zipEntries(b)) {
                    fields.add(new int[] {e[0] + 18, 4, 0}); // local compressed size
                    fields.add(new int[] {e[0] + 22, 4, 0}); // local uncompressed size
                    fields.add(new int[] {e[0] + 26, 2, 0}); // local name length
                    fields.add(new int[] {e[0] + 28, 2, 0}); // local extra length
                    fields.add(new int[] {e[3] + 20, 4, 0}); // central sizes
                    fields.add(new int[] {e[3] + 24, 4, 0});
                    fields.add(new int[] {e[3] + 42, 4, 0}); // local header offset
                }
                int eocd = lastIndexOf(b, new byte[] {'P', 'K', 5, 6});
                if (eocd >= 0) {
                    fields.add(new int[] {eocd + 8, 2, 0});
                    fields.add(new int[] {eocd + 10, 2, 0});
                    fields.add(new int[] {eocd + 12, 4, 0});
                    fields.add(new int[] {eocd + 16, 4, 0});
                }
            }
            case PNG -> {
                for (int[] c : pngChunks(b)) {
                    fields.add(new int[] {c[0], 4, 1});
                }
                fields.add(new int[] {16, 4, 1}); // IHDR width
                fields.add(new int[] {20, 4, 1}); // IHDR height
            }
            case JPEG -> {
                for (int i = 2; i + 4 < b.length; i++) {
                    int m = b[i + 1] & 255;
                    if ((b[i] & 255) == 0xFF && m >= 0xC0 && m != 0xFF && m != 0xD8 && m != 0xD9
                            && !(m >= 0xD0 && m <= 0xD7)) {
                        fields.add(new int[] {i + 2, 2, 1}); // segment length
                        if (m == 0xC0 || m == 0xC2) {
                            fields.add(new int[] {i + 5, 2, 1}); // height
                            fields.add(new int[] {i + 7, 2, 1}); // width
                        }
                        if (m == 0xDA) {
                            break;
                        }
                    }
                }
            }
            default -> { }
        }
        return fields.isEmpty() ? null : fields.get(rnd.nextInt(fields.size()));
    }

    /** Zip entries from the central directory: {local header, data start, size, central header, is data.pkl}. */
    static List<int[]> zipEntries(byte[] b) {
        List<int[]> out = new ArrayList<>();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int eocd = lastIndexOf(b, new byte[] {'P', 'K', 5, 6});
        if (eocd < 0 || eocd + 22 > b.length) {
            return out;
        }
        long cd = bb.getInt(eocd + 16) & 0xFFFFFFFFL;
        int count = bb.getShort(eocd + 10) & 0xFFFF;
        int at = (int) cd;
        for (int k = 0; k < count && at >= 0 && at + 46 <= b.length && bb.getInt(at) == 0x02014b50; k++) {
            int nameLen = bb.getShort(at + 28) & 0xFFFF;
            int extraLen = bb.getShort(at + 30) & 0xFFFF;
            int commentLen = bb.getShort(at + 32) & 0xFFFF;
            long size = bb.getInt(at + 20) & 0xFFFFFFFFL;
            long local = bb.getInt(at + 42) & 0xFFFFFFFFL;
            String name = at + 46 + nameLen <= b.length
                    ? new String(b, at + 46, nameLen, StandardCharsets.UTF_8) : "";
            if (local + 30 <= b.length && bb.getShort(at + 10) == 0) {
                int ln = bb.getShort((int) local + 26) & 0xFFFF;
                int le = bb.getShort((int) local + 28) & 0xFFFF;
                long start = local + 30 + ln + le;
                if (start + size <= b.length) {
                    out.add(new int[] {(int) local, (int) start, (int) size, at, name.endsWith("data.pkl") ? 1 : 0});
                }
            }
            at += 46 + nameLen + extraLen + commentLen;
        }
        return out;
    }

    /** PNG chunks: {offset of the length field, data length}. */
    static List<int[]> pngChunks(byte[] b) {
        List<int[]> out = new ArrayList<>();
        int at = 8;
        ByteBuffer bb = ByteBuffer.wrap(b);
        while (at + 12 <= b.length) {
            int n = bb.getInt(at);
            if (n < 0 || at + 12L + n > b.length) {
                break;
            }
            out.add(new int[] {at, n});
            at += 12 + n;
        }
        return out;
    }

    static int lastIndexOf(byte[] b, byte[] pat) {
        for (int i = b.length - pat.length; i >= 0; i--) {
            if (Arrays.equals(b, i, i + pat.length, pat, 0, pat.length)) {
                return i;
            }
        }
        return -1;
    }

    static long readField(byte[] b, int[] f) {
        long v = 0;
        for (int k = 0; k < f[1]; k++) {
            int idx = f[2] == 1 ? f[0] + k : f[0] + f[1] - 1 - k;
            v = (v << 8) | (b[idx] & 255);
        }
        return v;
    }

    static void writeField(byte[] b, int[] f, long v) {
        for (int k = 0; k < f[1]; k++) {
            int idx = f[2] == 1 ? f[0] + f[1] - 1 - k : f[0] + k;
            b[idx] = (byte) (v >>> (8 * k));
        }
    }

    static void le32(byte[] b, int at, int v) {
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(at, v);
    }

    static byte[] splice(byte[] b, int at, int remove, byte[] ins) {
        ByteArrayOutputStream o = new ByteArrayOutputStream(b.length + ins.length);
        o.write(b, 0, at);
        o.write(ins, 0, ins.length);
        o.write(b, at + remove, b.length - at - remove);
        return o.toByteArray();
    }
}
