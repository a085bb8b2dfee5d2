package org.adcsr.trainvae;

import java.nio.file.Path;
import java.util.List;
import org.adcsr.cli.ToolContract;

/** README "Conventions" for adcsr-train-vae: one tiny step on a directory of images into a run directory. */
class TrainVaeContractTest extends ToolContract {
    @Override
    protected Object command() {
        return new TrainVaeCommand();
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return TrainVaeCommandTest.tiny(List.of("--steps", "1", "-o", out.toString(), in.toString()));
    }
}
