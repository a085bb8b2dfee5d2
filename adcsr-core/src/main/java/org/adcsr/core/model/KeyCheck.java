package org.adcsr.core.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/** Compares a checkpoint's tensors with a model's parameter list and reports every difference at once, by name. */
public final class KeyCheck {
    private static final int LISTED = 8;

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
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        for (TensorInfo t : expected) {
            TensorInfo got = source.info(t.name());
            if (got == null) {
                missing.add(t.name());
            } else if (!Arrays.equals(got.shape(), t.shape())) {
                mismatched.add(t.name() + " " + got.shapeString() + " (model: " + t.shapeString() + ")");
            } else if (!got.dtype().isFloating()) {
                mismatched.add(t.name() + " has type " + got.dtype() + " (model: floating point)");
            }
        }
        for (String name : source.names()) {
            if (!want.containsKey(name) && !ignorable.test(name)) {
                unexpected.add(name);
            }
        }
        if (missing.isEmpty() && mismatched.isEmpty() && unexpected.isEmpty()) {
            return;
        }
        List<String> parts = new ArrayList<>();
        describe(parts, missing, "missing key", "missing keys");
        describe(parts, unexpected, "unexpected key", "unexpected keys");
        describe(parts, mismatched, "shape mismatch", "shape mismatches");
        throw BadInputException.of(source.path(), "does not fit the model: " + String.join("; ", parts));
    }

    /** Adds {@code "N things: a, b, c, and M more"} to {@code parts} when {@code names} is not empty. */
    public static void describe(List<String> parts, List<String> names, String one, String many) {
        if (names.isEmpty()) {
            return;
        }
        String list = String.join(", ", names.subList(0, Math.min(LISTED, names.size())));
        String more = names.size() > LISTED ? ", and " + (names.size() - LISTED) + " more" : "";
        parts.add(names.size() + " " + (names.size() == 1 ? one : many) + ": " + list + more);
    }
}
