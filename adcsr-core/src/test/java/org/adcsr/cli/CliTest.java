package org.adcsr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.adcsr.core.Engines;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class CliTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final TinyCommand command = new TinyCommand();

    private int run(String... args) {
        CommandLine cl = Cli.commandLine(command);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return Cli.execute(cl, args);
    }

    private String[] errLines() {
        return err.toString().split("\n");
    }

    @Test
    void okPrintsDataOnStdoutOnly() {
        assertEquals(0, run());
        assertEquals("threads=null device=CPU seed=0 verbosity=0\n", out.toString());
        assertEquals("", err.toString());
    }

    @Test
    void commonOptionsParse() {
        assertEquals(0, run("--threads", "3", "--device", "gpu", "--seed", "7", "-vv"));
        assertEquals("threads=3 device=GPU seed=7 verbosity=2\n", out.toString());
        assertEquals(Engines.Target.GPU, command.common.device());
        assertEquals(0, run("-q"));
        assertEquals(-1, command.common.verbosity());
        assertFalse(command.common.progress(), "--quiet never shows progress");
    }

    @Test
    void usageErrorIsShortAndExits2() {
        assertEquals(ExitCodes.USAGE, run("--no-such-option"));
        assertEquals("", out.toString());
        assertTrue(errLines()[0].startsWith("adcsr-tiny: Unknown option: '--no-such-option'"), err.toString());
        assertTrue(err.toString().contains("Try 'adcsr-tiny --help' for more information."), err.toString());
        assertTrue(errLines().length <= 3, err.toString());
    }

    @Test
    void badDeviceIsAUsageError() {
        assertEquals(ExitCodes.USAGE, run("--device", "tpu"));
        assertTrue(err.toString().contains("expected cpu or gpu, got 'tpu'"), err.toString());
    }

    @Test
    void badInputIsOneLineAndExits3() {
        assertEquals(ExitCodes.BAD_INPUT, run("--fail", "bad"));
        assertEquals("adcsr-tiny: x.png: not a PNG; (second line)\n", err.toString());
    }

    @Test
    void aLongMessageIsClippedWithTheToolNameWithin300Characters() {
        // bench/fuzz.sh's safetensors mutant 89: the message alone was clipped to 300, the line with the tool's
        // name was 315
        assertEquals(ExitCodes.BAD_INPUT, run("--fail", "long"));
        String line = errLines()[0];
        assertEquals(1, errLines().length, err.toString());
        assertEquals(300, line.length(), line);
        assertTrue(line.startsWith("adcsr-tiny: x.safetensors: does not fit the model: kkk"), line);
        assertTrue(line.endsWith("kkk") && line.contains("…"), line);
    }

    @Test
    void wrappedBadInputStillExits3() {
        assertEquals(ExitCodes.BAD_INPUT, run("--fail", "wrapped"));
        assertEquals("adcsr-tiny: deep\n", err.toString());
    }

    @Test
    void internalErrorIsOneLineWithoutTrace() {
        assertEquals(ExitCodes.INTERNAL, run("--fail", "boom"));
        assertEquals("adcsr-tiny: internal error: java.lang.IllegalStateException: kaput"
                + " (-vv shows the stack trace)\n", err.toString());
    }

    @Test
    void internalErrorTraceWithVV() {
        assertEquals(ExitCodes.INTERNAL, run("--fail", "boom", "-vv"));
        assertTrue(errLines()[0].startsWith("adcsr-tiny: internal error: java.lang.IllegalStateException: kaput"));
        assertTrue(err.toString().contains("\tat org.adcsr.cli.TinyCommand.call"), err.toString());
    }

    @Test
    void outOfMemoryExits137WithHint() {
        assertEquals(ExitCodes.OUT_OF_MEMORY, run("--fail", "oom"));
        assertTrue(err.toString().startsWith("adcsr-tiny: out of memory; give Java more heap"), err.toString());
        assertEquals(1, errLines().length);
    }

    @Test
    void checkFailedIsTheCommandsOwnCode() {
        assertEquals(ExitCodes.CHECK_FAILED, run("--fail", "check"));
        assertEquals("", err.toString());
    }

    @Test
    void helpListsCommonOptionsAndExitCodes() {
        assertEquals(0, run("--help"));
        String help = out.toString();
        for (String s : new String[] {"-v, --verbose", "-q, --quiet", "--threads=N", "--device=cpu|gpu",
                "--seed=N", "-V, --version", "Exit codes:", "  3     bad input", "  4     check failed"}) {
            assertTrue(help.contains(s), s + " missing from\n" + help);
        }
    }

    @Test
    void versionNamesTheTool() {
        assertEquals(0, run("--version"));
        assertTrue(out.toString().matches("adcsr \\S+\n"), out.toString());
    }
}
