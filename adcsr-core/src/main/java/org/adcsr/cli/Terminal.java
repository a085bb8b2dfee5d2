package org.adcsr.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether standard output is a terminal, for tools that refuse to write binary data to one (as gzip does). */
public final class Terminal {
    private Terminal() {}

    /**
     * Linux: where {@code /proc/self/fd/1} points ({@code /dev/pts/N}, {@code /dev/ttyN}); elsewhere Java 17's
     * only proxy, {@code System.console() != null} (stdin and stdout both terminals).
     */
    public static boolean stdout() {
        Path fd = Path.of("/proc/self/fd/1");
        try {
            String target = Files.readSymbolicLink(fd).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
        } catch (IOException | UnsupportedOperationException e) {
            return System.console() != null;
        }
    }
}
