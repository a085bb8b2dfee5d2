package org.adcsr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The command-line contract of README "Conventions", run against one tool: a tool's test class extends this and says
 * how to build its command line ({@link #command}, {@link #args}, {@link #writeInput}); every case below then runs
 * for it. adcsr-core's test-jar carries this class (a tool module depends on it with {@code <type>test-jar</type>}).
 *
 * <p>The cases: --help and --version; an unknown option; --threads 0, -3 and x; every range-checked number option
 * (by name, see {@link #RANGES}, and any option with a {@link Values} converter) given a value out of range; an empty
 * input directory; a missing input; a corrupt input; an output that cannot be created. Usage errors exit 2, input and
 * output problems 3; errors are one line {@code TOOL: ...} on stderr (usage adds a "Try" line), stdout stays empty,
 * no output or temporary file is left, and nothing says "internal error".
 */
public abstract class ToolContract {
    /** Out-of-range values per option name, for every tool that has the option. */
    static final Map<String, List<String>> RANGES = new LinkedHashMap<>();

    static {
        RANGES.put("--threads", List.of("0", "-3", "x"));
        RANGES.put("--tile", List.of("0", "-5"));
        RANGES.put("--overlap", List.of("-16"));
        RANGES.put("--batch-size", List.of("0"));
        RANGES.put("--pairs-per-image", List.of("0"));
        RANGES.put("--calib-limit", List.of("0", "-1"));
        RANGES.put("--jpeg-quality", List.of("0", "101"));
        RANGES.put("--crop-border", List.of("-1"));
        RANGES.put("--gt-size", List.of("0", "-4"));
        RANGES.put("--max-pixels", List.of("0"));
        RANGES.put("--batch", List.of("0"));
        RANGES.put("--depth", List.of("-1"));
    }

    @TempDir
    protected Path tmp;

    /** A new command object of the tool (the one its {@code main} runs). */
    protected abstract Object command();

    /**
     * The tool's command line reading the inputs in directory {@code in} (made by {@link #writeInput}) and writing
     * its output (a file or directory, as the tool does) at {@code out}.
     */
    protected abstract List<String> args(Path in, Path out);

    /** Writes one valid input into {@code dir}; by default a 64x64 RGB PNG. */
    protected void writeInput(Path dir) throws IOException {
        png(dir.resolve("a.png"), 64, 64);
    }

    /** Writes one corrupt input into {@code dir}; by default a PNG cut after 40 bytes. */
    protected void writeCorruptInput(Path dir) throws IOException {
        Path good = tmp.resolve("whole.png");
        png(good, 64, 64);
        byte[] b = Files.readAllBytes(good);
        Files.write(dir.resolve("cut.png"), java.util.Arrays.copyOf(b, 40));
    }

    /** A smooth 8-bit RGB test image. */
    protected static void png(Path file, int w, int h) {
        Image img = Image.blank(w, h, 3, 255);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    img.setSample(c, y, x, (float) Math.round(127.5 + 100 * Math.sin((x + 3 * c) / 5.0)
                            * Math.cos(y / 7.0)));
                }
            }
        }
        Images.write(img, file, 95);
    }

    /** What one run printed and returned. */
    protected record Run(int code, String out, String err) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }

    protected Run run(List<String> args) {
        CommandLine cl = Cli.commandLine(command());
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = Cli.execute(cl, args.toArray(new String[0]));
        return new Run(code, out.toString(), err.toString());
    }

    private String tool() {
        return Cli.commandLine(command()).getCommandSpec().name();
    }

    private Path inputs() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("in"));
        writeInput(in);
        return in;
    }

    private static List<String> with(List<String> args, String... more) {
        List<String> all = new ArrayList<>(List.of(more));
        all.addAll(args);
        return all;
    }

    /** A usage error: exit 2, "TOOL: ..." then a Try line on stderr, nothing on stdout, nothing written. */
    private void assertUsage(Run r, Path out, String context) {
        assertEquals(ExitCodes.USAGE, r.code(), context + "\n" + r.err());
        assertEquals("", r.out(), context);
        List<String> lines = r.errLines();
        assertTrue(lines.size() >= 2 && lines.get(0).startsWith(tool() + ": ")
                && lines.get(lines.size() - 1).startsWith("Try '"), context + ": " + r.err());
        assertFalse(Files.exists(out), context + ": " + out + " written");
    }

    /** Bad input: exit 3, every stderr line "TOOL: ...", none an internal error, the file named, nothing left. */
    private void assertBadInput(Run r, Path out, String names, String context) throws IOException {
        assertEquals(ExitCodes.BAD_INPUT, r.code(), context + "\n" + r.err());
        assertEquals("", r.out(), context);
        assertFalse(r.err().isEmpty(), context);
        for (String line : r.errLines()) {
            assertTrue(line.startsWith(tool() + ": "), context + ": " + line);
            assertFalse(line.contains("internal error"), context + ": " + line);
            assertFalse(line.matches(".*/\\.[^/ ]+\\.(tmp|partial)\\b.*"), context + ": names a temporary: " + line);
        }
        assertTrue(r.err().contains(names), context + ": does not name " + names + ": " + r.err());
        assertFalse(Files.exists(out), context + ": " + out + " written");
        assertNoTemporaries(context);
    }

    private void assertNoTemporaries(String context) throws IOException {
        try (Stream<Path> s = Files.walk(tmp)) {
            List<Path> left = s.filter(p -> p.getFileName().toString().matches("\\..*(tmp|partial.*)")).toList();
            assertEquals(List.of(), left, context + ": temporaries left");
        }
    }

    @Test
    void helpListsTheExitCodesOnStdout() {
        Run r = run(List.of("--help"));
        assertEquals(ExitCodes.OK, r.code());
        assertEquals("", r.err());
        assertTrue(r.out().startsWith("Usage: " + tool()), r.out());
        for (String code : new String[] {"0", "1", "2", "3", "4", "5", "137"}) {
            assertTrue(r.out().contains("\n  " + code + " "), "exit code " + code + " in --help");
        }
    }

    @Test
    void versionOnStdout() {
        Run r = run(List.of("--version"));
        assertEquals(ExitCodes.OK, r.code());
        assertTrue(r.out().startsWith("adcsr "), r.out());
        assertEquals("", r.err());
    }

    @Test
    void unknownOptionIsAUsageError() throws IOException {
        Path out = tmp.resolve("out");
        assertUsage(run(with(args(inputs(), out), "--no-such-option")), out, "--no-such-option");
    }

    @Test
    void outOfRangeNumbersAreUsageErrors() throws IOException {
        Path in = inputs();
        Path out = tmp.resolve("out");
        CommandSpec spec = Cli.commandLine(command()).getCommandSpec();
        assertTrue(spec.findOption("--threads") != null, "every tool has --threads");
        int checked = 0;
        for (OptionSpec o : spec.options()) {
            List<String> bad = new ArrayList<>();
            for (String name : o.names()) {
                bad.addAll(RANGES.getOrDefault(name, List.of()));
            }
            if (bad.isEmpty() && o.converters() != null) {
                for (CommandLine.ITypeConverter<?> c : o.converters()) {
                    if (c instanceof Values.Positive) {
                        bad.addAll(List.of("0", "-1"));
                    } else if (c instanceof Values.NonNegative) {
                        bad.add("-1");
                    } else if (c instanceof Values.Quality) {
                        bad.addAll(List.of("0", "101"));
                    }
                }
            }
            for (String value : bad) {
                Run r = run(with(args(in, out), o.longestName() + "=" + value));
                assertUsage(r, out, o.longestName() + "=" + value);
                assertTrue(r.err().contains(o.longestName()), r.err());
                checked++;
            }
        }
        assertTrue(checked >= 3, "at least --threads was checked");
    }

    @Test
    void anEmptyInputDirectoryIsBadInput() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Path out = tmp.resolve("out");
        assertBadInput(run(args(empty, out)), out, empty.toString(), "empty input directory");
    }

    @Test
    void aMissingInputIsBadInput() throws IOException {
        Path missing = tmp.resolve("missing");
        Path out = tmp.resolve("out");
        assertBadInput(run(args(missing, out)), out, missing.toString(), "missing input");
    }

    @Test
    void aCorruptInputIsBadInputAndLeavesNothing() throws IOException {
        Path in = Files.createDirectories(tmp.resolve("corrupt"));
        writeCorruptInput(in);
        Path out = tmp.resolve("out");
        assertBadInput(run(args(in, out)), out, in.toString(), "corrupt input");
    }

    @Test
    void anOutputThatCannotBeCreatedIsBadInput() throws IOException {
        Path in = inputs();
        Path file = Files.writeString(tmp.resolve("a-file"), "not a directory");
        Path out = file.resolve("out");
        assertBadInput(run(args(in, out)), out, file.toString(), "output under a regular file");
        Path proc = Path.of("/proc/adcsr-contract-" + ProcessHandle.current().pid());
        if (Files.isDirectory(Path.of("/proc/self"))) {
            assertBadInput(run(args(in, proc)), proc, proc.toString(), "output in /proc");
        }
    }
}
