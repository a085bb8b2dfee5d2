package org.adcsr.core.degrade;

/**
 * The blur kernels of the Real-ESRGAN degradation (spec §3), computed in double precision and normalised to sum 1,
 * then stored as float32 like the reference's {@code torch.FloatTensor}. Kernels are square, row-major, of odd size.
 */
public final class Kernels {
    /** Size every kernel is zero-padded to. */
    public static final int PADDED = 21;

    private Kernels() {
    }

    /** The kernel families of {@code kernel_list}. */
    public enum Type {
        ISO("iso"), ANISO("aniso"), GENERALIZED_ISO("generalized_iso"), GENERALIZED_ANISO("generalized_aniso"),
        PLATEAU_ISO("plateau_iso"), PLATEAU_ANISO("plateau_aniso"), SINC("sinc");

        public final String key;

        Type(String key) {
            this.key = key;
        }

        public boolean isotropic() {
            return this == ISO || this == GENERALIZED_ISO || this == PLATEAU_ISO;
        }

        public boolean hasBeta() {
            return this != ISO && this != ANISO && this != SINC;
        }

        public static Type of(String key) {
            for (Type t : values()) {
                if (t.key.equals(key)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown kernel type '" + key + "'");
        }
    }

    /**
     * A Gaussian-family kernel of size k: Gaussian exp(−Q/2), generalized exp(−Q^β/2), plateau 1/(Q^β+1), with
     * Q = pᵀΣ⁻¹p, p = (column offset, row offset), Σ = R(θ)·diag(σx², σy²)·R(θ)ᵀ. Normalised, in double.
     */
    public static double[] mixed(Type type, int k, double sigmaX, double sigmaY, double theta, double beta) {
        if (type == Type.SINC) {
            throw new IllegalArgumentException("sinc is not a mixed kernel");
        }
        double s00;
        double s01;
        double s11;
        if (type.isotropic()) {
            s00 = sigmaX * sigmaX;
            s01 = 0;
            s11 = sigmaX * sigmaX;
        } else {
            double c = Math.cos(theta);
            double s = Math.sin(theta);
            double l1 = sigmaX * sigmaX;
            double l2 = sigmaY * sigmaY;
            // R·diag(l1, l2)·Rᵀ
            s00 = c * c * l1 + s * s * l2;
            s01 = c * s * l1 - s * c * l2;
            s11 = s * s * l1 + c * c * l2;
        }
        double det = s00 * s11 - s01 * s01;
        double i00 = s11 / det;
        double i01 = -s01 / det;
        double i11 = s00 / det;
        double[] kernel = new double[k * k];
        int half = k / 2;
        double sum = 0;
        for (int r = 0; r < k; r++) {
            double y = r - half;
            for (int col = 0; col < k; col++) {
                double x = col - half;
                double q = (x * i00 + y * i01) * x + (x * i01 + y * i11) * y;
                double v = switch (type) {
                    case ISO, ANISO -> Math.exp(-0.5 * q);
                    case GENERALIZED_ISO, GENERALIZED_ANISO -> Math.exp(-0.5 * Math.pow(q, beta));
                    case PLATEAU_ISO, PLATEAU_ANISO -> 1.0 / (Math.pow(q, beta) + 1);
                    default -> throw new AssertionError(type);
                };
                kernel[r * k + col] = v;
                sum += v;
            }
        }
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] /= sum;
        }
        return kernel;
    }

    /**
     * The circular low-pass (sinc) kernel: ω·J1(ω·d)/(2π·d), centre ω²/(4π), normalised; in double.
     */
    public static double[] sinc(int k, double omega) {
        double[] kernel = new double[k * k];
        double mid = (k - 1) / 2.0;
        double sum = 0;
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < k; c++) {
                double d = Math.sqrt((r - mid) * (r - mid) + (c - mid) * (c - mid));
                double v = d == 0 ? omega * omega / (4 * Math.PI) : omega * besselJ1(omega * d) / (2 * Math.PI * d);
                kernel[r * k + c] = v;
                sum += v;
            }
        }
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] /= sum;
        }
        return kernel;
    }

    /**
     * J1, the Bessel function of the first kind of order 1, from Bessel's integral
     * J1(x) = (1/π)∫₀^π cos(τ − x·sin τ) dτ by the trapezoidal rule, which converges geometrically for this periodic
     * integrand: 256 intervals give full double precision for |x| &lt; 100 (kernels need |x| ≤ π·15).
     */
    public static double besselJ1(double x) {
        if (Math.abs(x) >= 100) {
            throw new IllegalArgumentException("besselJ1 is accurate for |x| < 100 only: " + x);
        }
        int n = 256;
        double h = Math.PI / n;
        double s = 0.5 * (Math.cos(0) + Math.cos(Math.PI));
        for (int i = 1; i < n; i++) {
            double t = i * h;
            s += Math.cos(t - x * Math.sin(t));
        }
        return s * h / Math.PI;
    }

    /** A size-k kernel zero-padded to {@link #PADDED}, as float32. */
    public static float[] padTo21(double[] kernel, int k) {
        if (k % 2 == 0 || k > PADDED || kernel.length != k * k) {
            throw new IllegalArgumentException("kernel size must be odd and at most 21: " + k);
        }
        float[] out = new float[PADDED * PADDED];
        int off = (PADDED - k) / 2;
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < k; c++) {
                out[(r + off) * PADDED + c + off] = (float) kernel[r * k + c];
            }
        }
        return out;
    }

    /** The 21×21 identity kernel (1 at the centre). */
    public static float[] pulse() {
        float[] out = new float[PADDED * PADDED];
        out[(PADDED / 2) * PADDED + PADDED / 2] = 1f;
        return out;
    }
}
