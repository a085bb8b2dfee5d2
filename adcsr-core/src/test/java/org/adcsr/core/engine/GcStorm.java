package org.adcsr.core.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * What a long training run does now and then between a forward and a backward pass: a garbage collection, after
 * which Java direct buffers no longer referenced are freed and their memory handed to new ones. Any tensor that
 * autograd saved over such a buffer (README "Known engine issues": DJL's {@code mul(Number)}, arrays made from Java
 * data) then reads someone else's numbers; here those are 1e6 and more, so a gradient that used them is far off.
 */
public final class GcStorm {
    private GcStorm() {}

    /** Collects garbage, lets the cleaner free the buffers, then fills freed memory with new small arrays. */
    public static void between(NDManager m) {
        System.gc();
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<NDArray> fill = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            fill.add(m.create(1e6f + i));
            fill.add(m.create(1e6 + i));
        }
        fill.forEach(NDArray::close);
    }
}
