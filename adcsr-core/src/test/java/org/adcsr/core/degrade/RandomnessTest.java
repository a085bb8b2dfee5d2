package org.adcsr.core.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.adcsr.core.Rng;

/** The tool's RNG, the noises it drives, and the parameter draws. */
class RandomnessTest {

    @Test
    void rngIsFixedBySeed() {
        // pinned values: the stream is part of the output format (a seed must give the same pairs forever)
        Rng r = new Rng(42);
        assertEquals(-4767286540954276203L, r.nextLong());
        assertEquals(new Rng(5).nextDouble(), new Rng(5).nextDouble());
        assertNotEquals(Rng.pairSeed(0, 0), Rng.pairSeed(0, 1));
        assertNotEquals(Rng.pairSeed(0, 0), Rng.pairSeed(1, 0));
    }

    @Test
    void gaussianAndPoissonMoments() {
        Rng r = new Rng(1);
        int n = 200_000;
        double s = 0;
        double s2 = 0;
        for (int i = 0; i < n; i++) {
            double g = r.nextGaussian();
            s += g;
            s2 += g * g;
        }
        assertEquals(0, s / n, 0.01);
        assertEquals(1, s2 / n, 0.01);
        for (double lambda : new double[] {0.3, 4, 9.99, 10, 37.5, 255}) {
            double m = 0;
            double v = 0;
            int k = 100_000;
            for (int i = 0; i < k; i++) {
                long x = r.poisson(lambda);
                m += x;
                v += (double) x * x;
            }
            m /= k;
            v = v / k - m * m;
            assertEquals(lambda, m, 4 * Math.sqrt(lambda / k) + 1e-9, "mean at " + lambda);
            assertEquals(lambda, v, 0.03 * lambda + 0.01, "variance at " + lambda);
        }
        assertEquals(Math.log(3628800), Rng.logFactorial(10), 1e-12);
        assertEquals(863.2319871924054, Rng.logFactorial(200), 1e-9); // math.lgamma(201)
    }

    @Test
    void gaussianNoiseHasTheDrawnSigma() {
        Planes img = new Planes(3, 64, 64);
        java.util.Arrays.fill(img.d, 0.5f);
        Planes colour = Noise.gaussian(img, 10, false, 3);
        Planes gray = Noise.gaussian(img, 10, true, 3);
        assertEquals(10 / 255.0, std(colour, 0), 0.03 * 10 / 255.0);
        int plane = 64 * 64;
        boolean sameAcross = true;
        for (int i = 0; i < plane; i++) {
            sameAcross &= gray.d[i] == gray.d[plane + i] && gray.d[i] == gray.d[2 * plane + i];
        }
        assertTrue(sameAcross);
        assertNotEquals(colour.d[0], colour.d[plane]);
        assertEquals(colour.d[77], Noise.gaussian(img, 10, false, 3).d[77]);
    }

    @Test
    void poissonNoiseScalesWithLevelsAndScale() {
        // 256 distinct values -> vals 256; noise variance at value v is v/256, times scale^2
        Planes img = new Planes(3, 128, 128);
        for (int i = 0; i < img.d.length; i++) {
            img.d[i] = (i % 256) / 255f;
        }
        assertEquals(256f, Noise.levels(img.d));
        Planes out = Noise.poisson(img, 0.5, false, 9);
        double var = 0;
        double want = 0;
        int count = 0;
        for (int i = 0; i < img.d.length; i++) {
            float v = img.d[i];
            if (v > 0.2f && v < 0.8f) {
                double d = out.d[i] - v;
                var += d * d;
                want += v / 256.0 * 0.25;
                count++;
            }
        }
        assertEquals(want / count, var / count, 0.05 * want / count);
        Planes two = new Planes(1, 1, 3, new float[] {0f, 1f, 1f});
        assertEquals(2f, Noise.levels(two.d));
        assertEquals(1f, Noise.levels(new float[] {0.5f}));
    }

    @Test
    void drawsFollowThePresetProbabilities() {
        Settings s = Settings.preset("adcsr").validate();
        Map<String, Integer> types = new HashMap<>();
        int n = 20_000;
        int sinc1 = 0;
        int finalSinc = 0;
        int blur2 = 0;
        int up = 0;
        for (int i = 0; i < n; i++) {
            PairRecord p = PairRecord.draw(s, Rng.pairSeed(3, i), 800, 600, Degrader.DIFFJPEG);
            types.merge(p.kernel1.type, 1, Integer::sum);
            sinc1 += p.kernel1.type.equals("sinc") ? 1 : 0;
            finalSinc += p.sinc.type.equals("sinc") ? 1 : 0;
            blur2 += p.secondBlur ? 1 : 0;
            up += p.stage1.resize.equals("up") ? 1 : 0;
            assertTrue(p.cropTop <= 88 && p.cropLeft <= 288);
            assertTrue(p.stage1.quality >= 60 && p.stage1.quality < 95);
            assertTrue(p.stage2.quality >= 60 && p.stage2.quality < 100);
            if (p.kernel1.type.equals("plateau_iso")) {
                assertTrue(p.kernel1.beta >= 1 && p.kernel1.beta < 1.5);
            }
            if (p.kernel1.type.equals("sinc")) {
                assertTrue(p.kernel1.omega >= (p.kernel1.size < 13 ? Math.PI / 3 : Math.PI / 5));
            }
        }
        assertEquals(0.1, sinc1 / (double) n, 0.01);
        assertEquals(0.9 * 0.45, types.get("iso") / (double) n, 0.015);
        assertEquals(0.9 * 0.03, types.get("plateau_aniso") / (double) n, 0.005);
        assertEquals(0.8, finalSinc / (double) n, 0.015);
        assertEquals(0.5, blur2 / (double) n, 0.015);
        assertEquals(0.2, up / (double) n, 0.015);
    }

    private static double std(Planes p, int ch) {
        int plane = p.h * p.w;
        double m = 0;
        double m2 = 0;
        for (int i = 0; i < plane; i++) {
            double v = p.d[ch * plane + i];
            m += v;
            m2 += v * v;
        }
        m /= plane;
        return Math.sqrt(m2 / plane - m * m);
    }

    @Test
    void batchesShareTheirDrawsAndTheGrayField() {
        Settings s = Settings.preset("adcsr").validate();
        int shared = 0;
        for (int b = 0; b < 50; b++) {
            PairRecord first = null;
            for (int i = 0; i < 4; i++) {
                Rng batch = new Rng(Rng.pairSeed(99, b));
                PairRecord p = PairRecord.draw(s, Rng.pairSeed(5, 4L * b + i), batch, 800, 600, Degrader.DIFFJPEG);
                if (first == null) {
                    first = p;
                    continue;
                }
                assertEquals(first.stage1.resize, p.stage1.resize);
                assertEquals(first.stage1.scale, p.stage1.scale);
                assertEquals(first.stage2.mode, p.stage2.mode);
                assertEquals(first.stage2.gaussian, p.stage2.gaussian);
                assertEquals(first.secondBlur, p.secondBlur);
                assertEquals(first.resizeFirst, p.resizeFirst);
                assertEquals(first.finalMode, p.finalMode);
                if (p.stage1.gaussian && p.stage1.gray && first.stage1.gray) {
                    assertEquals(first.stage1.noiseSeed, p.stage1.noiseSeed);
                    shared++;
                } else if (!p.stage1.gray && !first.stage1.gray) {
                    assertNotEquals(first.stage1.noiseSeed, p.stage1.noiseSeed);
                }
            }
        }
        assertTrue(shared > 5, "gray batches seen: " + shared);
        // without a batch generator the per-pair stream is unchanged
        PairRecord a = PairRecord.draw(s, 77, 800, 600, Degrader.DIFFJPEG);
        PairRecord b = PairRecord.draw(s, 77, null, 800, 600, Degrader.DIFFJPEG);
        assertEquals(a.toRow(), b.toRow());
    }
}
