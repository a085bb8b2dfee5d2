package org.adcsr.core.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.sd.SdConfig;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * The discriminator's parameter counts ({@link Discriminator#parameters}) as CSV rows in the style of
 * {@code adcsr-upscale info} ({@link CostReport}): one row per LoRA adapter, then all LoRA, the widened
 * {@code conv_in}, what trains (LoRA + conv_in, {@link Discriminator#isTrainable}), what stays frozen, and the total.
 * For SD2.1-base with conv_in 256 → 320 and rank 4: 258 LoRA layers, 4,064,784 LoRA parameters, conv_in 737,600
 * (ADCSR.md §7).
 */
public final class DiscriminatorCounts {
    static final String[] HEADER = {"module", "trainable", "lora_layers", "params"};

    /**
     * One row.
     *
     * @param loraLayers LoRA layers (one per adapted module and adapter, counted by its {@code lora_A}); 0 for rows
     *     without LoRA
     */
    public record Row(String module, boolean trainable, long loraLayers, long params) {
    }

    private DiscriminatorCounts() {
    }

    /** The rows for D over {@code c} reading {@code inChannels}-channel features with LoRA rank {@code rank}. */
    public static List<Row> rows(SdConfig c, int inChannels, int rank, double alpha) {
        Map<String, long[]> adapters = new LinkedHashMap<>(); // adapter -> {layers, params}
        long convIn = 0;
        long frozen = 0;
        for (TensorInfo t : Discriminator.parameters(c, inChannels, rank, alpha)) {
            String n = t.name();
            if (LoraOps.isLoraParameter(n)) {
                String adapter = n.substring(n.indexOf(".lora_") + ".lora_A.".length(), n.lastIndexOf(".weight"));
                long[] a = adapters.computeIfAbsent(adapter, k -> new long[2]);
                a[0] += n.contains(".lora_A.") ? 1 : 0;
                a[1] += t.numel();
            } else if (Discriminator.isTrainable(n)) {
                convIn += t.numel();
            } else {
                frozen += t.numel();
            }
        }
        List<Row> rows = new ArrayList<>();
        long layers = 0;
        long lora = 0;
        for (Map.Entry<String, long[]> a : adapters.entrySet()) {
            rows.add(new Row("lora." + a.getKey(), true, a.getValue()[0], a.getValue()[1]));
            layers += a.getValue()[0];
            lora += a.getValue()[1];
        }
        rows.add(new Row("lora", true, layers, lora));
        rows.add(new Row("conv_in", true, 0, convIn));
        rows.add(new Row("trainable", true, layers, lora + convIn));
        rows.add(new Row("frozen", false, 0, frozen));
        rows.add(new Row("total", false, layers, lora + convIn + frozen));
        return rows;
    }

    /** Writes the rows as CSV with a header. */
    public static void writeCsv(List<Row> rows, Appendable out) throws IOException {
        try (CSVPrinter csv = new CSVPrinter(out, CSVFormat.RFC4180.builder().setHeader(HEADER).get())) {
            for (Row r : rows) {
                csv.printRecord(r.module(), r.trainable() ? "yes" : "no", r.loraLayers(), r.params());
            }
        }
    }
}
