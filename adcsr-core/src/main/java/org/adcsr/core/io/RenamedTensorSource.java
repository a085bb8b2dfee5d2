package org.adcsr.core.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A view that gathers tensors from one or more sources under new names (the boundary where a foreign checkpoint
 * layout is mapped to ours). Closing the view closes nothing; the caller owns the sources.
 */
public final class RenamedTensorSource implements TensorSource {
    private record Ref(TensorSource source, String name) {
    }

    private final Path path;
    private final Map<String, Ref> refs = new LinkedHashMap<>();

    /** @param path the file named in messages about this view (usually the main source's) */
    public RenamedTensorSource(Path path) {
        this.path = path;
    }

    /** Adds {@code source[name]} as {@code newName}; a later put of the same new name replaces the earlier. */
    public RenamedTensorSource put(String newName, TensorSource source, String name) {
        refs.put(newName, new Ref(source, name));
        return this;
    }

    /** The source and name behind a new name, as {@code file: name}, for messages. */
    public String origin(String newName) {
        Ref r = refs.get(newName);
        return r == null ? null : r.source.path() + ": " + r.name;
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
        if (r == null) {
            return null;
        }
        TensorInfo i = r.source.info(r.name);
        return new TensorInfo(name, i.dtype(), i.shape());
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
