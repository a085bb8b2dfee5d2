package org.adcsr.core;

/**
 * The suite's own random number generator (adcsr-degrade's pairs, the training tools' data order and
 * initialisation), fully specified here so that a seed gives the same stream on every JVM:
 * SplitMix64 (Steele, Lea and Flood 2014) for the bits, Box–Muller for normals, Knuth's product method
 * (λ &lt; 10) and Hörmann's PTRS transformed rejection (λ ≥ 10) for Poisson variates.
 */
public final class Rng {
    private long state;
    private double spareNormal;
    private boolean hasSpare;

    public Rng(long seed) {
        this.state = seed;
    }

    /** The whole state, for checkpoints: the counter, the spare normal and whether it is pending. */
    public long[] state() {
        return new long[] {state, Double.doubleToRawLongBits(spareNormal), hasSpare ? 1 : 0};
    }

    /** A generator that continues exactly where the one whose {@link #state()} was taken stood. */
    public static Rng restore(long[] saved) {
        if (saved.length != 3) {
            throw new IllegalArgumentException("an Rng state has 3 words, got " + saved.length);
        }
        Rng r = new Rng(saved[0]);
        r.spareNormal = Double.longBitsToDouble(saved[1]);
        r.hasSpare = saved[2] != 0;
        return r;
    }

    /** The SplitMix64 finaliser: a bijective mix of 64 bits, also used to derive per-pair seeds. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The seed of pair {@code index} in a run seeded with {@code runSeed}; independent of threads and shards. */
    public static long pairSeed(long runSeed, long index) {
        return mix(mix(runSeed) + 0x9e3779b97f4a7c15L * (index + 1));
    }

    public long nextLong() {
        state += 0x9e3779b97f4a7c15L;
        return mix(state);
    }

    /** Uniform on [0, 1) with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** U[lo, hi). */
    public double uniform(double lo, double hi) {
        return lo + (hi - lo) * nextDouble();
    }

    /** Uniform integer in [0, n), without modulo bias. */
    public int nextInt(int n) {
        if (n <= 0) {
            throw new IllegalArgumentException("n must be positive: " + n);
        }
        long limit = (1L << 32) - ((1L << 32) % n);
        while (true) {
            long r = nextLong() >>> 32;
            if (r < limit) {
                return (int) (r % n);
            }
        }
    }

    /** An index drawn with the given probabilities (they sum to 1), like Python's {@code random.choices}. */
    public int choice(double[] probs) {
        double u = nextDouble();
        double acc = 0;
        for (int i = 0; i < probs.length; i++) {
            acc += probs[i];
            if (u < acc) {
                return i;
            }
        }
        for (int i = probs.length - 1; i >= 0; i--) {
            if (probs[i] > 0) {
                return i;
            }
        }
        return probs.length - 1;
    }

    /** Standard normal (Box–Muller, both values used). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareNormal;
        }
        double u1;
        do {
            u1 = nextDouble();
        } while (u1 == 0.0);
        double u2 = nextDouble();
        double r = Math.sqrt(-2.0 * Math.log(u1));
        double a = 2.0 * Math.PI * u2;
        spareNormal = r * Math.sin(a);
        hasSpare = true;
        return r * Math.cos(a);
    }

    /** A Poisson variate with mean {@code lambda} ≥ 0. */
    public long poisson(double lambda) {
        return poisson(new PoissonParams(lambda));
    }

    /**
     * The per-λ constants of {@link #poisson(double)}, computed once: the noise draws millions of variates from only
     * 256 distinct means.
     */
    public static final class PoissonParams {
        final double lambda;
        final double limit;
        final double loglam;
        final double b;
        final double a;
        final double logInvalpha;
        final double vr;

        public PoissonParams(double lambda) {
            this.lambda = lambda;
            this.limit = Math.exp(-lambda);
            double slam = Math.sqrt(lambda);
            this.loglam = Math.log(lambda);
            this.b = 0.931 + 2.53 * slam;
            this.a = -0.059 + 0.02483 * b;
            this.logInvalpha = Math.log(1.1239 + 1.1328 / (b - 3.4));
            this.vr = 0.9277 - 3.6224 / (b - 2);
        }
    }

    /** A Poisson variate: Knuth's product method for λ &lt; 10, PTRS for λ ≥ 10. */
    public long poisson(PoissonParams pp) {
        double lambda = pp.lambda;
        if (!(lambda > 0)) {
            return 0;
        }
        if (lambda < 10) {
            double p = nextDouble();
            long k = 0;
            while (p > pp.limit) {
                p *= nextDouble();
                k++;
            }
            return k;
        }
        // PTRS: W. Hörmann, "The transformed rejection method for generating Poisson random variables" (1993)
        double a = pp.a;
        double b = pp.b;
        while (true) {
            double u = nextDouble() - 0.5;
            double v = nextDouble();
            double us = 0.5 - Math.abs(u);
            long k = (long) Math.floor((2 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= pp.vr) {
                return k;
            }
            if (k < 0 || (us < 0.013 && v > us)) {
                continue;
            }
            if (Math.log(v) + pp.logInvalpha - Math.log(a / (us * us) + b)
                    <= -lambda + k * pp.loglam - logFactorial(k)) {
                return k;
            }
        }
    }

    private static final double[] LOG_FACTORIAL = new double[1024];

    static {
        for (int k = 0; k < LOG_FACTORIAL.length; k++) {
            LOG_FACTORIAL[k] = computeLogFactorial(k);
        }
    }

    /** ln(k!), tabulated for k &lt; 1024. */
    public static double logFactorial(long k) {
        return k < LOG_FACTORIAL.length ? LOG_FACTORIAL[(int) k] : computeLogFactorial(k);
    }

    /** ln(k!) exactly summed for small k, Stirling's series beyond. */
    private static double computeLogFactorial(long k) {
        if (k < 20) {
            double s = 0;
            for (long i = 2; i <= k; i++) {
                s += Math.log(i);
            }
            return s;
        }
        double n = k + 1.0;
        double inv = 1.0 / n;
        double inv2 = inv * inv;
        return (n - 0.5) * Math.log(n) - n + 0.5 * Math.log(2 * Math.PI)
                + inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)));
    }
}
