package org.adcsr.core.sd;

import java.util.Arrays;

/**
 * Gathers a tensor's elements by an index map per dimension: {@code out[i0, i1, …] = src[m0[i0], m1[i1], …]}. Keeping
 * the first channels is the identity map cut short; AdcSR's widened {@code conv_in}/{@code conv_out} is
 * {@code i mod n}.
 */
public final class Slices {
    private Slices() {
    }

    /** The first {@code n} indices. */
    public static int[] first(long n) {
        int[] m = new int[Math.toIntExact(n)];
        for (int i = 0; i < m.length; i++) {
            m[i] = i;
        }
        return m;
    }

    /** Indices {@code i mod period} for i below n: the kernels of a layer repeated along one axis. */
    public static int[] repeat(long n, long period) {
        int[] m = new int[Math.toIntExact(n)];
        for (int i = 0; i < m.length; i++) {
            m[i] = (int) (i % period);
        }
        return m;
    }

    /** Gathers {@code src} (C order, shape {@code srcShape}, rank 1 to 4) through {@code maps}, one per dimension. */
    public static float[] gather(float[] src, long[] srcShape, int[][] maps) {
        int rank = srcShape.length;
        if (rank < 1 || rank > 4 || maps.length != rank) {
            throw new IllegalArgumentException("rank " + rank + " with " + maps.length + " maps");
        }
        long[] t = new long[4];
        int[][] m = new int[4][];
        for (int d = 0; d < 4; d++) {
            int k = d - (4 - rank);
            t[d] = k < 0 ? 1 : srcShape[k];
            m[d] = k < 0 ? new int[] {0} : maps[k];
            for (int i : m[d]) {
                if (i < 0 || i >= t[d]) {
                    throw new IllegalArgumentException("index " + i + " outside " + Arrays.toString(srcShape));
                }
            }
        }
        long s2 = t[3];
        long s1 = t[2] * s2;
        long s0 = t[1] * s1;
        int n3 = m[3].length;
        boolean contiguous = isPrefix(m[3]);
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(m[0].length, m[1].length),
                Math.multiplyExact(m[2].length, n3))];
        int o = 0;
        for (int a : m[0]) {
            for (int b : m[1]) {
                for (int c : m[2]) {
                    int base = Math.toIntExact(a * s0 + b * s1 + c * s2);
                    if (contiguous) {
                        System.arraycopy(src, base, out, o, n3);
                        o += n3;
                    } else {
                        for (int d : m[3]) {
                            out[o++] = src[base + d];
                        }
                    }
                }
            }
        }
        return out;
    }

    private static boolean isPrefix(int[] m) {
        for (int i = 0; i < m.length; i++) {
            if (m[i] != i) {
                return false;
            }
        }
        return true;
    }
}
