package org.adcsr.eval.metrics;

import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.image.Image;

/**
 * NIQE (Mittal et al.) as BasicSR's {@code calculate_niqe} and pyiqa's {@code niqe} compute it (METRICS.md §2):
 * rounded luma, 96×96 blocks, two scales, 18 AGGD features per block and scale, distance to the pristine model
 * through a pseudo-inverse. Computed in float64 (the references mix float32 in; see the test for the agreement).
 */
public final class Niqe {
    private Niqe() {}

    private static final int BLOCK = 96;
    private static final double[] WINDOW = Filters.gaussian1d(7, 7.0 / 6);
    private static final double[] WINDOW_F32 = Filters.fspecialFloat32(7, 7.0 / 6);
    private static final double EPS64 = Math.ulp(1.0);

    /** The AGGD shape grid {@code 0.2:0.001:10} and its ratio function, one per convention. */
    private record Grid(double[] gam, double[] rGam) {
        static Grid of(boolean float32) {
            // numpy arange: start + i·delta with delta = (start + step) − start; 9801 values
            // torch.arange(0.2, 10.001, 0.001) in float32: computed in double, stored as float32
            int n = 9801;
            double delta = (0.2 + 0.001) - 0.2;
            double[] g = new double[n], r = new double[n];
            for (int i = 0; i < n; i++) {
                g[i] = float32 ? (float) (0.2 + i * 0.001) : 0.2 + i * delta;
                r[i] = Math.exp(2 * GammaFn.logGamma(2 / g[i]) - GammaFn.logGamma(1 / g[i])
                        - GammaFn.logGamma(3 / g[i]));
            }
            return new Grid(g, r);
        }
    }

    private static final Grid NUMPY_GRID = Grid.of(false), TORCH_GRID = Grid.of(true);

    /** pyiqa {@code niqe}: YIQ luma ×255 rounded, crop, float64 throughout, pinv with torch's tolerance. */
    public static double pyiqa(Image img, int cropBorder) {
        Plane y = Luma.pyiqaYiq255(Luma.crop(img, cropBorder));
        return score(y, true);
    }

    /** BasicSR {@code calculate_niqe(convert_to='y')}: BT.601 Y (float32), crop, round, pinv with numpy's. */
    public static double basicsr(Image img, int cropBorder) {
        Plane y = Luma.basicsrY(Luma.crop(img, cropBorder));
        double[] d = y.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.rint(d[i]);
        }
        return score(y, false);
    }

    /** NIQE of a rounded 0–255 luma plane. */
    static double score(Plane img, boolean pyiqa) {
        return distance(features(img, pyiqa), pyiqa);
    }

    /** The 36 features of each whole 96×96 block (rows: blocks, w-blocks outer, h-blocks inner). */
    static double[][] features(Plane img, boolean pyiqa) {
        int nbh = img.height() / BLOCK, nbw = img.width() / BLOCK;
        if (nbh == 0 || nbw == 0) {
            throw new IllegalArgumentException("NIQE needs at least 96x96 pixels, got " + img.width() + "x"
                    + img.height());
        }
        Grid grid = pyiqa ? TORCH_GRID : NUMPY_GRID;
        img = cropTo(img, nbw * BLOCK, nbh * BLOCK);
        int blocks = nbh * nbw;
        double[][] feat = new double[blocks][NiqeParams.FEATURES];
        for (int scale = 1; scale <= 2; scale++) {
            Plane n = normalise(img, pyiqa);
            int bs = BLOCK / scale, off = (scale - 1) * 18;
            double[] buf = new double[bs * bs];
            for (int bw = 0; bw < nbw; bw++) {
                for (int bh = 0; bh < nbh; bh++) {
                    for (int y = 0; y < bs; y++) {
                        System.arraycopy(n.data(), (bh * bs + y) * n.width() + bw * bs, buf, y * bs, bs);
                    }
                    blockFeatures(buf, bs, grid, feat[bw * nbh + bh], off, !pyiqa);
                }
            }
            if (scale == 1) {
                img = half(img, pyiqa);
            }
        }
        return feat;
    }

    /** {@code 255·imresize(img/255, 0.5)} with each reference's float32 steps. */
    private static Plane half(Plane img, boolean pyiqa) {
        double[] d = img.data();
        float[] x = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            x[i] = pyiqa ? (float) (d[i] / 255) : (float) d[i] / 255f;   // float64 → float32, or float32 / 255
        }
        MatlabResize.Rounding r = pyiqa ? MatlabResize.Rounding.PYIQA : MatlabResize.Rounding.BASICSR;
        float[] y = MatlabResize.halfFloat32(x, img.width(), img.height(), r);
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = pyiqa ? y[i] * 255.0 : y[i] * 255f;           // pyiqa casts back to float64 first
        }
        return new Plane(img.width() / 2, img.height() / 2, out);
    }

    private static Plane cropTo(Plane p, int w, int h) {
        if (w == p.width() && h == p.height()) {
            return p;
        }
        double[] d = new double[w * h];
        for (int y = 0; y < h; y++) {
            System.arraycopy(p.data(), y * p.width(), d, y * w, w);
        }
        return new Plane(w, h, d);
    }

    /**
     * (img − μ)/(σ + 1) with a 7×7 Gaussian (σ 7/6) and replicated borders. pyiqa works in float64 and adds eps under
     * the root; BasicSR keeps float32 arrays (scipy filters in float64, then stores float32), which matters: E[x²] − μ²
     * cancels catastrophically in float32 on smooth areas, so its σ is emulated step by step.
     */
    static Plane normalise(Plane img, boolean pyiqa) {
        int n = img.data().length;
        double[] x = img.data();
        double[] sq = new double[n];
        for (int i = 0; i < n; i++) {
            sq[i] = pyiqa ? x[i] * x[i] : (float) (x[i] * x[i]);
        }
        Plane sqp = new Plane(img.width(), img.height(), sq);
        Plane mu = pyiqa ? Filters.sameReplicate2d(img, WINDOW_F32, 7) : Filters.sameReplicate(img, WINDOW);
        Plane e2 = pyiqa ? Filters.sameReplicate2d(sqp, WINDOW_F32, 7) : Filters.sameReplicate(sqp, WINDOW);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if (pyiqa) {
                double m = mu.data()[i];
                double sigma = Math.sqrt(Math.abs(e2.data()[i] - m * m) + EPS64);
                out[i] = (x[i] - m) / (sigma + 1);
            } else {
                float m = (float) mu.data()[i], e = (float) e2.data()[i];
                float sigma = (float) Math.sqrt(Math.abs(e - m * m));
                out[i] = ((float) x[i] - m) / (sigma + 1f);
            }
        }
        return new Plane(img.width(), img.height(), out);
    }

    private static final int[][] SHIFTS = {{0, 1}, {1, 0}, {1, 1}, {1, -1}};

    /** The 18 features of one square block (size s), written at {@code out[off…off+17]}. */
    static void blockFeatures(double[] b, int s, Grid grid, double[] out, int off, boolean f32) {
        double[] aggd = new double[3];
        aggd(b, grid, aggd, f32);
        out[off] = aggd[0];
        out[off + 1] = (aggd[1] + aggd[2]) / 2;
        double[] prod = new double[b.length];
        for (int k = 0; k < SHIFTS.length; k++) {
            int dy = SHIFTS[k][0], dx = SHIFTS[k][1];
            for (int y = 0; y < s; y++) {
                int sy = Math.floorMod(y - dy, s);          // np.roll: out[y] = in[y − shift], wrapping
                for (int x = 0; x < s; x++) {
                    int sx = Math.floorMod(x - dx, s);
                    double p = b[y * s + x] * b[sy * s + sx];
                    prod[y * s + x] = f32 ? (float) p : p;
                }
            }
            aggd(prod, grid, aggd, f32);
            double alpha = aggd[0], bl = aggd[1], br = aggd[2];
            double mean = (br - bl) * Math.exp(GammaFn.logGamma(2 / alpha) - GammaFn.logGamma(1 / alpha));
            int o = off + 2 + 4 * k;
            out[o] = alpha;
            out[o + 1] = mean;
            out[o + 2] = bl;
            out[o + 3] = br;
        }
    }

    /**
     * AGGD fit: {α, βl, βr}; NaN where one side of the distribution is empty, as numpy gives. With {@code f32} the
     * block statistics are rounded to float32 where BasicSR's float32 arrays round them (sums are float64 here,
     * numpy's are float32 pairwise sums: a difference of about one float32 ulp in the means).
     */
    private static void aggd(double[] b, Grid grid, double[] out, boolean f32) {
        double sl = 0, sr = 0, sabs = 0, s2 = 0;
        int nl = 0, nr = 0;
        for (double v : b) {
            double v2 = f32 ? (float) (v * v) : v * v;
            if (v < 0) {
                sl += v2;
                nl++;
            } else if (v > 0) {
                sr += v2;
                nr++;
            }
            sabs += Math.abs(v);
            s2 += v2;
        }
        double leftStd, rightStd, rhatnorm;
        if (f32) {
            float l = (float) Math.sqrt((float) (sl / nl)), r = (float) Math.sqrt((float) (sr / nr));
            float g = l / r;
            float meanAbs = (float) (sabs / b.length), meanSq = (float) (s2 / b.length);
            float rhat = meanAbs * meanAbs / meanSq;
            float g2 = g * g;
            float g3 = (float) Math.pow(g, 3);
            float num = rhat * (g3 + 1f) * (g + 1f);
            float den = (g2 + 1f) * (g2 + 1f);
            leftStd = l;
            rightStd = r;
            rhatnorm = num / den;
        } else {
            leftStd = Math.sqrt(sl / nl);
            rightStd = Math.sqrt(sr / nr);
            double gammahat = leftStd / rightStd;
            double meanAbs = sabs / b.length;
            double rhat = meanAbs * meanAbs / (s2 / b.length);
            double g2 = gammahat * gammahat;
            rhatnorm = (rhat * (g2 * gammahat + 1) * (gammahat + 1)) / ((g2 + 1) * (g2 + 1));
        }
        double[] r = grid.rGam;
        int best = 0;
        double bestD = Double.POSITIVE_INFINITY;
        if (!Double.isNaN(rhatnorm)) {
            for (int i = 0; i < r.length; i++) {
                double d = Math.abs(r[i] - rhatnorm);
                if (d < bestD) {
                    bestD = d;
                    best = i;
                }
            }
        }
        // numpy/torch argmin over an all-NaN difference returns index 0
        double alpha = grid.gam[best];
        double f = Math.sqrt(Math.exp(GammaFn.logGamma(1 / alpha) - GammaFn.logGamma(3 / alpha)));
        out[0] = alpha;
        out[1] = leftStd * f;
        out[2] = rightStd * f;
    }

    /** √((μp − μd)·pinv((Σp + Σd)/2)·(μp − μd)ᵀ) with nanmean and the covariance of NaN-free rows. */
    private static double distance(double[][] feat, boolean pyiqa) {
        int k = NiqeParams.FEATURES;
        double[] mu = new double[k];
        for (int j = 0; j < k; j++) {
            double s = 0;
            int c = 0;
            for (double[] row : feat) {
                if (!Double.isNaN(row[j])) {
                    s += row[j];
                    c++;
                }
            }
            mu[j] = s / c;
        }
        List<double[]> clean = new ArrayList<>();
        for (double[] row : feat) {
            boolean ok = true;
            for (double v : row) {
                ok &= !Double.isNaN(v);
            }
            if (ok) {
                clean.add(row);
            }
        }
        int n = clean.size();
        double[] mean = new double[k];
        for (double[] row : clean) {
            for (int j = 0; j < k; j++) {
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < k; j++) {
            mean[j] /= n;
        }
        double[] cov = new double[k * k];
        if (n >= 2) {
            for (double[] row : clean) {
                for (int i = 0; i < k; i++) {
                    double di = row[i] - mean[i];
                    for (int j = 0; j < k; j++) {
                        cov[i * k + j] += di * (row[j] - mean[j]);
                    }
                }
            }
            for (int i = 0; i < k * k; i++) {
                cov[i] /= n - 1;
            }
        } else if (n == 1 && !pyiqa) {
            // np.cov(one_row, rowvar=False) does not transpose a single row: it returns the variance of the 36
            // values (a scalar, ddof 1), which the next line broadcasts over the whole matrix. pyiqa's cov of one
            // row is all zeros (correction 0 for one observation).
            double[] row = clean.get(0);
            double m = 0, v = 0;
            for (double x : row) {
                m += x;
            }
            m /= k;
            for (double x : row) {
                v += (x - m) * (x - m);
            }
            java.util.Arrays.fill(cov, v / (k - 1));
        } else if (n == 0) {
            throw new IllegalArgumentException("NIQE is undefined: every 96x96 block has a NaN feature (flat image?)");
        }
        NiqeParams p = NiqeParams.load();
        double[] m = new double[k * k];
        for (int i = 0; i < k * k; i++) {
            m[i] = (p.cov()[i] + cov[i]) / 2;
        }
        double rtol = pyiqa ? k * Math.ulp(1.0) : 1e-15;
        double[] inv = SymmetricEigen.pinv(m, k, rtol);
        double[] d = new double[k];
        for (int j = 0; j < k; j++) {
            d[j] = p.mu()[j] - mu[j];
        }
        double q = 0;
        for (int i = 0; i < k; i++) {
            double t = 0;
            for (int j = 0; j < k; j++) {
                t += inv[i * k + j] * d[j];
            }
            q += d[i] * t;
        }
        return Math.sqrt(q);
    }
}
