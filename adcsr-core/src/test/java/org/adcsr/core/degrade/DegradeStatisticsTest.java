package org.adcsr.core.degrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.Test;
import org.adcsr.core.Rng;

/**
 * Statistical agreement with the reference pipeline: 300 (AdcSR) and 200 (Real-ESRGAN) pairs from one real photo (fixtures/degrade/photo.png,
 * each preset at a small size so the test is fast), compared with the same statistics of 3000 pairs made
 * by BasicSR's own functions (bench/degrade_reference.py, which drives basicsr/data/degradations.py,
 * basicsr/utils/img_process_util.py and basicsr/utils/diffjpeg.py of XPixelGroup/BasicSR@8d56e3a as Real-ESRGAN's
 * dataset and feed_data do, batch size 1, torch 1.13 CPU):
 *
 * <pre>/usr/bin/python3 bench/degrade_reference.py --basicsr BasicSR --photo .../photo.png --n 3000 --gt-size 128 \
 *     --stats --threads 1 --seed 1</pre>
 *
 * The RNG streams differ, so only distributions can agree: the test checks the fraction of our pairs below each
 * reference decile/quartile and the means.
 */
class DegradeStatisticsTest {
    // reference output (BasicSR, 3000 pairs, 2026-11-26):
    // psnr_db: n=3000 mean=24.0840 std=1.0496 q10=22.7786 q25=23.4075 q50=24.0579 q75=24.7155 q90=25.4080
    // lr_laplacian_var: n=3000 mean=403.1319 std=540.9121 q10=79.4198 q25=128.8026 q50=233.1474 q75=436.2031
    //     q90=865.6002
    static final double REF_PSNR_MEAN = 24.0840;
    static final double REF_PSNR_STD = 1.0496;
    static final double[] REF_PSNR_Q = {22.7786, 23.4075, 24.0579, 24.7155, 25.4080};
    static final double REF_SHARP_MEAN = 403.1319;
    static final double[] REF_SHARP_Q = {79.4198, 128.8026, 233.1474, 436.2031, 865.6002};
    static final double[] LEVELS = {0.10, 0.25, 0.50, 0.75, 0.90};

    @Test
    void adcsrPresetMatchesBasicSr() throws IOException {
        Settings s = Settings.preset("adcsr").set("gt_size", "128", "").set("crop_pad_size", "128", "").validate();
        check(s, 11, 300, REF_PSNR_MEAN, REF_PSNR_STD, REF_PSNR_Q, REF_SHARP_MEAN, REF_SHARP_Q);
    }

    // Real-ESRGAN preset (USM, wider ranges) with crop_pad_size 160 and gt_size 128 (LR 40, paired crop 32):
    // bench/degrade_reference.py ... --n 3000 --gt-size 128 --crop 160 --preset realesrgan --stats --threads 1
    //     --seed 2
    // psnr_db: n=3000 mean=22.1867 std=1.5001 q10=20.2545 q25=21.2378 q50=22.2961 q75=23.2041 q90=24.0115
    // lr_laplacian_var: n=3000 mean=742.6929 std=1372.2010 q10=91.9782 q25=175.7448 q50=346.0161 q75=723.1336
    //     q90=1531.1188
    static final double RE_PSNR_MEAN = 22.1867;
    static final double RE_PSNR_STD = 1.5001;
    static final double[] RE_PSNR_Q = {20.2545, 21.2378, 22.2961, 23.2041, 24.0115};
    static final double RE_SHARP_MEAN = 742.6929;
    static final double[] RE_SHARP_Q = {91.9782, 175.7448, 346.0161, 723.1336, 1531.1188};

    @Test
    void realEsrganPresetMatchesBasicSr() throws IOException {
        Settings s = Settings.preset("realesrgan").set("gt_size", "128", "").set("crop_pad_size", "160", "")
                .validate();
        check(s, 12, 200, RE_PSNR_MEAN, RE_PSNR_STD, RE_PSNR_Q, RE_SHARP_MEAN, RE_SHARP_Q);
    }

    private void check(Settings s, long seed, int n, double refPsnrMean, double refPsnrStd, double[] refPsnrQ,
                       double refSharpMean, double[] refSharpQ) throws IOException {
        Planes src;
        try (InputStream in = getClass().getResourceAsStream("/fixtures/degrade/photo.png")) {
            src = Degrader.toRgb(Images.read(in, "photo.png", 1 << 20));
        }
        double[] psnr = new double[n];
        double[] sharp = new double[n];
        for (int i = 0; i < n; i++) {
            PairRecord rec = PairRecord.draw(s, Rng.pairSeed(seed, i), src.w, src.h, Degrader.DIFFJPEG);
            Degrader.Pair p = Degrader.apply(rec, src);
            psnr[i] = psnr(p.hr(), p.lr());
            sharp[i] = laplacianVariance(p.lr());
        }
        double psnrMean = Arrays.stream(psnr).average().orElseThrow();
        double sharpMean = Arrays.stream(sharp).average().orElseThrow();
        String report = String.format("ours: psnr mean %.4f, quantiles %s; sharpness mean %.2f, quantiles %s",
                psnrMean, Arrays.toString(quantiles(psnr)), sharpMean, Arrays.toString(quantiles(sharp)));
        System.err.println(report);
        double se = refPsnrStd * Math.sqrt(1.0 / n + 1.0 / 3000);
        assertEquals(refPsnrMean, psnrMean, 4 * se, report);
        for (int q = 0; q < LEVELS.length; q++) {
            assertEquals(LEVELS[q], fractionBelow(psnr, refPsnrQ[q]), 0.085, "psnr q" + LEVELS[q] + ": " + report);
            assertEquals(LEVELS[q], fractionBelow(sharp, refSharpQ[q]), 0.085,
                    "sharpness q" + LEVELS[q] + ": " + report);
        }
        assertEquals(refSharpMean, sharpMean, 0.25 * refSharpMean, report);
    }

    static double fractionBelow(double[] v, double x) {
        return Arrays.stream(v).filter(a -> a < x).count() / (double) v.length;
    }

    static double[] quantiles(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        double[] q = new double[LEVELS.length];
        for (int i = 0; i < q.length; i++) {
            double pos = LEVELS[i] * (s.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, s.length - 1);
            q[i] = Math.round((s[lo] + (pos - lo) * (s[hi] - s[lo])) * 1e4) / 1e4;
        }
        return q;
    }

    /** PSNR of the LR against the HR downscaled by torch-style bicubic and rounded to 8 bits. */
    static double psnr(Planes hr, Planes lr) {
        Planes ref = Resize.toSize(hr, lr.h, lr.w, Resize.Mode.BICUBIC).quantize();
        double mse = 0;
        for (int i = 0; i < lr.d.length; i++) {
            double d = (double) lr.d[i] - ref.d[i];
            mse += d * d;
        }
        mse /= lr.d.length;
        return 10 * Math.log10(1 / Math.max(mse, 1e-12));
    }

    /** Variance of the 4-neighbour Laplacian of the LR's luma (0..255) over interior pixels. */
    static double laplacianVariance(Planes lr) {
        int h = lr.h;
        int w = lr.w;
        int plane = h * w;
        double[] y = new double[plane];
        for (int i = 0; i < plane; i++) {
            y[i] = 255 * (0.299 * lr.d[i] + 0.587 * lr.d[plane + i] + 0.114 * lr.d[2 * plane + i]);
        }
        double s = 0;
        double s2 = 0;
        int n = 0;
        for (int r = 1; r < h - 1; r++) {
            for (int c = 1; c < w - 1; c++) {
                double l = y[r * w + c - 1] + y[r * w + c + 1] + y[(r - 1) * w + c] + y[(r + 1) * w + c]
                        - 4 * y[r * w + c];
                s += l;
                s2 += l * l;
                n++;
            }
        }
        double m = s / n;
        return s2 / n - m * m;
    }

    @Test
    void statisticsHelpers() {
        assertEquals(0.5, fractionBelow(new double[] {1, 2, 3, 4}, 2.5));
        Planes flat = new Planes(3, 8, 8);
        Arrays.fill(flat.d, 0.5f);
        assertEquals(0, laplacianVariance(flat), 1e-9);
        assertTrue(psnr(new Planes(3, 32, 32), new Planes(3, 8, 8)) > 100);
    }
}
