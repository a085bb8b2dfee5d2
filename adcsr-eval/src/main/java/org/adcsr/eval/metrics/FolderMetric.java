package org.adcsr.eval.metrics;

import java.util.List;
import org.adcsr.core.image.Image;

/**
 * A metric of a whole set of images rather than of one image (FID: the SR set against the GT set). The evaluator
 * calls {@link #features} for the SR and the GT image of every pair it scores (several at a time; implementations are
 * thread-safe), then {@link #folder} once with all of them, in input order. Its value goes into the report's mean
 * row; image rows leave its column empty. {@link #score} is not used.
 */
public interface FolderMetric extends Metric {

    /** Per-image features. */
    double[] features(Image img);

    /** The set-level value; {@link IllegalArgumentException} with a short reason when it is undefined. */
    double folder(List<double[]> sr, List<double[]> gt);

    @Override
    default double score(Image sr, Image gt) {
        throw new UnsupportedOperationException(name() + " is a folder-level metric");
    }
}
