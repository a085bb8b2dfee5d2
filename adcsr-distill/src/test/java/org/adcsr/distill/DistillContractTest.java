package org.adcsr.distill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adcsr.cli.ToolContract;

/** README "Conventions" for adcsr-distill: one tiny iteration on a tiny input set into a run directory. */
class DistillContractTest extends ToolContract {
    @Override
    protected Object command() {
        return new DistillCommand();
    }

    @Override
    protected void writeInput(Path dir) throws IOException {
        DistillFixtures.write(dir);
    }

    /** The set with its pairs.csv cut inside a quoted field. */
    @Override
    protected void writeCorruptInput(Path dir) throws IOException {
        DistillFixtures.write(dir);
        Files.writeString(dir.resolve("pairs.csv"), "id,hr_path,lr_path\n000000,\"hr/000000.png,lr/0");
    }

    @Override
    protected List<String> args(Path in, Path out) {
        List<String> a = DistillFixtures.args(in);
        a.addAll(List.of("--steps", "1", "-o", out.toString()));
        return a;
    }
}
