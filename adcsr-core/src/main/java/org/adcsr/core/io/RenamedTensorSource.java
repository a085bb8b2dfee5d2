package org.adcsr.core.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A view that gathers tensors from one or more sources under new names (the boundary where a foreign checkpoint
 * layout is mapped to ours), optionally under another shape of the same element count (LDM's 1×1 conv attention
 * weights {@code [C, C, 1, 1]} shown as Linear {@code [C, C]}: the C-order data is the same). Closing the view closes
 * nothing; the caller owns the sources.
 */
public final class RenamedTensorSource implements TensorSource {
    private record Ref(TensorSource source, String name, long[] shape) {
    }

    private final Path path;
    private final Map<String, Ref> refs = new LinkedHashMap<>();

    /** @param path the file named in messages about this view (usually the main source's) */
    public RenamedTensorSource(Path path) {
        this.path = path;
    }

    /** Adds {@code source[name]} as {@code newName}; a later put of the same new name replaces the earlier. */
    public RenamedTensorSource put(String newName, TensorSource source, String name) {
        refs.put(newName, new Ref(source, name, null));
        return this;
    }

    /** As {@link #put(String, TensorSource, String)}, shown with {@code shape} (same element count, C order). */
    public RenamedTensorSource put(String newName, TensorSource source, String name, long[] shape) {
        refs.put(newName, new Ref(source, name, shape.clone()));
        return this;
    }

    /** The stored name behind a new name, or null. */
    public String origin(String newName) {
        Ref r = refs.get(newName);
        return r == null ? null : r.name;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public Path pathOf(String name) {
        Ref r = refs.get(name);
        return r == null ? path : r.source.pathOf(r.name);
    }

    @Override
    public String originalName(String name) {
        Ref r = refs.get(name);
        return r == null ? name : r.source.originalName(r.name);
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(refs.keySet());
    }

    @Override
    public TensorInfo info(String name) {
        Ref r = refs.get(name);
        if (r == null) {
            return null;
        }
        TensorInfo i = r.source.info(r.name);
        return new TensorInfo(name, i.dtype(), r.shape == null ? i.shape() : r.shape);
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
