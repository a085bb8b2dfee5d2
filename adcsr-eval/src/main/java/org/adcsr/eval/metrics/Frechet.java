package org.adcsr.eval.metrics;

/**
 * The Fréchet distance between two Gaussians, FID's final step (METRICS.md §3):
 * {@code ‖μ1−μ2‖² + tr(Σ1) + tr(Σ2) − 2·tr(√(Σ1Σ2))}.
 *
 * <p>Numerically careful: the references take {@code scipy.linalg.sqrtm} of the non-symmetric product Σ1Σ2 (complex
 * Schur form; singular products need {@code +1e-6·I}; a spurious imaginary part is dropped). Here the trace is
 * computed from symmetric matrices only: with {@code A = √Σ1} (symmetric PSD square root),
 * {@code tr √(Σ1Σ2) = tr √(A Σ2 A) = Σ √λᵢ(A Σ2 A)}, since Σ1Σ2 is similar to A Σ2 A; eigenvalues are clamped at 0.
 * This stays real and finite for the rank-deficient covariances of small test sets (fewer images than features),
 * where no offset is needed.
 */
public final class Frechet {
    private Frechet() {}

    /** The distance; covariances are n×n row-major, symmetric positive semi-definite. */
    public static double distance(double[] mu1, double[] sigma1, double[] mu2, double[] sigma2) {
        int n = mu1.length;
        if (mu2.length != n || sigma1.length != n * n || sigma2.length != n * n) {
            throw new IllegalArgumentException("Frechet: dimensions differ");
        }
        double d2 = 0;
        for (int i = 0; i < n; i++) {
            double d = mu1[i] - mu2[i];
            d2 += d * d;
        }
        double tr1 = 0, tr2 = 0;
        for (int i = 0; i < n; i++) {
            tr1 += sigma1[i * n + i];
            tr2 += sigma2[i * n + i];
        }
        return d2 + tr1 + tr2 - 2 * traceSqrtProduct(sigma1, sigma2, n);
    }

    /**
     * FID's distance from two feature sets (rows: images; one row per image, all of the same length d): μ and the
     * unbiased covariance (np.cov) of each set, then {@link #distance}. With fewer images than features (the usual
     * case for a test set) it works on the small Gram matrix instead of the d×d covariances: with centred features
     * Xᵢ, Σᵢ = XᵢᵀXᵢ/(nᵢ−1), tr Σᵢ = ‖Xᵢ‖²/(nᵢ−1), and tr √(Σ1Σ2) = Σ σₖ(X1X2ᵀ)/√((n1−1)(n2−1)) (the non-zero
     * eigenvalues of Σ1Σ2 are those of MMᵀ/((n1−1)(n2−1)), M = X1X2ᵀ). Same value, O(n²d) instead of O(d³).
     * Each set needs at least 2 rows.
     */
    public static double fromFeatures(double[][] f1, double[][] f2) {
        if (f1.length < 2 || f2.length < 2) {
            throw new IllegalArgumentException("FID needs at least 2 images on each side (the covariance of one "
                    + "image is undefined)");
        }
        int d = f1[0].length;
        double[] mu1 = mean(f1, d), mu2 = mean(f2, d);
        double[][] x1 = centred(f1, mu1), x2 = centred(f2, mu2);
        int n1 = f1.length, n2 = f2.length;
        if (Math.min(n1, n2) > d) {
            return distance(mu1, covariance(x1, d), mu2, covariance(x2, d));
        }
        double d2 = 0, tr1 = 0, tr2 = 0;
        for (int j = 0; j < d; j++) {
            double t = mu1[j] - mu2[j];
            d2 += t * t;
        }
        for (double[] r : x1) {
            for (double v : r) {
                tr1 += v * v;
            }
        }
        for (double[] r : x2) {
            for (double v : r) {
                tr2 += v * v;
            }
        }
        double[][] small = n1 <= n2 ? x1 : x2, large = n1 <= n2 ? x2 : x1;
        int a = small.length, b = large.length;
        double[] mmt = new double[a * a];                      // M Mᵀ with M = small · largeᵀ (a×b)
        double[][] m = new double[a][b];
        for (int i = 0; i < a; i++) {
            for (int k = 0; k < b; k++) {
                m[i][k] = dot(small[i], large[k]);
            }
        }
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < a; j++) {
                mmt[i * a + j] = dot(m[i], m[j]);
            }
        }
        double sv = 0;
        for (double l : Eigen.of(symmetrised(mmt, a), a, false).values) {
            sv += Math.sqrt(Math.max(l, 0));
        }
        return d2 + tr1 / (n1 - 1) + tr2 / (n2 - 1) - 2 * sv / Math.sqrt((double) (n1 - 1) * (n2 - 1));
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    private static double[] mean(double[][] f, int d) {
        double[] mu = new double[d];
        for (double[] r : f) {
            if (r.length != d) {
                throw new IllegalArgumentException("Frechet: feature lengths differ");
            }
            for (int j = 0; j < d; j++) {
                mu[j] += r[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mu[j] /= f.length;
        }
        return mu;
    }

    private static double[][] centred(double[][] f, double[] mu) {
        double[][] x = new double[f.length][];
        for (int i = 0; i < f.length; i++) {
            x[i] = new double[mu.length];
            for (int j = 0; j < mu.length; j++) {
                x[i][j] = f[i][j] - mu[j];
            }
        }
        return x;
    }

    private static double[] covariance(double[][] x, int d) {
        double[] c = new double[d * d];
        for (double[] r : x) {
            for (int i = 0; i < d; i++) {
                double ri = r[i];
                for (int j = 0; j < d; j++) {
                    c[i * d + j] += ri * r[j];
                }
            }
        }
        for (int i = 0; i < c.length; i++) {
            c[i] /= x.length - 1;
        }
        return c;
    }

    /** tr √(Σ1Σ2) via the symmetric A·Σ2·A with A = √Σ1. */
    static double traceSqrtProduct(double[] s1, double[] s2, int n) {
        Eigen e = Eigen.of(symmetrised(s1, n), n, true);
        double[] a = new double[n * n];                        // A = V·diag(√max(λ,0))·Vᵀ
        double[] vs = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                vs[i * n + k] = e.vectors[i * n + k] * Math.sqrt(Math.max(e.values[k], 0));
            }
        }
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double vik = vs[i * n + k];
                if (vik == 0) {
                    continue;
                }
                for (int j = 0; j < n; j++) {
                    a[i * n + j] += vik * e.vectors[j * n + k];
                }
            }
        }
        double[] m = multiply(multiply(a, symmetrised(s2, n), n), a, n);
        double[] lambda = Eigen.of(symmetrised(m, n), n, false).values;
        double t = 0;
        for (double l : lambda) {
            t += Math.sqrt(Math.max(l, 0));
        }
        return t;
    }

    private static double[] symmetrised(double[] s, int n) {
        double[] o = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                o[i * n + j] = 0.5 * (s[i * n + j] + s[j * n + i]);
            }
        }
        return o;
    }

    private static double[] multiply(double[] x, double[] y, int n) {
        double[] z = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double xik = x[i * n + k];
                if (xik == 0) {
                    continue;
                }
                int yb = k * n, zb = i * n;
                for (int j = 0; j < n; j++) {
                    z[zb + j] += xik * y[yb + j];
                }
            }
        }
        return z;
    }

    /**
     * Symmetric eigen-decomposition: Householder reduction to tridiagonal form, then the implicit QL algorithm (the
     * classic tred2/tql2 pair, as in EISPACK and JAMA). O(n³); {@code vectors} column k is the k-th eigenvector.
     * The two routines work on the transpose of JAMA's arrays (the input is symmetric), so that their inner loops run
     * along rows: at n = 2048 that is what makes them fast enough, since a column walk misses the cache at every step.
     * Without vectors, the transforms are not accumulated and the QL rotations are not applied.
     */
    static final class Eigen {
        final double[] values;
        final double[] vectors;

        private Eigen(double[] values, double[] vectors) {
            this.values = values;
            this.vectors = vectors;
        }

        static Eigen of(double[] a, int n, boolean wantVectors) {
            double[][] v = new double[n][n];
            for (int i = 0; i < n; i++) {
                System.arraycopy(a, i * n, v[i], 0, n);
            }
            double[] d = new double[n], e = new double[n];
            tred2(v, d, e, n, wantVectors);
            tql2(v, d, e, n, wantVectors);
            double[] flat = null;
            if (wantVectors) {
                flat = new double[n * n];
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < n; k++) {
                        flat[i * n + k] = v[k][i];   // v holds the eigenvectors as rows
                    }
                }
            }
            return new Eigen(d, flat);
        }

        private static void tred2(double[][] v, double[] d, double[] e, int n, boolean vectors) {
            for (int j = 0; j < n; j++) {
                d[j] = v[j][n - 1];
            }
            for (int i = n - 1; i > 0; i--) {
                double scale = 0, h = 0;
                for (int k = 0; k < i; k++) {
                    scale += Math.abs(d[k]);
                }
                if (scale == 0) {
                    e[i] = d[i - 1];
                    for (int j = 0; j < i; j++) {
                        d[j] = v[j][i - 1];
                        v[j][i] = 0;
                        v[i][j] = 0;
                    }
                } else {
                    for (int k = 0; k < i; k++) {
                        d[k] /= scale;
                        h += d[k] * d[k];
                    }
                    double f = d[i - 1];
                    double g = Math.sqrt(h);
                    if (f > 0) {
                        g = -g;
                    }
                    e[i] = scale * g;
                    h -= f * g;
                    d[i - 1] = f - g;
                    for (int j = 0; j < i; j++) {
                        e[j] = 0;
                    }
                    for (int j = 0; j < i; j++) {
                        f = d[j];
                        v[i][j] = f;
                        g = e[j] + v[j][j] * f;
                        for (int k = j + 1; k <= i - 1; k++) {
                            g += v[j][k] * d[k];
                            e[k] += v[j][k] * f;
                        }
                        e[j] = g;
                    }
                    f = 0;
                    for (int j = 0; j < i; j++) {
                        e[j] /= h;
                        f += e[j] * d[j];
                    }
                    double hh = f / (h + h);
                    for (int j = 0; j < i; j++) {
                        e[j] -= hh * d[j];
                    }
                    for (int j = 0; j < i; j++) {
                        f = d[j];
                        g = e[j];
                        for (int k = j; k <= i - 1; k++) {
                            v[j][k] -= f * e[k] + g * d[k];
                        }
                        d[j] = v[j][i - 1];
                        v[j][i] = 0;
                    }
                }
                d[i] = h;
            }
            if (!vectors) {                  // the tridiagonal matrix's diagonal; no accumulation of the transforms
                for (int j = 0; j < n; j++) {
                    d[j] = v[j][j];
                }
                e[0] = 0;
                return;
            }
            for (int i = 0; i < n - 1; i++) {
                v[i][n - 1] = v[i][i];
                v[i][i] = 1;
                double h = d[i + 1];
                if (h != 0) {
                    for (int k = 0; k <= i; k++) {
                        d[k] = v[i + 1][k] / h;
                    }
                    for (int j = 0; j <= i; j++) {
                        double g = 0;
                        for (int k = 0; k <= i; k++) {
                            g += v[i + 1][k] * v[j][k];
                        }
                        for (int k = 0; k <= i; k++) {
                            v[j][k] -= g * d[k];
                        }
                    }
                }
                for (int k = 0; k <= i; k++) {
                    v[i + 1][k] = 0;
                }
            }
            for (int j = 0; j < n; j++) {
                d[j] = v[j][n - 1];
                v[j][n - 1] = 0;
            }
            v[n - 1][n - 1] = 1;
            e[0] = 0;
        }

        /** {@code vectors} false: the rotations are not applied to {@code v} (the eigenvalues do not depend on them). */
        private static void tql2(double[][] v, double[] d, double[] e, int n, boolean vectors) {
            for (int i = 1; i < n; i++) {
                e[i - 1] = e[i];
            }
            e[n - 1] = 0;
            double f = 0, tst1 = 0;
            double eps = Math.ulp(1.0);
            for (int l = 0; l < n; l++) {
                tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
                int m = l;
                while (m < n) {
                    if (Math.abs(e[m]) <= eps * tst1) {
                        break;
                    }
                    m++;
                }
                if (m > l) {
                    int iter = 0;
                    do {
                        if (++iter > 60 * n) {
                            throw new ArithmeticException("eigenvalues did not converge");
                        }
                        double g = d[l];
                        double p = (d[l + 1] - g) / (2 * e[l]);
                        double r = Math.hypot(p, 1);
                        if (p < 0) {
                            r = -r;
                        }
                        d[l] = e[l] / (p + r);
                        d[l + 1] = e[l] * (p + r);
                        double dl1 = d[l + 1];
                        double h = g - d[l];
                        for (int i = l + 2; i < n; i++) {
                            d[i] -= h;
                        }
                        f += h;
                        p = d[m];
                        double c = 1, c2 = c, c3 = c;
                        double el1 = e[l + 1];
                        double s = 0, s2 = 0;
                        for (int i = m - 1; i >= l; i--) {
                            c3 = c2;
                            c2 = c;
                            s2 = s;
                            g = c * e[i];
                            h = c * p;
                            r = Math.hypot(p, e[i]);
                            e[i + 1] = s * r;
                            s = e[i] / r;
                            c = p / r;
                            p = c * d[i] - s * g;
                            d[i + 1] = h + s * (c * g + s * d[i]);
                            for (int k = 0; vectors && k < n; k++) {
                                h = v[i + 1][k];
                                v[i + 1][k] = s * v[i][k] + c * h;
                                v[i][k] = c * v[i][k] - s * h;
                            }
                        }
                        p = -s * s2 * c3 * el1 * e[l] / dl1;
                        e[l] = s * p;
                        d[l] = c * p;
                    } while (Math.abs(e[l]) > eps * tst1);
                }
                d[l] = d[l] + f;
                e[l] = 0;
            }
        }
    }
}
