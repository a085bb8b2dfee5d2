package org.adcsr.cli;

import java.io.PrintWriter;

/**
 * Throttled one-line progress on stderr ({@code \r}, final newline), for terminals only.
 *
 * <p>Terminal test: Java 17 has no "is stderr a terminal" call; {@code System.console() != null} (stdin and stdout
 * both terminals) is the usual proxy and the one picocli uses. It errs on the quiet side: {@code tool > out.png}
 * shows no progress even though stderr is a terminal; {@code --progress} forces it. Disabled by {@code --quiet}.
 */
public final class Progress implements AutoCloseable {
    private final PrintWriter err;
    private final String label;
    private final boolean enabled;
    private final long intervalNanos;
    private long lastNanos;
    private boolean drawn;
    private int width;

    /** Progress for a tool run: enabled per {@link CommonOptions#progress()}, at most 5 redraws a second. */
    public static Progress of(CommonOptions options, PrintWriter err, String label) {
        return new Progress(err, label, options.progress(), 200);
    }

    public Progress(PrintWriter err, String label, boolean enabled, long intervalMillis) {
        this.err = err;
        this.label = label;
        this.enabled = enabled;
        this.intervalNanos = intervalMillis * 1_000_000L;
    }

    /** Reports {@code done} of {@code total} (total &le; 0: unknown); redraws at most once per interval, and at the end. */
    public void update(long done, long total) {
        if (!enabled) {
            return;
        }
        long now = System.nanoTime();
        if (drawn && now - lastNanos < intervalNanos && (total <= 0 || done < total)) {
            return;
        }
        lastNanos = now;
        String line = total > 0
                ? String.format("%s %d/%d (%d%%)", label, done, total, done * 100 / total)
                : String.format("%s %d", label, done);
        err.print("\r" + line + " ".repeat(Math.max(0, width - line.length())));
        err.flush();
        width = line.length();
        drawn = true;
    }

    /** Ends the line, if one was drawn. */
    @Override
    public void close() {
        if (drawn) {
            err.println();
            err.flush();
            drawn = false;
        }
    }
}
