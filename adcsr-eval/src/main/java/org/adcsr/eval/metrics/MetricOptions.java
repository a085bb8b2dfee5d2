package org.adcsr.eval.metrics;

import java.nio.file.Path;
import org.adcsr.onnx.EngineChoice;

/**
 * What configures a metric: whose convention it follows, the border cropped before measuring, RGB instead of Y for
 * PSNR/SSIM, and where learned metrics find their weight files.
 *
 * @param convention pyiqa (AdcSR, OSEDiff) or BasicSR arithmetic
 * @param cropBorder pixels removed from each side first
 * @param rgb PSNR and SSIM on the three RGB channels instead of the BT.601 Y
 * @param weightsDir folder of user-supplied weight files, or null
 * @param engine what runs the networks that have an ONNX Runtime form (MUSIQ); the others run on DJL
 */
public record MetricOptions(Convention convention, int cropBorder, boolean rgb, Path weightsDir, EngineChoice engine) {

    /** With {@link EngineChoice#AUTO}. */
    public MetricOptions(Convention convention, int cropBorder, boolean rgb, Path weightsDir) {
        this(convention, cropBorder, rgb, weightsDir, EngineChoice.AUTO);
    }

    public MetricOptions {
        if (cropBorder < 0) {
            throw new IllegalArgumentException("crop border must be >= 0: " + cropBorder);
        }
    }

    /** {@code _crop4}, or nothing without a crop: appended to column names. */
    String cropSuffix() {
        return cropBorder == 0 ? "" : "_crop" + cropBorder;
    }
}
