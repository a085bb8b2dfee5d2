package org.adcsr.qnn;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adcsr.cli.ToolContract;
import org.adcsr.core.model.AdcsrConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** README "Conventions" for adcsr-export-qnn: the tiny architecture, random weights, a calibration directory. */
class ExportQnnContractTest extends ToolContract {
    @TempDir
    static Path shared;
    static Path config;

    @BeforeAll
    static void tinyConfig() throws Exception {
        config = Files.writeString(shared.resolve("tiny.json"), AdcsrConfig.tiny().toJson());
    }

    @Override
    protected Object command() {
        return new ExportQnnCommand();
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return List.of("--random-weights", "--config", config.toString(), "--calib", in.toString(), "--tile", "32",
                "-o", out.toString());
    }
}
