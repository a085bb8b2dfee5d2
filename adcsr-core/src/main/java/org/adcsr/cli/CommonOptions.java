package org.adcsr.cli;

import org.adcsr.core.Engines;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Options every tool has: {@code @Mixin CommonOptions common;}. Its {@code @Command} attributes (--help, --version,
 * the exit-code list) are merged into the tool's command, so they also appear in the generated man page.
 * Tools that draw random numbers add {@code @Mixin SeedOptions seed;}.
 */
@Command(
        mixinStandardHelpOptions = true,
        versionProvider = ManifestVersionProvider.class,
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:ok",
            "1:internal error (a bug; -vv shows the stack trace)",
            "2:usage error",
            "3:bad input (unreadable or malformed file, unusable value)",
            "4:check failed",
            "5:engine fault (wrong numbers from libtorch on this machine, or NaN/infinity from a network)",
            "6:training diverged (NaN or infinity in a loss or gradient; the newest checkpoint is good)",
            "137:out of memory"
        })
public class CommonOptions {
    @Option(names = {"-v", "--verbose"},
            description = "More messages on stderr; repeat (-vv) for debug logs and stack traces.")
    boolean[] verbose = new boolean[0];

    @Option(names = {"-q", "--quiet"}, description = "Only errors on stderr; no progress.")
    boolean quiet;

    @Option(names = "--progress", description = "Show progress on stderr even when not on a terminal.")
    boolean progress;

    @Option(names = "--threads", paramLabel = "N", converter = Values.Positive.class,
            description = "CPU threads, at least 1 (default: all available processors).")
    Integer threads;

    @Option(names = "--device", paramLabel = "cpu|gpu", converter = TargetConverter.class,
            description = "Where to run: cpu (default) or gpu (needs a CUDA libtorch, which this build lacks).")
    Engines.Target device = Engines.Target.CPU;

    /** -1 with --quiet, else the number of -v. */
    public int verbosity() {
        return quiet ? -1 : verbose.length;
    }

    public boolean quiet() {
        return quiet;
    }

    /** Whether {@link Progress} should draw: not --quiet, and --progress or a console (see {@link Progress}). */
    public boolean progress() {
        return !quiet && (progress || System.console() != null);
    }

    /** {@code --threads}, or {@code null} when not given (then {@link Engines#configure} decides). */
    public Integer threads() {
        return threads;
    }

    public Engines.Target device() {
        return device;
    }

    static final class TargetConverter implements ITypeConverter<Engines.Target> {
        @Override
        public Engines.Target convert(String value) {
            switch (value) {
                case "cpu": return Engines.Target.CPU;
                case "gpu": return Engines.Target.GPU;
                default: throw new TypeConversionException("expected cpu or gpu, got '" + value + "'");
            }
        }
    }
}
