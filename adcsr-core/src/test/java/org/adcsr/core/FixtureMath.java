package org.adcsr.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import org.adcsr.core.io.SafetensorsReader;

/** Comparisons against reference fixtures, shared by the fidelity tests. */
public final class FixtureMath {
    private FixtureMath() {
    }

    /** An F64 tensor of a fixture, exactly. */
    public static double[] doubles(SafetensorsReader r, String key) {
        DoubleBuffer b = r.readRaw(key).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
        double[] d = new double[b.remaining()];
        b.get(d);
        return d;
    }

    public static double[] of(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** max |want − got| / max |want|; NaN anywhere gives NaN, which fails every {@code < tol} check. */
    public static double relative(double[] want, double[] got) {
        assertEquals(want.length, got.length, "lengths");
        double scale = 0;
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            double d = Math.abs(want[i] - got[i]);
            worst = d > worst || Double.isNaN(d) ? d : worst;
        }
        return worst / scale;
    }

    public static double relative(double[] want, float[] got) {
        return relative(want, of(got));
    }

    public static double relative(float[] want, float[] got) {
        return relative(of(want), of(got));
    }
}
