package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;

/**
 * A training run's checkpoints: {@code RUN/checkpoints/step-NNNNNNNN.safetensors}, each holding everything needed
 * to continue exactly — the trainable parameters and buffers (under their own names), every optimizer's moments
 * ({@code optimizer.NAME.exp_avg.PARAM}, {@code optimizer.NAME.exp_avg_sq.PARAM}) and step count, the random
 * generators' states and the caller's own entries (data-order position, settings digest) in the metadata. Written
 * atomically (a temporary name, then a rename), so a checkpoint file is either complete or absent; the newest
 * {@code keep} are kept.
 */
public final class Checkpoints {
    /** Metadata key of the step the checkpoint was taken after. */
    public static final String STEP = "adcsr.train.step";
    private static final String OPT_STEPS = "adcsr.train.optimizer.";
    private static final String RNG = "adcsr.train.rng.";
    private static final Pattern NAME = Pattern.compile("step-(\\d{8,})\\.safetensors");

    private Checkpoints() {}

    /** What a checkpoint holds besides the tensors restored in place. */
    public record State(long step, Map<String, long[]> rngs, Map<String, String> metadata) {}

    /**
     * Removes a new run directory that failed before its first checkpoint, so nothing is left that looks like a run
     * to resume; a run with a checkpoint is kept.
     */
    public static void removeIfNone(Path run) throws IOException {
        if (!Files.isDirectory(run) || latest(run) != null) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(run)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** {@code RUN/checkpoints}. */
    public static Path directory(Path run) {
        return run.resolve("checkpoints");
    }

    /**
     * Writes the checkpoint of step {@code step} and removes all but the newest {@code keep}.
     *
     * @param rngs generator states by name ({@link org.adcsr.core.Rng#state()})
     * @param extra the caller's metadata (names must not start with {@code adcsr.train.})
     * @return the file written
     */
    public static Path save(Path run, long step, ParameterStore store, List<Adam> optimizers,
            Map<String, long[]> rngs, Map<String, String> extra, int keep) throws IOException {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least one checkpoint, not " + keep);
        }
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : extra.entrySet()) {
            if (e.getKey().startsWith("adcsr.train.")) {
                throw new IllegalArgumentException("reserved metadata key " + e.getKey());
            }
            meta.put(e.getKey(), e.getValue());
        }
        meta.put(STEP, Long.toString(step));
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (String name : saved(store)) {
            entries.add(entry(name, store.get(name)));
        }
        for (Adam opt : optimizers) {
            meta.put(OPT_STEPS + opt.name() + ".steps", Long.toString(opt.steps()));
            for (String p : opt.parameters()) {
                entries.add(entry(momentName(opt, "exp_avg", p), opt.expAvg().get(p)));
                entries.add(entry(momentName(opt, "exp_avg_sq", p), opt.expAvgSq().get(p)));
            }
        }
        for (Map.Entry<String, long[]> r : rngs.entrySet()) {
            meta.put(RNG + r.getKey(), join(r.getValue()));
        }
        Path dir = Files.createDirectories(directory(run));
        Path file = dir.resolve(String.format("step-%08d.safetensors", step));
        SafetensorsWriter.write(file, meta, entries, DType.F32);
        TreeMap<Long, Path> all = list(run);
        while (all.size() > keep) {
            Files.deleteIfExists(all.pollFirstEntry().getValue());
        }
        return file;
    }

    /** What a checkpoint holds of the store: the trainable parameters, then the buffers. */
    private static List<String> saved(ParameterStore store) {
        List<String> names = new ArrayList<>(store.trainable());
        names.addAll(store.buffers());
        return names;
    }

    private static SafetensorsWriter.Entry entry(String name, NDArray a) {
        return new SafetensorsWriter.Entry(name, a.getShape().getShape(),
                () -> a.toType(DataType.FLOAT32, false).toFloatArray());
    }

    private static String momentName(Adam opt, String kind, String param) {
        return "optimizer." + opt.name() + "." + kind + "." + param;
    }

    /** The run's checkpoints by step, oldest first (complete files only: temporaries have other names). */
    public static TreeMap<Long, Path> list(Path run) throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        Path dir = directory(run);
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    found.put(Long.parseLong(m.group(1)), p);
                }
            }
        }
        return found;
    }

    /** The newest checkpoint of the run, or null if it has none. */
    public static Path latest(Path run) throws IOException {
        TreeMap<Long, Path> all = list(run);
        return all.isEmpty() ? null : all.lastEntry().getValue();
    }

    /**
     * Restores {@code file} into the store's trainable parameters and buffers and the optimizers' moments and step counts, in
     * place, and returns the rest.
     *
     * @throws BadInputException naming the file and the key if a tensor is missing or of another shape, or the
     *     file is not a checkpoint
     */
    public static State load(Path file, ParameterStore store, List<Adam> optimizers) {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            Map<String, String> meta = r.metadata();
            String step = meta.get(STEP);
            if (step == null) {
                throw BadInputException.of(file, "not a training checkpoint (no " + STEP + " in its metadata)");
            }
            for (String name : saved(store)) {
                restore(r, file, name, store.get(name));
            }
            for (Adam opt : optimizers) {
                String steps = meta.get(OPT_STEPS + opt.name() + ".steps");
                if (steps == null) {
                    throw BadInputException.of(file, "has no state for optimizer " + opt.name());
                }
                opt.setSteps(parseLong(file, steps));
                for (String p : opt.parameters()) {
                    restore(r, file, momentName(opt, "exp_avg", p), opt.expAvg().get(p));
                    restore(r, file, momentName(opt, "exp_avg_sq", p), opt.expAvgSq().get(p));
                }
            }
            Map<String, long[]> rngs = new LinkedHashMap<>();
            Map<String, String> rest = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : meta.entrySet()) {
                if (e.getKey().startsWith(RNG)) {
                    rngs.put(e.getKey().substring(RNG.length()), split(file, e.getValue()));
                } else if (!e.getKey().startsWith("adcsr.train.")) {
                    rest.put(e.getKey(), e.getValue());
                }
            }
            return new State(parseLong(file, step), rngs, rest);
        }
    }

    private static void restore(SafetensorsReader r, Path file, String name, NDArray into) {
        if (!r.names().contains(name)) {
            throw BadInputException.of(file, "checkpoint lacks " + name);
        }
        TensorInfo info = r.info(name);
        long[] want = into.getShape().getShape();
        if (!Arrays.equals(info.shape(), want)) {
            throw BadInputException.of(file, name + " has shape " + info.shapeString() + ", the run needs "
                    + Arrays.toString(want));
        }
        into.set(r.readFloats(name));
    }

    private static String join(long[] v) {
        StringBuilder sb = new StringBuilder();
        for (long x : v) {
            sb.append(sb.length() == 0 ? "" : ",").append(x);
        }
        return sb.toString();
    }

    private static long[] split(Path file, String s) {
        String[] parts = s.split(",");
        long[] v = new long[parts.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = parseLong(file, parts[i]);
        }
        return v;
    }

    private static long parseLong(Path file, String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw BadInputException.of(file, "bad number in checkpoint metadata: " + s);
        }
    }
}
