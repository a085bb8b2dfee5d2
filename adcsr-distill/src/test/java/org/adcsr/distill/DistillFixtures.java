package org.adcsr.distill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.train.DistillTraining;

/**
 * A complete tiny Stage-2 input set in one directory: {@code mini.json} (a 4-level student, 8 wide), the Stage-1
 * {@code decoder.safetensors} and {@code encoder.safetensors} (seeded PyTorch-default-like weights), {@code disc.json}
 * (a 2-level D, 16/32 wide), and {@code pairs.csv} with three 16² LR / 64² HR PNG pairs.
 */
final class DistillFixtures {
    static final String MINI = "{\"name\":\"mini\",\"unet_in_channels\":12,\"unet_block_out_channels\":[8,8,8,8],"
            + "\"unet_heads\":[2,2,2,2],\"unet_layers_per_block\":1,\"unet_down_attention\":[true,true,true,false],"
            + "\"connector_out_channels\":8,\"decoder_block_out_channels\":[8,8,8,8],\"decoder_layers_per_block\":1,"
            + "\"decoder_norm_groups\":4}";
    static final VaeEncoder.Config ENCODER = new VaeEncoder.Config(new int[] {8, 8, 16, 16}, 1, 4, 4);
    static final String DISC = "{\"block_out_channels\":[16,32],\"attention_head_dim\":[2,4],\"layers_per_block\":1,"
            + "\"down_block_types\":[\"CrossAttnDownBlock2D\",\"DownBlock2D\"],\"cross_attention_dim\":8,"
            + "\"norm_num_groups\":4,\"in_channels\":4,\"out_channels\":4}";

    private DistillFixtures() {
    }

    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("mini.json"), MINI);
        Files.writeString(dir.resolve("disc.json"), DISC);
        AdcsrConfig c = AdcsrConfig.fromJson(MINI);
        weights(dir.resolve("decoder.safetensors"), DistillTraining.decoderParameters(c, 4), Map.of(), 1);
        weights(dir.resolve("encoder.safetensors"), DistillTraining.encoderParameters(ENCODER),
                Map.of("adcsr.encoder", DistillTraining.encoderString(ENCODER)), 2);
        Files.createDirectories(dir.resolve("lr"));
        Files.createDirectories(dir.resolve("hr"));
        StringBuilder csv = new StringBuilder("id,hr_path,lr_path\n");
        for (int k = 0; k < 3; k++) {
            String id = String.format("%06d", k);
            png(dir.resolve("hr/" + id + ".png"), 64, k);
            png(dir.resolve("lr/" + id + ".png"), 16, k);
            csv.append(id).append(",hr/").append(id).append(".png,lr/").append(id).append(".png\n");
        }
        Files.writeString(dir.resolve("pairs.csv"), csv);
    }

    /** Weights U(±1/√fan_in), norms 1 and 0, seeded. */
    static void weights(Path file, List<TensorInfo> params, Map<String, String> meta, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (TensorInfo t : params) {
            float[] v = new float[Math.toIntExact(t.numel())];
            long fan = t.shape().length > 1 ? t.numel() / t.shape()[0] : 16;
            for (int i = 0; i < v.length; i++) {
                v[i] = t.name().contains("norm") ? (t.name().endsWith("weight") ? 1f : 0f)
                        : (float) ((r.nextDouble() * 2 - 1) / Math.sqrt(fan));
            }
            entries.add(new SafetensorsWriter.Entry(t.name(), t.shape(), () -> v));
        }
        SafetensorsWriter.write(file, meta, entries, DType.F32);
    }

    static void png(Path file, int size, int k) {
        Image img = Image.blank(size, size, 3, 255);
        double s = 64.0 / size;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    img.setSample(c, y, x, (float) Math.floor(127.5 + 120 * Math.sin(0.1 * x * s + 0.07 * y * s + c
                            + k)));
                }
            }
        }
        Images.write(img, file, 95);
    }

    /** The options of a tiny new run reading {@code dir} (without -o and --steps). */
    static List<String> args(Path dir) {
        return new ArrayList<>(List.of("--threads", "1", "--student", "random", "--config",
                dir.resolve("mini.json").toString(), "--decoder", dir.resolve("decoder.safetensors").toString(),
                "--encoder", dir.resolve("encoder.safetensors").toString(), "--teacher", "gt", "--disc-init",
                "random", "--disc-config", dir.resolve("disc.json").toString(), "--pairs",
                dir.resolve("pairs.csv").toString(), "--batch", "2", "--lr", "1e-3", "--disc-lr", "1e-3"));
    }
}
