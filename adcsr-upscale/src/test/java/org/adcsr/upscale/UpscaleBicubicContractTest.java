package org.adcsr.upscale;

import java.nio.file.Path;
import java.util.List;
import org.adcsr.cli.ToolContract;

/** README "Conventions" for adcsr-upscale's bicubic baseline, which runs without weights. */
class UpscaleBicubicContractTest extends ToolContract {
    @Override
    protected Object command() {
        return new UpscaleCommand();
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return List.of("--model=bicubic", in.toString(), "-o", out.toString());
    }
}
