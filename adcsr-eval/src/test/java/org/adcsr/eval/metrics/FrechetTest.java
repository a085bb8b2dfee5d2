package org.adcsr.eval.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** FID's Fréchet distance against pyiqa's {@code frechet_distance} ({@code fixtures/frechet.txt}). */
class FrechetTest {

    static Map<String, Map<String, double[]>> cases() throws Exception {
        Path p = Path.of(FrechetTest.class.getResource("/fixtures/frechet.txt").toURI());
        Map<String, Map<String, double[]>> out = new HashMap<>();
        Map<String, double[]> cur = null;
        for (String line : Files.readAllLines(p)) {
            if (line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("== ")) {
                cur = new HashMap<>();
                out.put(line.substring(3), cur);
                continue;
            }
            String[] f = line.split(" ");
            double[] v = new double[f.length - 1];
            for (int i = 1; i < f.length; i++) {
                v[i - 1] = Double.parseDouble(f[i]);
            }
            cur.put(f[0], v);
        }
        return out;
    }

    private static double fid(Map<String, double[]> c) {
        return Frechet.distance(c.get("mu1"), c.get("sigma1"), c.get("mu2"), c.get("sigma2"));
    }

    @Test
    void matchesPyiqaOnWellConditionedStatistics() throws Exception {
        Map<String, double[]> c = cases().get("full");
        assertEquals(c.get("fid")[0], fid(c), 1e-9);
    }

    @Test
    void staysFiniteOnRankDeficientCovariances() throws Exception {
        // 12 samples of 32 features: pyiqa's sqrtm of the singular product is not finite, so it adds 1e-6·I to both
        // covariances; without that offset the figure moves by about 2·tr(offset) terms, well under 1e-4 here
        Map<String, double[]> c = cases().get("few");
        double d = fid(c);
        assertTrue(Double.isFinite(d));
        assertEquals(c.get("fid")[0], d, 1e-4);
    }

    @Test
    void distanceOfAGaussianToItselfIsZeroAndItIsSymmetric() throws Exception {
        Map<String, double[]> c = cases().get("full");
        assertEquals(0, Frechet.distance(c.get("mu1"), c.get("sigma1"), c.get("mu1"), c.get("sigma1")), 1e-9);
        assertEquals(fid(c), Frechet.distance(c.get("mu2"), c.get("sigma2"), c.get("mu1"), c.get("sigma1")), 1e-9);
    }

    @Test
    void eigenDecompositionReconstructs() {
        int n = 20;
        Random r = new Random(9);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                a[i * n + j] = a[j * n + i] = r.nextGaussian();
            }
        }
        Frechet.Eigen e = Frechet.Eigen.of(a, n, true);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += e.vectors[i * n + k] * e.values[k] * e.vectors[j * n + k];
                }
                assertEquals(a[i * n + j], s, 1e-10);
            }
        }
    }

    @Test
    void fromFeaturesGramRouteEqualsTheCovarianceRoute() {
        // rank-deficient covariances: the d×d route clamps eigenvalue noise (about 1e-9 relative); the Gram route is exact
        java.util.Random r = new java.util.Random(3);
        for (int[] n : new int[][] {{5, 7}, {12, 9}, {3, 3}}) {          // images per side; 8 features
            int d = 8;
            double[][] f1 = new double[n[0]][d], f2 = new double[n[1]][d];
            for (double[] row : f1) {
                for (int j = 0; j < d; j++) {
                    row[j] = r.nextGaussian() * (1 + j);
                }
            }
            for (double[] row : f2) {
                for (int j = 0; j < d; j++) {
                    row[j] = r.nextGaussian() + 0.3 * j;
                }
            }
            double[][] stats1 = stats(f1, d), stats2 = stats(f2, d);
            double want = Frechet.distance(stats1[0], stats1[1], stats2[0], stats2[1]);
            assertEquals(want, Frechet.fromFeatures(f1, f2), 1e-8 * Math.abs(want), n[0] + "x" + n[1]);
        }
    }

    /** μ and the unbiased covariance, written out plainly. */
    private static double[][] stats(double[][] f, int d) {
        double[] mu = new double[d], c = new double[d * d];
        for (double[] row : f) {
            for (int j = 0; j < d; j++) {
                mu[j] += row[j] / f.length;
            }
        }
        for (double[] row : f) {
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    c[i * d + j] += (row[i] - mu[i]) * (row[j] - mu[j]) / (f.length - 1);
                }
            }
        }
        return new double[][] {mu, c};
    }
}
