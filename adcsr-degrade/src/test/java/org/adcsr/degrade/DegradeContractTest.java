package org.adcsr.degrade;

import java.nio.file.Path;
import java.util.List;
import org.adcsr.cli.ToolContract;

/** README "Conventions" for adcsr-degrade: one 96 px pair from a directory of 64 px images (padded up, with a warning). */
class DegradeContractTest extends ToolContract {
    @Override
    protected Object command() {
        return new DegradeCommand();
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return List.of("--gt-size", "96", "-o", out.toString(), in.toString());
    }
}
