package org.adcsr.prune;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/**
 * The {@code --report} CSV: one row per input tensor (in SD module order: UNet, then decoder, then encoder) with its
 * name in the input file, its name in the output (empty when removed), what happened, shapes ({@code 320x4x3x3}) and
 * parameter counts before and after; then one {@code total} row per part.
 */
final class LayerReport {
    static final String[] HEADER = {
        "part", "source", "output", "action", "shape_before", "shape_after", "params_before", "params_after"};

    private LayerReport() {
    }

    static String csv(List<Pruner.Row> rows) throws IOException {
        StringBuilder out = new StringBuilder();
        CSVFormat f = CSVFormat.RFC4180.builder().setHeader(HEADER).get();
        Map<String, long[]> totals = new LinkedHashMap<>();
        try (CSVPrinter p = new CSVPrinter(out, f)) {
            for (Pruner.Row r : rows) {
                p.printRecord(r.part(), r.source(), r.output(), r.action(), shape(r.before()), shape(r.after()),
                        r.paramsBefore(), r.paramsAfter());
                long[] t = totals.computeIfAbsent(r.part(), k -> new long[2]);
                t[0] += r.paramsBefore();
                t[1] += r.paramsAfter();
            }
            for (Map.Entry<String, long[]> t : totals.entrySet()) {
                p.printRecord(t.getKey(), "", "", "total", "", "", t.getValue()[0], t.getValue()[1]);
            }
        }
        return out.toString();
    }

    static String shape(long[] s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (long d : s) {
            b.append(b.length() == 0 ? "" : "x").append(d);
        }
        return b.toString();
    }
}
