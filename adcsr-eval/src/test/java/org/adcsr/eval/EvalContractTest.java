package org.adcsr.eval;

import java.nio.file.Path;
import java.util.List;
import org.adcsr.cli.ToolContract;

/** README "Conventions" for adcsr-eval: PSNR of a folder against itself, CSV to a file. */
class EvalContractTest extends ToolContract {
    @Override
    protected Object command() {
        return new EvalCommand();
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return List.of("-m", "psnr", "--sr", in.toString(), "--gt", in.toString(), "-o", out.toString());
    }
}
