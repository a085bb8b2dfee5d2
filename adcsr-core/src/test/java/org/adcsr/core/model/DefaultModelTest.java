package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packing the default model (float16 weights with the card in their metadata) and taking it out of a jar. */
class DefaultModelTest {
    @TempDir
    Path tmp;

    private Path tinyModel() throws Exception {
        Path weights = tmp.resolve("model.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 5, m, DataType.FLOAT32)) {
            ModelFiles.save(model, weights, Map.of("adcsr.stage", "2"), DType.F32);
        }
        return weights;
    }

    @Test
    void packStoresFloat16WithTheCardAndKeepsTheOtherMetadata() throws Exception {
        Path in = tinyModel();
        Path card = tmp.resolve("card.txt");
        Files.writeString(card, "# comment\n\nname: tiny-test\nquality: PSNR 1.00 dB: not real\n");
        Path out = tmp.resolve("packed.safetensors");
        DefaultModel.main(new String[] {"pack", in.toString(), card.toString(), out.toString()});
        assertEquals(Map.of("name", "tiny-test", "quality", "PSNR 1.00 dB: not real"), DefaultModel.card(out));
        try (SafetensorsReader a = SafetensorsReader.open(in); SafetensorsReader b = SafetensorsReader.open(out)) {
            assertEquals(a.metadata().get("adcsr.config"), b.metadata().get("adcsr.config"));
            assertEquals("2", b.metadata().get("adcsr.stage"));
            assertEquals(List.copyOf(a.names()), List.copyOf(b.names()));
            for (String name : a.names()) {
                TensorInfo info = b.info(name);
                assertEquals(DType.F16, info.dtype(), name);
                float[] x = a.readFloats(name);
                float[] y = b.readFloats(name);
                for (int i = 0; i < x.length; i++) {
                    // float16 keeps 11 significant bits
                    assertEquals(x[i], y[i], Math.abs(x[i]) * 0x1p-11 + 1e-7, name);
                }
            }
        }
        // and the packed model loads as any weights file
        assertEquals(AdcsrConfig.tiny().name(), ModelFiles.check(out, null, null).name());
    }

    @Test
    void aResourceInAJarIsCopiedOnceByContentAndABadCopyIsReplaced() throws Exception {
        byte[] bytes = Files.readAllBytes(tinyModel());
        Path jar = tmp.resolve("m.jar");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(jar))) {
            z.putNextEntry(new ZipEntry("org/x/" + DefaultModel.RESOURCE));
            z.write(bytes);
        }
        URL url = new URL("jar:" + jar.toUri() + "!/org/x/" + DefaultModel.RESOURCE);
        Path dir = tmp.resolve("cache");
        Path file = DefaultModel.extract(url, dir);
        assertEquals("default-model-" + DefaultModel.sha256(bytes).substring(0, 16) + ".safetensors",
                file.getFileName().toString());
        assertArrayEquals(bytes, Files.readAllBytes(file));
        long modified = Files.getLastModifiedTime(file).toMillis();
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(modified - 10_000));
        assertEquals(file, DefaultModel.extract(url, dir));
        assertEquals(modified - 10_000, Files.getLastModifiedTime(file).toMillis(), "an intact copy is reused");
        byte[] damaged = bytes.clone();
        damaged[damaged.length - 1] ^= 1;
        Files.write(file, damaged);
        assertEquals(file, DefaultModel.extract(url, dir));
        assertArrayEquals(bytes, Files.readAllBytes(file));
        try (java.util.stream.Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(file), left.toList(), "one copy, no temporary files left");
        }
    }
}
