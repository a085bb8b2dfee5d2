package org.adcsr.eval;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;

/**
 * Finds the SR/GT pairs. Problems with single images (no partner) are collected as one-line messages so the other
 * pairs are still evaluated; problems with the whole input (unreadable folder or CSV) throw
 * {@link BadInputException}.
 */
public final class Pairing {
    private Pairing() {}

    /** File name extensions read as images. */
    static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp");

    /** The pairs found, and one message per image that has no partner. */
    public record Result(List<Pair> pairs, List<String> problems) {}

    /** Expands each argument: a folder gives its image files (sorted by name), a file gives itself. */
    public static List<Path> expand(List<Path> args) {
        List<Path> out = new ArrayList<>();
        for (Path p : args) {
            if (Files.isDirectory(p)) {
                List<Path> found = images(p);
                if (found.isEmpty()) {
                    throw BadInputException.of(p, "no images (" + String.join(", ",
                            new java.util.TreeSet<>(IMAGE_EXTENSIONS)) + ")");
                }
                out.addAll(found);
            } else if (Files.isRegularFile(p)) {
                out.add(p);
            } else {
                throw BadInputException.of(p, "no such file or folder");
            }
        }
        return out;
    }

    static List<Path> images(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(p -> IMAGE_EXTENSIONS.contains(extension(p)))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw BadInputException.of(dir, "cannot list folder (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Pairs each SR file with the GT file of the same name in {@code gtDir}, or else of the same name without
     * extension ({@code x.png} with {@code x.jpg}). SR files without a partner are reported, and with
     * {@code reportUnusedGt} (the SR side was whole folders) so are GT files that no SR file took. With {@code gtDir}
     * null every SR file stands alone.
     */
    public static Result byName(List<Path> srFiles, Path gtDir, boolean reportUnusedGt) {
        List<Pair> pairs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        if (gtDir == null) {
            for (Path sr : srFiles) {
                pairs.add(new Pair(sr.getFileName().toString(), sr, null));
            }
            return new Result(pairs, problems);
        }
        if (!Files.isDirectory(gtDir)) {
            throw BadInputException.of(gtDir, "not a folder");
        }
        List<Path> gts = images(gtDir);
        Map<String, Path> byFile = new HashMap<>();
        Map<String, List<Path>> byStem = new HashMap<>();
        for (Path g : gts) {
            byFile.put(g.getFileName().toString(), g);
            byStem.computeIfAbsent(stem(g), k -> new ArrayList<>()).add(g);
        }
        Set<Path> used = new HashSet<>();
        for (Path sr : srFiles) {
            String file = sr.getFileName().toString();
            Path gt = byFile.get(file);
            if (gt == null) {
                List<Path> same = byStem.getOrDefault(stem(sr), List.of());
                if (same.size() == 1) {
                    gt = same.get(0);
                } else if (same.size() > 1) {
                    problems.add(sr + ": several ground-truth files share its name in " + gtDir + ": " + same);
                    continue;
                }
            }
            if (gt == null) {
                problems.add(sr + ": no ground truth of the same name in " + gtDir);
                continue;
            }
            used.add(gt);
            pairs.add(new Pair(file, sr, gt));
        }
        for (Path g : gts) {
            if (reportUnusedGt && !used.contains(g)) {
                problems.add(g + ": ground truth without an SR image");
            }
        }
        return new Result(pairs, problems);
    }

    /**
     * Pairs from a CSV with a header. The ground truth is in column {@code gt}, {@code hr} or {@code hr_path}; a
     * missing or empty one leaves the image without a reference. The SR image is in column {@code sr}; a CSV without
     * it (adcsr-degrade's {@code pairs.csv}) needs {@code srDir}, where each row's SR image is the file named like its
     * {@code lr_path} image: the same stem, or the stem with adcsr-upscale's default suffix {@code _x4}. Relative
     * paths are relative to the CSV's folder.
     */
    public static Result fromCsv(Path csv, Path srDir) {
        List<Pair> pairs = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Path base = csv.toAbsolutePath().getParent();
        try (Reader r = Files.newBufferedReader(csv)) {
            var records = CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).setTrim(true)
                    .build().parse(r);
            Map<String, Integer> header = records.getHeaderMap();
            String gtCol = null;
            for (String c : new String[] {"gt", "hr", "hr_path"}) {
                if (gtCol == null && header.containsKey(c)) {
                    gtCol = c;
                }
            }
            boolean srColumn = header.containsKey("sr");
            if (!srColumn && (srDir == null || !header.containsKey("lr_path"))) {
                throw BadInputException.of(csv, "needs an 'sr' column, or an 'lr_path' column and --sr-dir (as for "
                        + "adcsr-degrade's pairs.csv); has " + header.keySet());
            }
            Map<String, Path> srByStem = srColumn ? Map.of() : byStem(images(srDir));
            for (CSVRecord rec : records) {
                String line = " (" + csv.getFileName() + " line " + (rec.getRecordNumber() + 1) + ")";
                if (!rec.isConsistent()) {
                    throw BadInputException.of(csv, "line " + (rec.getRecordNumber() + 1) + " has "
                            + rec.size() + " fields, the header " + header.size());
                }
                Path sr;
                if (srColumn) {
                    sr = base.resolve(rec.get("sr"));
                } else {
                    String stem = stem(Path.of(rec.get("lr_path")));
                    sr = srByStem.getOrDefault(stem, srByStem.get(stem + "_x4"));
                    if (sr == null) {
                        problems.add(srDir.resolve(stem + ".*") + ": no SR image for " + rec.get("lr_path") + line);
                        continue;
                    }
                }
                String g = gtCol == null ? "" : rec.get(gtCol);
                Path gt = g.isEmpty() ? null : base.resolve(g);
                if (!Files.isRegularFile(sr)) {
                    problems.add(sr + ": no such file" + line);
                } else if (gt != null && !Files.isRegularFile(gt)) {
                    problems.add(gt + ": no such file" + line);
                } else {
                    pairs.add(new Pair(sr.getFileName().toString(), sr, gt));
                }
            }
        } catch (IOException | IllegalStateException | IllegalArgumentException e) {
            throw BadInputException.of(csv, "cannot read pairs (" + e.getMessage() + ")", e);
        }
        return new Result(pairs, problems);
    }

    private static Map<String, Path> byStem(List<Path> files) {
        Map<String, Path> m = new java.util.HashMap<>();
        for (Path f : files) {
            m.putIfAbsent(stem(f), f);
        }
        return m;
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? n : n.substring(0, dot);
    }
}
