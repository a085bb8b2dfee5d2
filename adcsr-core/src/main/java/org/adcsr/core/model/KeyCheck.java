package org.adcsr.core.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Messages;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/** Compares a checkpoint's tensors with a model's parameter list and reports every difference at once, by name. */
public final class KeyCheck {
    private static final int LISTED = 8;
    private static final int LIST_CHARS = 40;

    private KeyCheck() {
    }

    /**
     * Checks that {@code source} holds every expected tensor with the expected shape and nothing else, except names
     * matching {@code ignorable}.
     *
     * @throws BadInputException one line: the file, then the missing keys, unexpected keys and shape mismatches
     */
    public static void check(TensorSource source, List<TensorInfo> expected, Predicate<String> ignorable) {
        Map<String, TensorInfo> want = new LinkedHashMap<>();
        expected.forEach(t -> want.put(t.name(), t));
        Map<Path, Problems> byFile = new LinkedHashMap<>();
        Map<String, Path> fileOfGroup = new HashMap<>();
        for (String name : source.names()) {
            fileOfGroup.putIfAbsent(group(name), source.pathOf(name));
        }
        for (TensorInfo t : expected) {
            TensorInfo got = source.info(t.name());
            if (got == null) {
                // blamed on the file that holds the key's siblings (decoder.* keys: the decoder file)
                Path file = fileOfGroup.getOrDefault(group(t.name()), source.path());
                byFile.computeIfAbsent(file, f -> new Problems()).missing.add(t.name());
            } else if (!Arrays.equals(got.shape(), t.shape())) {
                byFile.computeIfAbsent(source.pathOf(t.name()), f -> new Problems()).mismatched
                        .add(Messages.clip(t.name(), 50) + " " + Messages.clip(got.shapeString(), 30) + " (model: "
                                + t.shapeString() + ")");
            } else if (!got.dtype().isFloating()) {
                byFile.computeIfAbsent(source.pathOf(t.name()), f -> new Problems()).mismatched
                        .add(Messages.clip(t.name(), 50) + " has type " + got.dtype() + " (model: floating point)");
            }
        }
        for (String name : source.names()) {
            if (!want.containsKey(name) && !ignorable.test(name)) {
                byFile.computeIfAbsent(source.pathOf(name), f -> new Problems()).unexpected.add(Messages.clip(name, 50));
            }
        }
        if (byFile.isEmpty()) {
            return;
        }
        // the first file with problems is named; another file's problems are counted
        Map.Entry<Path, Problems> first = byFile.entrySet().iterator().next();
        Problems p = first.getValue();
        List<String> parts = new ArrayList<>();
        describe(parts, p.missing, "missing key", "missing keys");
        describe(parts, p.unexpected, "unexpected key", "unexpected keys");
        describe(parts, p.mismatched, "shape mismatch", "shape mismatches");
        for (Map.Entry<Path, Problems> other : byFile.entrySet()) {
            if (other != first) {
                parts.add("and " + other.getValue().count() + " more in " + other.getKey().getFileName());
            }
        }
        throw BadInputException.of(first.getKey(), "does not fit the model: " + String.join("; ", parts));
    }

    /** Problems found in one file. */
    private static final class Problems {
        final List<String> missing = new ArrayList<>();
        final List<String> mismatched = new ArrayList<>();
        final List<String> unexpected = new ArrayList<>();

        int count() {
            return missing.size() + mismatched.size() + unexpected.size();
        }
    }

    /** The first dotted component of a name ({@code unet}, {@code decoder}). */
    private static String group(String name) {
        int dot = name.indexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    /**
     * Adds {@code "N things: a, b, c, and M more"} to {@code parts} when {@code names} is not empty: at most
     * {@value #LISTED} names, fewer when they are long (each clipped, the list kept under about 120 characters), so
     * that the whole message stays one short line.
     */
    public static void describe(List<String> parts, List<String> names, String one, String many) {
        if (names.isEmpty()) {
            return;
        }
        StringBuilder list = new StringBuilder();
        int listed = 0;
        for (String name : names) {
            if (listed == LISTED || listed > 0 && list.length() > LIST_CHARS) {
                break;
            }
            list.append(listed == 0 ? "" : ", ").append(Messages.clip(name, 100));
            listed++;
        }
        String more = names.size() > listed ? ", and " + (names.size() - listed) + " more" : "";
        parts.add(names.size() + " " + (names.size() == 1 ? one : many) + ": " + list + more);
    }
}
