package org.adcsr.prune;

import org.adcsr.core.sd.SdFixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.adcsr.cli.ToolContract;
import org.adcsr.core.io.DType;

/** README "Conventions" for adcsr-prune: a small diffusers directory (--sd) pruned into an output directory. */
class PruneContractTest extends ToolContract {
    @Override
    protected Object command() {
        PruneCommand cmd = new PruneCommand();
        cmd.config = SdFixtures.small();
        return cmd;
    }

    @Override
    protected List<String> args(Path in, Path out) {
        return List.of("--sd", in.toString(), "-o", out.toString());
    }

    @Override
    protected void writeInput(Path dir) throws IOException {
        SdFixtures.writeDiffusers(Files.createDirectories(dir.resolve("unet")).resolve(
                "diffusion_pytorch_model.safetensors"), Files.createDirectories(dir.resolve("vae")).resolve(
                "diffusion_pytorch_model.safetensors"), SdFixtures.small(), DType.F32);
    }

    /** The model directory with its UNet file cut in half. */
    @Override
    protected void writeCorruptInput(Path dir) throws IOException {
        writeInput(dir);
        Path unet = dir.resolve("unet/diffusion_pytorch_model.safetensors");
        byte[] b = Files.readAllBytes(unet);
        Files.write(unet, Arrays.copyOf(b, b.length / 2));
    }
}
