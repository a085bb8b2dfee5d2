package org.adcsr.eval.metrics;

/**
 * Whose code a metric reproduces, to the last float rounding that matters (METRICS.md §1–2).
 *
 * <ul>
 *   <li>{@link #PYIQA}: pyiqa 0.1.13 as AdcSR's and OSEDiff's evaluate scripts call it: RGB 0–1 float32 input;
 *       PSNR/SSIM on the BT.601 Y ({@code color_space='ycbcr'}); NIQE on the YIQ luma (pyiqa's default).</li>
 *   <li>{@link #BASICSR}: BasicSR {@code calculate_psnr/ssim/niqe} on BGR 0–255 arrays, Y = BT.601 (MATLAB
 *       {@code rgb2ycbcr}) for all three.</li>
 * </ul>
 */
public enum Convention {
    PYIQA("pyiqa"),
    BASICSR("basicsr");

    private final String id;

    Convention(String id) {
        this.id = id;
    }

    /** Lower-case name used on the command line and in CSV column names. */
    public String id() {
        return id;
    }

    public static Convention parse(String s) {
        for (Convention c : values()) {
            if (c.id.equals(s)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown convention '" + s + "' (expected pyiqa or basicsr)");
    }
}
