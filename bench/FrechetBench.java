// Time of the Frechet distance of adcsr-eval's FID on N images per side of 2048-d features (the InceptionV3 pool3
// width), with seeded random features (low-rank structure plus noise, like real activations). Run from the repository
// root after the build:  java -cp 'lib/*' bench/FrechetBench.java [N=2100] [D=2048]
// Below D images per side the Gram-matrix route runs; from D on, the covariance route (two D x D eigenproblems).
import java.util.Random;
import org.adcsr.eval.metrics.Frechet;

public class FrechetBench {
    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2100;
        int d = args.length > 1 ? Integer.parseInt(args[1]) : 2048;
        double[][] f1 = features(n, d, 1), f2 = features(n, d, 2);
        long t0 = System.nanoTime();
        double fid = Frechet.fromFeatures(f1, f2);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("images_per_side,%d%nfeatures,%d%nfrechet_distance,%.12g%nseconds,%.2f%n", n, d, fid, s);
    }

    /** n rows: 64 shared random directions with random weights, plus per-feature noise, all non-negative like ReLU. */
    static double[][] features(int n, int d, long seed) {
        Random r = new Random(seed);
        int k = 64;
        double[][] basis = new double[k][d];
        for (double[] b : basis) {
            for (int j = 0; j < d; j++) {
                b[j] = r.nextGaussian();
            }
        }
        double[][] f = new double[n][d];
        for (double[] row : f) {
            for (int c = 0; c < k; c++) {
                double w = r.nextGaussian() / Math.sqrt(k);
                for (int j = 0; j < d; j++) {
                    row[j] += w * basis[c][j];
                }
            }
            for (int j = 0; j < d; j++) {
                row[j] = Math.max(0, row[j] + 0.3 * r.nextGaussian());
            }
        }
        return f;
    }
}
