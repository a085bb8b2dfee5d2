package org.adcsr.qnn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class QuantTest {
    @Test
    void inputRangeMatchesTheAimetExample() {
        // QNN.md §5: [-1, 1] at 16 bit; -1/scale = -32767.5 rounds half to even, to -32768
        Quant q = Quant.asymmetric(-1, 1, 16);
        assertEquals(3.0518043793392844e-05, q.scale(), 1e-20);
        assertEquals(-32768, q.offset());
        assertEquals(-1.0000152590218967, q.min(), 1e-15);
        assertEquals(0.9999847409781033, q.max(), 1e-15);
    }

    @Test
    void asymmetricContainsZeroAndHasAMinimumRange() {
        Quant q = Quant.asymmetric(2, 3, 16);
        assertEquals(0, q.offset());
        assertEquals(0.0, q.min());
        Quant flat = Quant.asymmetric(0, 0, 16);
        assertEquals(Quant.MIN_RANGE, flat.max() - flat.min(), 1e-12);
        assertEquals(0.0, q.fakeQuant(0.0));
    }

    @Test
    void symmetricUsesOffsetMinusHalfRange() {
        Quant q = Quant.symmetric(0.5, 8);
        assertEquals(0.5 / 127, q.scale(), 1e-15);
        assertEquals(-128, q.offset());
        assertEquals(-128 * 0.5 / 127, q.min(), 1e-15);
        assertEquals(0.5, q.max(), 1e-15);
        assertEquals(0.5, q.fakeQuant(0.7), 1e-15); // clamps
    }

    @Test
    void fixedUnitIntervalEncoding() {
        Quant q = Quant.unitInterval16();
        assertEquals(1.0 / 65536, q.scale());
        assertEquals(0, q.offset());
    }
}
