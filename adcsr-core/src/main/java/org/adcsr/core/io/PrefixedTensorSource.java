package org.adcsr.core.io;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** A view of a {@link TensorSource} restricted to one name prefix, with the prefix stripped. Closing it closes nothing. */
final class PrefixedTensorSource implements TensorSource {
    private final TensorSource base;
    private final String prefix;
    private final List<String> names;

    private PrefixedTensorSource(TensorSource base, String prefix) {
        this.base = base;
        this.prefix = prefix;
        List<String> n = new ArrayList<>();
        for (String name : base.names()) {
            if (name.startsWith(prefix)) {
                n.add(name.substring(prefix.length()));
            }
        }
        this.names = Collections.unmodifiableList(n);
    }

    static TensorSource of(TensorSource base, String prefix) {
        return prefix.isEmpty() ? base : new PrefixedTensorSource(base, prefix);
    }

    @Override
    public Path path() {
        return base.path();
    }

    @Override
    public Path pathOf(String name) {
        return base.pathOf(prefix + name);
    }

    @Override
    public String originalName(String name) {
        return base.originalName(prefix + name);
    }

    @Override
    public List<String> names() {
        return names;
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo i = base.info(prefix + name);
        return i == null ? null : new TensorInfo(name, i.dtype(), i.shape());
    }

    @Override
    public float[] readFloats(String name) {
        return base.readFloats(prefix + name);
    }

    @Override
    public Map<String, String> metadata() {
        return base.metadata();
    }

    @Override
    public void close() {
    }
}
