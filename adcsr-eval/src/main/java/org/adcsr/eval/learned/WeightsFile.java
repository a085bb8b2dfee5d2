package org.adcsr.eval.learned;

import java.nio.file.Files;
import java.nio.file.Path;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;

/** The published weights file a learned metric reads from {@code --weights-dir}: there, and its sha256 as published. */
final class WeightsFile {
    private WeightsFile() {
    }

    /**
     * {@code --weights-dir}/{@code name}, its sha256 checked against {@code sha256Prefix}; otherwise the metric is
     * unavailable with one line saying what the file is ({@code what}) and where it is published.
     */
    static Path require(MetricOptions o, String name, String what, String url, String sha256Prefix)
            throws MetricUnavailableException {
        Path dir = o.weightsDir();
        if (dir == null) {
            throw new MetricUnavailableException("needs --weights-dir with " + name + " (" + what + ", published at "
                    + url + "; it cannot be downloaded here); no score is written");
        }
        Path file = dir.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new MetricUnavailableException("missing " + file + " (" + what + ", published at " + url
                    + "); no score is written");
        }
        LpipsMetric.checkHashPrefix(file, sha256Prefix);
        return file;
    }
}
