package org.adcsr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void throttlesAndEndsTheLine() {
        StringWriter err = new StringWriter();
        try (Progress p = new Progress(new PrintWriter(err), "tiles", true, 60_000)) {
            p.update(1, 4);
            p.update(2, 4); // within the interval: skipped
            p.update(4, 4); // the last one is always drawn
        }
        assertEquals("\rtiles 1/4 (25%)\rtiles 4/4 (100%)\n", err.toString());
    }

    @Test
    void disabledWritesNothing() {
        StringWriter err = new StringWriter();
        try (Progress p = new Progress(new PrintWriter(err), "tiles", false, 0)) {
            p.update(1, 4);
        }
        assertEquals("", err.toString());
    }

    @Test
    void offWithoutAConsole() {
        // surefire's fork has no console, so the default is off; --progress forces it, --quiet wins
        CommonOptions o = new CommonOptions();
        assertEquals(System.console() != null, o.progress());
        o.progress = true;
        assertEquals(true, o.progress());
        o.quiet = true;
        assertEquals(false, o.progress());
    }
}
