package org.adcsr.core.train;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM during training: instead of dying mid-step, the run finishes the step in progress,
 * writes a checkpoint and exits non-zero (130 for SIGINT, 143 for SIGTERM, what a shell reports for a killed job).
 * A second signal while the checkpoint is written is ignored; SIGKILL cannot be caught, and then the newest
 * checkpoint (written atomically) is where {@code --resume} continues.
 */
public final class StopSignal {
    private static final AtomicReference<String> received = new AtomicReference<>();

    private StopSignal() {}

    /**
     * Routes SIGINT and SIGTERM to {@link #requested()} for the rest of the process; returns the signals routed. A
     * signal the process was started ignoring (SIGINT in a job a shell put in the background) stays ignored, as
     * does one the JVM reserves ({@code -Xrs}).
     */
    public static List<String> install() {
        List<String> routed = new ArrayList<>();
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), s -> received.compareAndSet(null, s.getName()));
                routed.add(name);
            } catch (IllegalArgumentException e) {
                // ignored at start-up or reserved: the default behaviour stays
            }
        }
        return routed;
    }

    /** The name of the signal received ({@code INT} or {@code TERM}), or null if none. */
    public static String requested() {
        return received.get();
    }

    /** As if {@code name} had been received (tests). */
    static void request(String name) {
        received.compareAndSet(null, name);
    }

    /** Forgets a received signal (tests). */
    static void clear() {
        received.set(null);
    }

    /** The exit code for a run stopped by {@code signal}: 128 + its number. */
    public static int exitCode(String signal) {
        return "TERM".equals(signal) ? 143 : 130;
    }
}
