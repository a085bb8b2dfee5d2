package org.adcsr.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.adcsr.core.BadInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** A test-only tool: prints its options to stdout, or fails the way {@code --fail} says. */
@Command(name = "adcsr-tiny", description = "Test command.")
class TinyCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    SeedOptions seed;

    @Spec
    CommandSpec spec;

    @Option(names = "--fail", description = "bad, long, boom, wrapped, oom or check.")
    String fail;

    @Override
    public Integer call() {
        if (fail != null) {
            switch (fail) {
                case "bad": throw BadInputException.of(Path.of("x.png"), "not a PNG\n(second line)");
                case "long": throw BadInputException.of(Path.of("x.safetensors"), "does not fit the model: "
                        + "k".repeat(400));
                case "boom": throw new IllegalStateException("kaput");
                case "wrapped": throw new RuntimeException(new BadInputException("deep"));
                case "oom": throw new OutOfMemoryError("Java heap space");
                case "check": return ExitCodes.CHECK_FAILED;
                default: throw new IllegalArgumentException(fail);
            }
        }
        spec.commandLine().getOut().printf("threads=%s device=%s seed=%d verbosity=%d%n",
                common.threads(), common.device(), seed.seed(), common.verbosity());
        return ExitCodes.OK;
    }
}
