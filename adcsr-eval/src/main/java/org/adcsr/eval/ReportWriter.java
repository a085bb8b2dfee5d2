package org.adcsr.eval;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/** The CSV report (stdout or a file) and the readable summary (stderr). */
final class ReportWriter {
    private ReportWriter() {}

    /**
     * Header {@code row,image,count,<metric columns>} ({@link Evaluator.Report#columns}); one {@code image} row per scored image (count 1), then one
     * {@code mean} row (image empty, count = images averaged). A folder-level metric (fid) has no per-image value:
     * its column is empty in image rows and holds the set-level value (SR set against GT set, over the scored
     * images) in the mean row. An undefined value is empty. Values are full-precision decimal ({@code inf} for
     * the infinite PSNR of identical images in the BasicSR convention).
     */
    static void csv(Evaluator.Report report, Appendable out) throws IOException {
        List<String> header = new ArrayList<>(List.of("row", "image", "count"));
        header.addAll(report.columns());
        // not closed: closing the printer would close the caller's stream (stdout)
        CSVPrinter p = new CSVPrinter(out, CSVFormat.DEFAULT.builder().setRecordSeparator('\n').build());
        {
            p.printRecord(header);
            for (Evaluator.Row r : report.rows()) {
                List<String> rec = new ArrayList<>(List.of("image", r.image(), "1"));
                for (double v : r.values()) {
                    rec.add(Double.isNaN(v) ? "" : number(v));
                }
                p.printRecord(rec);
            }
            List<String> mean = new ArrayList<>(List.of("mean", "", Integer.toString(report.count())));
            for (double v : report.means()) {
                mean.add(report.count() == 0 || Double.isNaN(v) ? "" : number(v));
            }
            p.printRecord(mean);
            p.flush();
        }
    }

    static String number(double v) {
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        return Double.toString(v);
    }

    /** A small aligned table: metric column, mean, count. */
    static void table(Evaluator.Report report, PrintWriter err) {
        int w = "metric".length();
        for (String column : report.columns()) {
            w = Math.max(w, column.length());
        }
        err.printf("%-" + w + "s  %12s  %6s%n", "metric", "mean", "images");
        for (int i = 0; i < report.metrics().size(); i++) {
            double v = report.means()[i];
            String mean = report.count() == 0 || Double.isNaN(v) ? "-" : String.format("%.4f", v);
            err.printf("%-" + w + "s  %12s  %6d%n", report.columns().get(i), mean, report.count());
        }
        err.flush();
    }
}
