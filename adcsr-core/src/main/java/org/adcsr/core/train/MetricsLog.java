package org.adcsr.core.train;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.AtomicFiles;

/**
 * A run's {@code train.csv} (or {@code val.csv}): a header, then one row per logged step, the first column
 * {@code step}, numbers in their shortest exact form. Each row is flushed when written. Reopened on resume, the log
 * keeps the rows up to the checkpoint's step and drops the rest (steps the interrupted run logged after its last
 * checkpoint are done again), so the file of a resumed run equals that of a run that never stopped.
 */
public final class MetricsLog implements Closeable {
    private final List<String> columns;
    private final BufferedWriter out;

    private MetricsLog(List<String> columns, BufferedWriter out) {
        this.columns = columns;
        this.out = out;
    }

    /**
     * Opens {@code file} for appending rows with {@code columns} (the first must be {@code step}).
     *
     * @param upTo keep existing rows whose step is at most this (the checkpoint's step); 0 starts afresh
     * @throws BadInputException if an existing file has another header
     */
    public static MetricsLog open(Path file, List<String> columns, long upTo) throws IOException {
        return open(file, columns, upTo, step -> true);
    }

    /**
     * As {@link #open(Path, List, long)}, keeping only the rows up to {@code upTo} whose step {@code keepStep} accepts
     * (a validation log drops the extra row an earlier, shorter run wrote at its end).
     */
    public static MetricsLog open(Path file, List<String> columns, long upTo, java.util.function.LongPredicate keepStep)
            throws IOException {
        if (columns.isEmpty() || !columns.get(0).equals("step")) {
            throw new IllegalArgumentException("the first column must be step");
        }
        String header = String.join(",", columns);
        List<String> keep = new ArrayList<>();
        keep.add(header);
        if (upTo > 0 && Files.exists(file)) {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.isEmpty() || !lines.get(0).equals(header)) {
                throw BadInputException.of(file, "has other columns than this run logs (" + header + ")");
            }
            for (String line : lines.subList(1, lines.size())) {
                int comma = line.indexOf(',');
                try {
                    long step = Long.parseLong(comma < 0 ? line : line.substring(0, comma));
                    if (step <= upTo && keepStep.test(step)) {
                        keep.add(line);
                    }
                } catch (NumberFormatException e) {
                    break; // a row cut short by a kill: everything after it is dropped too
                }
            }
        }
        AtomicFiles.writeStream(file, os -> os.write((String.join("\n", keep) + "\n").getBytes(StandardCharsets.UTF_8)));
        return new MetricsLog(List.copyOf(columns),
                Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    }

    /** Appends one row: {@code values} in column order, the step first. */
    public void append(long step, double... values) throws IOException {
        if (values.length != columns.size() - 1) {
            throw new IllegalArgumentException(columns.size() - 1 + " values expected, got " + values.length);
        }
        StringBuilder sb = new StringBuilder().append(step);
        for (double v : values) {
            sb.append(',').append(format(v));
        }
        out.write(sb.append('\n').toString());
        out.flush();
    }

    /** Appends one row of text cells after the step (quoted as CSV where needed): for logs not all numbers. */
    public void appendCells(long step, List<String> cells) throws IOException {
        if (cells.size() != columns.size() - 1) {
            throw new IllegalArgumentException(columns.size() - 1 + " cells expected, got " + cells.size());
        }
        List<Object> row = new ArrayList<>(cells.size() + 1);
        row.add(step);
        row.addAll(cells);
        out.write(org.apache.commons.csv.CSVFormat.DEFAULT.format(row.toArray()) + "\n");
        out.flush();
    }

    /** Integers without a fraction, other numbers in Java's shortest round-trip form, NaN as {@code nan}. */
    static String format(double v) {
        if (Double.isNaN(v)) {
            return "nan";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
