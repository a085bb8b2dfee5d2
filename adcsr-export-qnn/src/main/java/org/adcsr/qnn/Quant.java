package org.adcsr.qnn;

/**
 * One AIMET/QNN quantisation encoding (QNN.md §5): {@code real = (q + offset)·scale}, offset ≤ 0. Rounding is
 * half-to-even ({@link Math#rint}), as in AIMET.
 */
record Quant(int bitwidth, boolean symmetric, double min, double max, double scale, long offset) {
    /** Smallest range an encoding may have. */
    static final double MIN_RANGE = 1e-4;

    /** Asymmetric: the range is widened to contain 0, which is then exactly representable. */
    static Quant asymmetric(double min, double max, int bw) {
        double lo = Math.min(min, 0);
        double hi = Math.max(max, 0);
        if (!(hi - lo >= MIN_RANGE)) { // also catches NaN
            hi = lo + MIN_RANGE;
        }
        long levels = (1L << bw) - 1;
        double scale = (hi - lo) / levels;
        long offset = (long) Math.rint(lo / scale);
        offset = Math.max(-levels, Math.min(0, offset));
        return new Quant(bw, false, offset * scale, (offset + levels) * scale, scale, offset);
    }

    /** Symmetric with offset −2^(bw−1): {@code scale = absmax/(2^(bw−1) − 1)}. */
    static Quant symmetric(double absmax, int bw) {
        double a = Math.max(absmax, MIN_RANGE / 2);
        long half = 1L << (bw - 1);
        double scale = a / (half - 1);
        return new Quant(bw, true, -half * scale, (half - 1) * scale, scale, -half);
    }

    /** The fixed output encoding of Sigmoid and Softmax (ORT's QNN recipe): uint16, scale 1/65536, offset 0. */
    static Quant unitInterval16() {
        double scale = 1.0 / 65536;
        return new Quant(16, false, 0, 65535 * scale, scale, 0);
    }

    /** Quantise and dequantise one value. */
    double fakeQuant(double x) {
        long levels = (1L << bitwidth) - 1;
        double q = Math.rint(x / scale) - offset;
        q = Math.max(0, Math.min(levels, q));
        return (q + offset) * scale;
    }
}
