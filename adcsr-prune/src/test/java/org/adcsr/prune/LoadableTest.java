package org.adcsr.prune;

import org.adcsr.core.sd.SdFixtures;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import org.adcsr.core.Engines;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.OfficialLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The UNet and decoder files, with the config in their metadata, load into the AdcSR network and run. */
class LoadableTest {
    @TempDir
    Path dir;

    @Test
    void outputsLoadIntoAdcsrModelAndRun() throws IOException {
        Path unet = dir.resolve("unet.safetensors");
        Path vae = dir.resolve("vae.safetensors");
        SdFixtures.writeDiffusers(unet, vae, SdFixtures.small(), DType.F16);
        Path out = dir.resolve("out");
        assertEquals(0, PruneCommandTest.run("--unet", unet.toString(), "--vae", vae.toString(), "-o",
                out.toString()).code());

        Engines.start(Engines.Target.CPU, 1);
        try (SafetensorsReader u = SafetensorsReader.open(out.resolve(Pruner.UNET_FILE));
                SafetensorsReader d = SafetensorsReader.open(out.resolve(Pruner.DECODER_FILE));
                NDManager m = NDManager.newBaseManager()) {
            AdcsrConfig c = AdcsrConfig.fromJson(u.metadata().get("adcsr.config"));
            assertEquals(c, AdcsrConfig.fromJson(d.metadata().get("adcsr.config")));
            RenamedTensorSource both = new RenamedTensorSource(u.path());
            u.names().forEach(n -> both.put(n, u, n));
            d.names().forEach(n -> both.put(n, d, n));
            try (AdcsrModel model = AdcsrModel.load(c, both, OfficialLayout.IGNORABLE, m, DataType.FLOAT32)) {
                NDArray lr = m.randomUniform(-1, 1, new Shape(1, 3, 16, 16));
                NDArray sr = model.forward(lr);
                assertEquals(new Shape(1, 3, 64, 64), sr.getShape());
                assertFalse(sr.isInfinite().any().getBoolean() || sr.isNaN().any().getBoolean());
            }
        }
    }
}
