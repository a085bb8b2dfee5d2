package org.adcsr.upscale;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.AtomicFiles;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

/** The optional {@code --report} CSV: one row per image, written atomically when the run ends. */
final class Report implements AutoCloseable {
    static final String[] HEADER = {"input", "output", "model", "engine", "status", "width", "height", "out_width", "out_height",
        "tiles", "seconds", "peak_rss_mib", "message"};

    private final Path file;
    private final String model;
    private final String engine;
    private final List<List<Object>> rows = new ArrayList<>();

    private Report(Path file, String model, String engine) {
        this.file = file;
        this.model = model;
        this.engine = engine;
    }

    /**
     * A report writing to {@code file}, or one that discards rows when {@code file} is null; {@code model} fills the
     * model column ({@code bicubic}, or the weights file) and {@code engine} the engine column ({@code onnxruntime},
     * {@code djl}, or empty for bicubic).
     */
    static Report open(Path file, String model, String engine) {
        return new Report(file, model, engine);
    }

    void row(Job job, String status, Image in, Image out, int tiles, double seconds, String message) {
        List<Object> r = new ArrayList<>();
        r.add(job.name());
        r.add(job.output() == null ? "-" : job.output().toString());
        r.add(model);
        r.add(engine);
        r.add(status);
        r.add(in == null ? "" : in.width());
        r.add(in == null ? "" : in.height());
        r.add(out == null ? "" : out.width());
        r.add(out == null ? "" : out.height());
        r.add(tiles);
        r.add(String.format(java.util.Locale.ROOT, "%.3f", seconds));
        r.add(peakRssMib());
        r.add(message);
        rows.add(r);
    }

    /** The process's peak resident memory so far (Linux {@code VmHWM}), in MiB; empty elsewhere. */
    static String peakRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    long kb = Long.parseLong(line.replaceAll("[^0-9]", ""));
                    return Long.toString(kb / 1024);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return "";
        }
        return "";
    }

    @Override
    public void close() {
        if (file == null) {
            return;
        }
        try {
            AtomicFiles.writeStream(file, out -> {
                Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
                try (CSVPrinter csv = new CSVPrinter(w, CSVFormat.RFC4180.builder().setHeader(HEADER).get())) {
                    for (List<Object> r : rows) {
                        csv.printRecord(r);
                    }
                    csv.flush();
                }
            });
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot write the report (" + e.getMessage() + ")", e);
        }
    }
}
