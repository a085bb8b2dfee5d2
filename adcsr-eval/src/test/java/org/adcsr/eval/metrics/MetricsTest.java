package org.adcsr.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.adcsr.core.image.Image;
import org.junit.jupiter.api.Test;

class MetricsTest {

    private static double[] mul(double[] a, double[] b, int n) {
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += a[i * n + k] * b[k * n + j];
                }
            }
        }
        return c;
    }

    /** A random symmetric matrix of the given rank (Σ of rank-one terms), n×n. */
    private static double[] symmetric(int n, int rank, long seed) {
        Random r = new Random(seed);
        double[] a = new double[n * n];
        for (int t = 0; t < rank; t++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = r.nextGaussian();
            }
            double w = t % 3 == 0 ? 1e-3 : 1 + t;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[i * n + j] += w * v[i] * v[j];
                }
            }
        }
        return a;
    }

    @Test
    void pinvOfAFullRankMatrixIsItsInverse() {
        int n = 36;
        double[] a = symmetric(n, 60, 1);
        double[] p = SymmetricEigen.pinv(a, n, 1e-15);
        double[] id = mul(a, p, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                assertEquals(i == j ? 1 : 0, id[i * n + j], 1e-8);
            }
        }
    }

    @Test
    void pinvOfARankDeficientMatrixSatisfiesPenroseConditions() {
        int n = 36;
        double[] a = symmetric(n, 5, 2);
        double[] p = SymmetricEigen.pinv(a, n, 1e-12);
        double[] apa = mul(mul(a, p, n), a, n), pap = mul(mul(p, a, n), p, n);
        for (int i = 0; i < n * n; i++) {
            assertEquals(a[i], apa[i], 1e-8 * (1 + Math.abs(a[i])));
            assertEquals(p[i], pap[i], 1e-6 * (1 + Math.abs(p[i])));
        }
    }

    @Test
    void float32HalvingAgreesWithTheFloat64Resize() {
        Random r = new Random(3);
        int w = 40, h = 26;
        float[] x = new float[w * h];
        double[] d = new double[w * h];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
            d[i] = x[i];
        }
        double[] ref = MatlabResize.resize(new Plane(w, h, d), 0.5).data();
        for (MatlabResize.Rounding mode : MatlabResize.Rounding.values()) {
            float[] y = MatlabResize.halfFloat32(x, w, h, mode);
            assertEquals(ref.length, y.length);
            for (int i = 0; i < y.length; i++) {
                assertEquals(ref[i], y[i], 1e-6, mode + " at " + i);
            }
        }
    }

    @Test
    void resizeKeepsAConstantImageConstant() {
        double[] c = new double[30 * 20];
        java.util.Arrays.fill(c, 0.25);
        for (double v : MatlabResize.resize(new Plane(30, 20, c), 0.5).data()) {
            assertEquals(0.25, v, 1e-15);
        }
    }

    @Test
    void numpyPairwiseSumIsASum() {
        double[] a = new double[1000];
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            a[i] = 1.0 / (i + 1);
            s += a[i];
        }
        assertEquals(s, NumpySum.pairwise(a), 1e-12);
    }

    @Test
    void windowsAreNormalisedGaussians() {
        double[] g = Filters.gaussian1d(11, 1.5);
        assertEquals(1, java.util.Arrays.stream(g).sum(), 1e-15);
        double[] f = Filters.fspecialFloat32(7, 7.0 / 6);
        assertEquals(0.11739635467529297, f[3 * 7 + 3], 0, "pyiqa's centre weight, float32");
        assertEquals(0.004303520545363426, f[3 * 7], 0);
    }

    @Test
    void ssimOfAnImageWithItselfIsOneAndPsnrOfIdentityIsInfiniteOrEighty() {
        Image img = new Image(32, 32, 3, 255, new float[32 * 32 * 3]);
        Random r = new Random(4);
        for (int i = 0; i < img.data().length; i++) {
            img.data()[i] = r.nextInt(256);
        }
        assertEquals(1, Ssim.pyiqa(img, img, true), 1e-12);
        assertEquals(1, Ssim.basicsr(img, img, false), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, Psnr.basicsr(img, img, true));
        assertEquals(80, Psnr.pyiqa(img, img, true), 1e-5);
    }

    @Test
    void cropTooLargeAndSsimTooSmallAreReasons() {
        Image img = Image.blank(20, 20, 3, 255);
        assertThrows(IllegalArgumentException.class, () -> Luma.crop(img, 10));
        Image small = Image.blank(10, 10, 3, 255);
        assertThrows(IllegalArgumentException.class, () -> Ssim.pyiqa(small, small, true));
    }

    @Test
    void registryKnowsEveryPaperMetricAndTakesNewOnes() throws MetricUnavailableException {
        for (String m : new String[] {"psnr", "ssim", "niqe", "lpips", "dists", "fid", "musiq", "maniqa", "clipiqa"}) {
            assertEquals(m, MetricRegistry.get(m).name());
        }
        MetricOptions o = new MetricOptions(Convention.PYIQA, 0, false, null);
        assertThrows(MetricUnavailableException.class, () -> MetricRegistry.get("musiq").factory().create(o));
        MetricRegistry.register("test-constant", "a test metric", opts -> new Metric() {
            public String name() {
                return "test-constant";
            }

            public String column() {
                return "test_constant";
            }

            public boolean fullReference() {
                return false;
            }

            public double score(Image sr, Image gt) {
                return 1;
            }
        });
        assertEquals("test_constant", MetricRegistry.get("test-constant").factory().create(o).column());
        assertThrows(IllegalStateException.class, () -> MetricRegistry.register("psnr", "again", opts -> null));
        assertTrue(MetricRegistry.get("niqe").factory().create(o).column().startsWith("niqe_yiq"));
    }
}
