package org.adcsr.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.function.Supplier;

/**
 * Frees a forward's intermediate arrays as it goes. DJL closes an array only with its manager or its {@link NDScope};
 * a forward in one scope holds every intermediate until the end (MUSIQ's 449-patch stem and 14 layers: about 1 GB
 * for one 512x512 image). Here every block runs in a scope of its own, so at most one block's intermediates are
 * alive: a smaller, reused native heap instead of a growing one (on this machine a first-touched 4 KiB page costs
 * about 17 µs, so a heap that grows by 100 MB costs 0.4 s).
 */
public final class Scopes {
    private Scopes() {}

    /**
     * Runs {@code body} in an {@code NDScope} of its own and hands its result to the enclosing scope (or to none, when
     * there is no enclosing scope: then the result belongs to its manager alone): everything else the body creates
     * is freed as soon as it returns. Autograd keeps its own references to what backward needs, so this is safe while
     * training too.
     */
    public static NDArray scoped(Supplier<NDArray> body) {
        NDArray y;
        try (NDScope scope = new NDScope()) {
            y = body.get();
            NDScope.unregister(y);
        }
        NDScope.register(y);
        return y;
    }
}
