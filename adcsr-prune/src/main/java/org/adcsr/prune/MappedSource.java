package org.adcsr.prune;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;

/**
 * A view that shows tensors of another source under diffusers names, with a shape of the same element count where the
 * file stores a squeezable one (LDM's 1×1 conv attention weights {@code [C, C, 1, 1]} shown as Linear {@code [C, C]};
 * the C-order data is the same). {@link #origin} gives the stored name for messages and reports.
 */
final class MappedSource implements TensorSource {
    private record Ref(TensorSource source, String name, long[] shape) {
    }

    private final Path path;
    private final Map<String, Ref> refs = new LinkedHashMap<>();

    MappedSource(Path path) {
        this.path = path;
    }

    void put(String name, TensorSource source, String stored, long[] shape) {
        refs.put(name, new Ref(source, stored, shape.clone()));
    }

    /** The stored name behind {@code name}, or null. */
    String origin(String name) {
        Ref r = refs.get(name);
        return r == null ? null : r.name;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(refs.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        Ref r = refs.get(name);
        return r == null ? null : new TensorInfo(name, r.source.info(r.name).dtype(), r.shape);
    }

    @Override
    public float[] readFloats(String name) {
        Ref r = refs.get(name);
        if (r == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return r.source.readFloats(r.name);
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public void close() {
    }
}
