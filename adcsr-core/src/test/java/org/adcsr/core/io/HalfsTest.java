package org.adcsr.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HalfsTest {

    private static void assertF16(int expected, float f) {
        assertEquals(expected, Halfs.floatToF16(f) & 0xffff, () -> "f16 of " + f + " (" + Float.toHexString(f) + ")");
    }

    @Test
    void everyHalfSurvivesTheRoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            float f = Halfs.f16ToFloat((short) h);
            int back = Halfs.floatToF16(f) & 0xffff;
            boolean nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
            if (nan) {
                assertTrue(Float.isNaN(f), "pattern " + Integer.toHexString(h));
                // NaN stays NaN with its sign and payload; only the quiet bit may be set on the way back
                assertEquals(h | 0x200, back, "pattern " + Integer.toHexString(h));
            } else {
                assertEquals(h, back, "pattern " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void knownWidenings() {
        assertEquals(1f, Halfs.f16ToFloat((short) 0x3c00));
        assertEquals(-2f, Halfs.f16ToFloat((short) 0xc000));
        assertEquals(65504f, Halfs.f16ToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, Halfs.f16ToFloat((short) 0x0001));
        assertEquals(0x3ffp-24f, Halfs.f16ToFloat((short) 0x03ff));
        assertEquals(0x1p-14f, Halfs.f16ToFloat((short) 0x0400));
        assertEquals(Float.POSITIVE_INFINITY, Halfs.f16ToFloat((short) 0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, Halfs.f16ToFloat((short) 0xfc00));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(Halfs.f16ToFloat((short) 0x8000)));
        assertTrue(Float.isNaN(Halfs.f16ToFloat((short) 0x7e00)));
    }

    @Test
    void bf16IsTheUpperHalfOfF32() {
        assertEquals(1f, Halfs.bf16ToFloat((short) 0x3f80));
        assertEquals(-2f, Halfs.bf16ToFloat((short) 0xc000));
        assertEquals(Float.POSITIVE_INFINITY, Halfs.bf16ToFloat((short) 0x7f80));
        assertEquals(0x1p-133f, Halfs.bf16ToFloat((short) 0x0001));
        assertTrue(Float.isNaN(Halfs.bf16ToFloat((short) 0x7fc0)));
    }

    @Test
    void roundsToNearestEven() {
        assertF16(0x3c00, 1f);
        assertF16(0x3c00, 1f + 0x1p-11f); // tie between 0x3c00 and 0x3c01: even
        assertF16(0x3c02, 1f + 3 * 0x1p-11f); // tie between 0x3c01 and 0x3c02: even
        assertF16(0x3c01, 1f + 0x1p-11f + 0x1p-20f); // just above the tie
        assertF16(0x3bff, 1f - 0x1p-11f); // spacing is 2^-11 just below 1
        assertF16(0x3c00, 1f - 0x1p-12f); // tie between 0x3bff and 0x3c00: even
        assertF16(0x4000, 2f - 0x1p-12f); // mantissa carry into the exponent
        assertF16(0xc000, -2f);
    }

    @Test
    void overflowGivesInfinity() {
        assertF16(0x7bff, 65504f);
        assertF16(0x7bff, 65519.996f); // below the tie with infinity
        assertF16(0x7c00, 65520f); // tie between 65504 (odd) and infinity: even wins
        assertF16(0x7c00, 1e10f);
        assertF16(0xfc00, -1e10f);
        assertF16(0x7c00, Float.POSITIVE_INFINITY);
        assertF16(0xfc00, Float.NEGATIVE_INFINITY);
        assertTrue((Halfs.floatToF16(Float.NaN) & 0x7c00) == 0x7c00 && (Halfs.floatToF16(Float.NaN) & 0x3ff) != 0);
    }

    @Test
    void underflowGivesSubnormalsOrZero() {
        assertF16(0x0400, 0x1p-14f); // smallest normal
        assertF16(0x0400, 0x1p-14f - 0x1p-25f); // tie between 0x3ff (odd) and 0x400
        assertF16(0x03ff, 0x3ffp-24f);
        assertF16(0x0001, 0x1p-24f); // smallest subnormal
        assertF16(0x0000, 0x1p-25f); // tie between 0 and 2^-24: even
        assertF16(0x0001, 0x1.0002p-25f); // just above the tie
        assertF16(0x0002, 3 * 0x1p-25f); // tie between 1 and 2: even
        assertF16(0x0000, 0x1p-26f);
        assertF16(0x0000, Float.MIN_VALUE);
        assertF16(0x8000, -0x1p-30f);
        assertF16(0x8000, -0f);
    }
}
