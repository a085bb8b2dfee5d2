package org.adcsr.core.io.torch;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;
import java.util.Set;

/**
 * An immutable Python tuple. A tuple whose elements are all hashable (no lists, dicts, sets) compares and hashes by
 * content, as in Python, so it can be a dict key; any other tuple compares by identity, which keeps hashing of
 * cyclic or deeply nested data from recursing.
 */
public final class PyTuple extends AbstractList<Object> implements RandomAccess {
    static final PyTuple EMPTY = new PyTuple(new Object[0], true, 1, 1);

    private final Object[] items;
    private final boolean hashable;
    private final int depth;
    private final int hash;

    private PyTuple(Object[] items, boolean hashable, int depth, int hash) {
        this.items = items;
        this.hashable = hashable;
        this.depth = depth;
        this.hash = hash;
    }

    /** A tuple of {@code items}; fails with {@link PickleException} if tuples nest deeper than {@code maxDepth}. */
    static PyTuple of(Object[] items, int maxDepth) {
        boolean hashable = true;
        int depth = 1;
        for (Object item : items) {
            if (item instanceof PyTuple t) {
                depth = Math.max(depth, t.depth + 1);
            }
            hashable &= isHashable(item);
        }
        if (depth > maxDepth) {
            throw new PickleException("tuples nested deeper than " + maxDepth);
        }
        return new PyTuple(items, hashable, depth, hashable ? Arrays.hashCode(items) : 0);
    }

    /** Whether Python would accept {@code value} as a dict key or set element. */
    static boolean isHashable(Object value) {
        if (value instanceof PyTuple t) {
            return t.hashable;
        }
        return !(value instanceof List || value instanceof Map || value instanceof Set || value instanceof PySlice);
    }

    @Override
    public Object get(int index) {
        return items[index];
    }

    @Override
    public int size() {
        return items.length;
    }

    @Override
    public boolean equals(Object o) {
        if (o == this) {
            return true;
        }
        return hashable && o instanceof PyTuple t && t.hashable && t.hash == hash && Arrays.equals(t.items, items);
    }

    @Override
    public int hashCode() {
        return hashable ? hash : System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return "(tuple of " + items.length + ")";
    }
}
