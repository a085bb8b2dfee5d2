package org.adcsr.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Starting the engine through {@link Engines} makes no network attempt. Each case runs {@link NoNetworkProbe} in a
 * fresh JVM (this test JVM may already have loaded DJL); the two controls show the probe can fail.
 */
class NoNetworkTest {
    record Result(int exit, String out) {}

    static Result probe(String mode) throws IOException, InterruptedException {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp", cp,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        String cache = System.getProperty("DJL_CACHE_DIR"); // share surefire's extracted libtorch
        if (cache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + cache);
        }
        cmd.add(NoNetworkProbe.class.getName());
        cmd.add(mode);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("DJL_OFFLINE");
        pb.environment().remove("OPT_OUT_TRACKING");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "probe hung");
        return new Result(p.exitValue(), out);
    }

    @Test
    void enginesStartMakesNoNetworkAttempt() throws Exception {
        Result r = probe("engines");
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("sum 83.0"), r.out());
    }

    @Test
    void controlDjlWithoutOurSettingsIsCaught() throws Exception {
        Result r = probe("raw-djl");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("NETWORK http://169.254.169.254/"), r.out());
    }

    @Test
    void controlProbeSeesUrlsAndSockets() throws Exception {
        Result r = probe("self-test");
        assertEquals(1, r.exit(), r.out());
        assertTrue(r.out().contains("NETWORK http://192.0.2.1/x"), r.out());
        assertTrue(r.out().contains("NETWORK socket://192.0.2.1:80"), r.out());
    }
}
