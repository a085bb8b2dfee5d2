package org.adcsr.core.sd;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsWriter;
import org.adcsr.core.io.TensorInfo;

/** Small SD-shaped checkpoints with real key names, written by the tests (adcsr-prune's, adcsr-train-vae's). */
public final class SdFixtures {
    private SdFixtures() {
    }

    /** SD2.1-base's structure at 1/40 of the UNet width and 1/16 of the VAE width. */
    public static SdConfig small() {
        return new SdConfig("small SD", new int[] {8, 16, 32, 32}, new int[] {1, 2, 4, 4}, 2,
                new boolean[] {true, true, true, false}, 8, 4, new int[] {8, 16, 32, 32}, 2, 4, 4);
    }

    /** The seeded values of a tensor: uniform in (−1, 1), a function of the name only. */
    public static float[] values(String name, long numel) {
        SplittableRandom r = new SplittableRandom(name.hashCode());
        float[] v = new float[Math.toIntExact(numel)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    public static List<SafetensorsWriter.Entry> entries(List<TensorInfo> tensors) {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        for (TensorInfo t : tensors) {
            e.add(new SafetensorsWriter.Entry(t.name(), t.shape(), () -> values(t.name(), t.numel())));
        }
        return e;
    }

    public static void writeDiffusers(Path unet, Path vae, SdConfig c, DType type) throws IOException {
        if (unet != null) {
            SafetensorsWriter.write(unet, Map.of(), entries(SdLayout.unet(c)), type);
        }
        if (vae != null) {
            SafetensorsWriter.write(vae, Map.of(), entries(SdLayout.vae(c)), type);
        }
    }

    /** The same tensors under original LDM names, VAE attention as 1×1 convs, plus a text-encoder tensor. */
    public static void writeSingleFile(Path file, SdConfig c) throws IOException {
        List<SafetensorsWriter.Entry> e = new ArrayList<>();
        e.add(SafetensorsWriter.Entry.of("cond_stage_model.model.token_embedding.weight", new long[] {3, 2},
                new float[6]));
        for (TensorInfo t : SdLayout.unet(c)) {
            e.add(new SafetensorsWriter.Entry(LdmNames.UNET_PREFIX + LdmNames.unet(t.name(), c), t.shape(),
                    () -> values(t.name(), t.numel())));
        }
        for (TensorInfo t : SdLayout.vae(c)) {
            long[] s = t.shape();
            if (t.name().contains("mid_block.attentions.0.to_") && s.length == 2) {
                s = new long[] {s[0], s[1], 1, 1};
            }
            e.add(new SafetensorsWriter.Entry(LdmNames.VAE_PREFIX + LdmNames.vae(t.name(), c), s,
                    () -> values(t.name(), t.numel())));
        }
        SafetensorsWriter.write(file, Map.of(), e, DType.F32);
    }

    /** A valid F32 safetensors file of the given tensors whose data is a hole (zeros), so that it costs no disk. */
    public static void writeSparse(Path file, List<TensorInfo> tensors) throws IOException {
        StringWriter json = new StringWriter();
        long offset = 0;
        try (JsonWriter w = new JsonWriter(json)) {
            w.beginObject();
            for (TensorInfo t : tensors) {
                long end = offset + 4 * t.numel();
                w.name(t.name()).beginObject().name("dtype").value("F32").name("shape").beginArray();
                for (long d : t.shape()) {
                    w.value(d);
                }
                w.endArray().name("data_offsets").beginArray().value(offset).value(end).endArray().endObject();
                offset = end;
            }
            w.endObject();
        }
        byte[] header = json.toString().getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).array());
            f.write(header);
            f.setLength(8 + header.length + offset);
        }
    }

    /** A reference key list from test resources as {@code name → shape}, in order. */
    public static Map<String, String> reference(String file) throws IOException {
        try (InputStream in = SdFixtures.class.getResourceAsStream("/fixtures/reference/" + file)) {
            Map<String, String> m = new LinkedHashMap<>();
            for (String l : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank()).collect(Collectors.toList())) {
                int i = l.indexOf(' ');
                m.put(l.substring(0, i), l.substring(i + 1).trim());
            }
            return m;
        }
    }
}
