package org.adcsr.core.model;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.model.ShapeOps.ModuleCost;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * Parameters and multiply-adds per module of a config at an input size, as CSV. The figures come from running the
 * forward on shapes ({@link ShapeOps}), so they describe exactly the network that runs.
 */
public final class CostReport {
    static final String[] HEADER = {"module", "kind", "params", "macs", "attention_macs", "output_shape"};

    private CostReport() {
    }

    /** Per-module costs of the whole network on a {@code [batch, 3, height, width]} LR input. */
    public static List<ModuleCost> costs(AdcsrConfig config, int batch, int height, int width) {
        ShapeOps s = new ShapeOps();
        AdcsrNetwork.forward(s, config, new long[] {batch, 3, height, width});
        return s.costs();
    }

    /**
     * Sums rows whose names agree in their first {@code depth} dotted parts ({@code unet.down_blocks.0} is depth 3);
     * depth 0 keeps every module. Order of first appearance is kept.
     */
    public static List<ModuleCost> aggregate(List<ModuleCost> rows, int depth) {
        if (depth <= 0) {
            return rows;
        }
        Map<String, ModuleCost> groups = new LinkedHashMap<>();
        for (ModuleCost r : rows) {
            String[] parts = r.module().split("\\.");
            String key = String.join(".", Arrays.copyOf(parts, Math.min(depth, parts.length)));
            groups.merge(key, new ModuleCost(key, r.kind(), r.params(), r.macs(), r.attentionMacs(), r.outShape()),
                    (a, b) -> new ModuleCost(key, a.kind().equals(b.kind()) ? a.kind() : "block",
                            a.params() + b.params(), a.macs() + b.macs(), a.attentionMacs() + b.attentionMacs(),
                            b.outShape().length == 4 ? b.outShape() : a.outShape())); // NCHW, not tokens
        }
        return new ArrayList<>(groups.values());
    }

    /** Writes the rows and a final {@code total} row as CSV with a header. */
    public static void writeCsv(List<ModuleCost> rows, Appendable out) throws IOException {
        long params = 0;
        long macs = 0;
        long attention = 0;
        try (CSVPrinter csv = new CSVPrinter(out, CSVFormat.RFC4180.builder().setHeader(HEADER).get())) {
            for (ModuleCost r : rows) {
                csv.printRecord(r.module(), r.kind(), r.params(), r.macs(), r.attentionMacs(), shape(r.outShape()));
                params += r.params();
                macs += r.macs();
                attention += r.attentionMacs();
            }
            csv.printRecord("total", "", params, macs, attention, "");
        }
    }

    private static String shape(long[] s) {
        StringBuilder b = new StringBuilder();
        for (long d : s) {
            b.append(b.length() == 0 ? "" : "x").append(d);
        }
        return b.toString();
    }
}
