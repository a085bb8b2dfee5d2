package org.adcsr.core.upscale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link ColorCorrection#ADAIN} against a float64 evaluation of the official {@code test.py} formula. */
class ColorCorrectionTest {
    private static final int W = 64;
    private static final int H = 48;

    /** Gaussian values of the given mean and spread, as float32. */
    private static float[] gaussian(int n, double mean, double spread, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (mean + spread * r.nextGaussian());
        }
        return x;
    }

    /** An LR plane of 8-bit values in [−1, 1] as the upscaler makes them. */
    private static float[] lrPlane(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextInt(256) / 255f * 2f - 1f;
        }
        return x;
    }

    /** {@code (sr − mean(sr)) / std(sr) · std(lr) + mean(lr)}, unbiased std, no epsilon, all in float64. */
    private static double[] official(float[] sr, float[] lr) {
        double[] s = meanStd(sr);
        double[] l = meanStd(lr);
        double[] y = new double[sr.length];
        for (int i = 0; i < sr.length; i++) {
            y[i] = (sr[i] - s[0]) / s[1] * l[1] + l[0];
        }
        return y;
    }

    private static double[] meanStd(float[] x) {
        double sum = 0;
        for (float v : x) {
            sum += v;
        }
        double mean = sum / x.length;
        double sq = 0;
        for (float v : x) {
            sq += (v - mean) * (v - mean);
        }
        return new double[] {mean, Math.sqrt(sq / (x.length - 1))};
    }

    private static float[] adain(float[] sr, float[] lr) {
        float[][] s = {sr.clone()};
        ColorCorrection.ADAIN.apply(s, W, H, new float[][] {lr}, W / 4, H / 4);
        return s[0];
    }

    private static double maxDiff(float[] got, double[] want) {
        double max = 0;
        for (int i = 0; i < got.length; i++) {
            max = Math.max(max, Math.abs(got[i] - want[i]));
        }
        return max;
    }

    @Test
    void ordinaryChannelsEqualTheOfficialFormula() {
        for (long seed = 1; seed <= 4; seed++) {
            float[] sr = gaussian(W * H, 0.1 * seed - 0.2, 0.4, seed);
            float[] lr = lrPlane(W * H / 16, seed + 100);
            // float32 steps on values of magnitude ≤ 3: a few ulps of 3 (2.4e-7 each)
            double d = maxDiff(adain(sr, lr), official(sr, lr));
            assertTrue(d < 1e-6, "seed " + seed + ": max |Δ| " + d);
        }
    }

    @Test
    void aTinyButNonzeroSpreadKeepsItsStructure() {
        // A checkpoint with small weights: raw outputs of std 2.6e-7. The official code divides by that std and
        // gives a structured image; the old 1e-6 flat threshold gave mean(lr). The mean is small, so float32
        // holds the spread exactly enough that float32 and float64 evaluations agree.
        float[] sr = gaussian(W * H, 1e-6, 2.6e-7, 7);
        float[] lr = lrPlane(W * H / 16, 8);
        double[] want = official(sr, lr);
        float[] got = adain(sr, lr);
        double d = maxDiff(got, want);
        assertTrue(d < 1e-6, "max |Δ| " + d);
        double[] out = meanStd(got);
        double[] in = meanStd(lr);
        assertEquals(in[1], out[1], 1e-6, "the output has the input's spread");
        assertEquals(in[0], out[0], 1e-6, "and the input's mean");
    }

    @Test
    void anExactlyFlatChannelBecomesTheInputMeanWhileTheOthersStayOfficial() {
        // The official code computes 0/0 there (NaN); that channel alone falls back to mean(lr).
        float[] flat = new float[W * H];
        Arrays.fill(flat, 0.3f);
        float[][] sr = {flat.clone(), gaussian(W * H, 0, 0.5, 2), gaussian(W * H, 0.2, 0.1, 3)};
        float[][] lr = {lrPlane(W * H / 16, 4), lrPlane(W * H / 16, 5), lrPlane(W * H / 16, 6)};
        float[][] fixed = {sr[0].clone(), sr[1].clone(), sr[2].clone()};
        ColorCorrection.ADAIN.apply(fixed, W, H, lr, W / 4, H / 4);
        float lrMean = (float) meanStd(lr[0])[0];
        for (float v : fixed[0]) {
            assertEquals(lrMean, v);
        }
        for (int c = 1; c < 3; c++) {
            double d = maxDiff(fixed[c], official(sr[c], lr[c]));
            assertTrue(d < 1e-6, "channel " + c + ": max |Δ| " + d);
        }
    }

    @Test
    void aOnePixelInputHasNoStdAndGivesItsValue() {
        // torch's unbiased std of one value is NaN, so is the official result; the fallback is that value.
        float[][] sr = {gaussian(16, 0, 0.5, 9)};
        ColorCorrection.ADAIN.apply(sr, 4, 4, new float[][] {{-0.25f}}, 1, 1);
        for (float v : sr[0]) {
            assertEquals(-0.25f, v);
        }
    }

    @Test
    void aFlatInputIsOfficialNotAFallback() {
        // std(lr) = 0 is finite in the official formula: every value becomes mean(lr) by multiplication.
        float[] sr = gaussian(W * H, 0, 0.5, 11);
        float[] lr = new float[W * H / 16];
        Arrays.fill(lr, 0.6f);
        for (float v : adain(sr, lr)) {
            assertEquals(0.6f, v);
        }
    }
}
