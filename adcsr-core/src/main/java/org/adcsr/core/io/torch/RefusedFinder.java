package org.adcsr.core.io.torch;

import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds where a refused global sits in an unpickled object: the dotted path of dict keys and list indices (as
 * checkpoint tensors are named), breadth first so that the shallowest refused placeholder is named. Each container
 * is visited once, so cycles and shared objects cost nothing extra.
 */
final class RefusedFinder {
    /** A refused placeholder and its path ({@code ""} for the root). */
    record Found(Placeholder placeholder, String path) {
    }

    private record Node(Object value, String path, int depth) {
    }

    private RefusedFinder() {
    }

    /** The shallowest refused placeholder reachable from {@code root}, or {@code null} when none is reachable. */
    static Found pathOf(Object root, int maxDepth) {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Deque<Node> queue = new ArrayDeque<>();
        queue.add(new Node(root, "", 0));
        while (!queue.isEmpty()) {
            Node n = queue.poll();
            Object v = n.value();
            if (v instanceof Placeholder p && p.standing() == Placeholder.Standing.REFUSED) {
                return new Found(p, n.path());
            }
            if (v == null || n.depth() >= maxDepth || !(v instanceof Map || v instanceof Collection
                    || v instanceof Placeholder) || !seen.add(v)) {
                continue;
            }
            int d = n.depth() + 1;
            if (v instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    queue.add(new Node(e.getKey(), join(n.path(), "(key)"), d));
                    queue.add(new Node(e.getValue(), join(n.path(), keyName(e.getKey())), d));
                }
            } else if (v instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                    queue.add(new Node(list.get(i), join(n.path(), Integer.toString(i)), d));
                }
            } else if (v instanceof Collection<?> set) {
                for (Object o : set) {
                    queue.add(new Node(o, join(n.path(), "(element)"), d));
                }
            } else {
                Placeholder p = (Placeholder) v;
                queue.add(new Node(p.args(), n.path(), d));
                queue.add(new Node(p.kwargs(), n.path(), d));
                queue.add(new Node(p.state(), n.path(), d));
                queue.add(new Node(p.dictItems(), n.path(), d));
                queue.add(new Node(p.listItems(), n.path(), d));
            }
        }
        return null;
    }

    private static String keyName(Object key) {
        return key instanceof String || key instanceof Long || key instanceof BigInteger ? key.toString() : "(key)";
    }

    private static String join(String prefix, String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }
}
