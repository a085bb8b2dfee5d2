package org.adcsr.eval.metrics;

import org.adcsr.core.image.Image;

/**
 * One image-quality metric, configured (convention, crop, channels, weights) and ready to score images. Instances
 * are immutable and thread-safe: the evaluator scores several images at once.
 */
public interface Metric {

    /** Registry name, as given to {@code --metrics}: {@code psnr}. */
    String name();

    /** CSV column: the metric and everything that changes its value, e.g. {@code psnr_y_bt601_pyiqa_crop4}. */
    String column();

    /** Whether {@link #score} needs the ground-truth image (full-reference) or ignores it (no-reference). */
    boolean fullReference();

    /**
     * Scores one image. {@code gt} is null for a no-reference metric; for a full-reference metric both images have
     * the same size and colour channels (the evaluator checks). Throws {@link IllegalArgumentException} with a short
     * reason when the metric is undefined for this image (too small, for example).
     */
    double score(Image sr, Image gt);
}
