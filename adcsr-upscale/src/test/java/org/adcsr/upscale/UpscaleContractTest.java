package org.adcsr.upscale;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.adcsr.cli.ToolContract;
import org.adcsr.core.io.DType;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** README "Conventions" for adcsr-upscale: a directory of images upscaled into a directory, tiny random model. */
class UpscaleContractTest extends ToolContract {
    @TempDir
    static Path models;
    static Path weights;

    @BeforeAll
    static void tinyModel() throws Exception {
        weights = models.resolve("tiny.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 3, m, DataType.FLOAT32)) {
            ModelFiles.save(model, weights, Map.of(), DType.F32);
        }
    }

    @Override
    protected Object command() {
        return new UpscaleCommand();
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return List.of("--weights=" + weights, "--tile=32", "--overlap=16", in.toString(), "-o", out.toString());
    }
}
