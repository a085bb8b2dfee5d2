package org.adcsr.core.degrade;

/**
 * BasicSR's {@code filter2D}: reflect padding by k//2 (torch {@code reflect}, the edge not repeated), then a
 * per-channel cross-correlation with no flip, computed in float32. Zero rows and columns at the kernel's border are
 * skipped, which changes nothing since they contribute exact zeros.
 */
public final class Filter {
    private Filter() {
    }

    /** Index into [0, n) of position i under reflect-101 (mirror without repeating the edge), repeated as needed. */
    static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    /** Cross-correlates every channel with a square kernel of odd size {@code k} (row-major float32). */
    public static Planes filter2D(Planes img, float[] kernel, int k) {
        if (k % 2 == 0 || kernel.length != k * k) {
            throw new IllegalArgumentException("kernel must be odd-sized and square");
        }
        int r0 = k;
        int r1 = -1;
        int c0 = k;
        int c1 = -1;
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < k; c++) {
                if (kernel[r * k + c] != 0f) {
                    r0 = Math.min(r0, r);
                    r1 = Math.max(r1, r);
                    c0 = Math.min(c0, c);
                    c1 = Math.max(c1, c);
                }
            }
        }
        Planes out = new Planes(img.c, img.h, img.w);
        if (r1 < 0) {
            return out;
        }
        int pad = k / 2;
        int h = img.h;
        int w = img.w;
        int pw = w + 2 * pad;
        int ph = h + 2 * pad;
        float[] padded = new float[ph * pw];
        int[] colIndex = new int[pw];
        for (int x = 0; x < pw; x++) {
            colIndex[x] = reflect(x - pad, w);
        }
        for (int ch = 0; ch < img.c; ch++) {
            int base = ch * h * w;
            for (int y = 0; y < ph; y++) {
                int sy = reflect(y - pad, h);
                int src = base + sy * w;
                int dst = y * pw;
                for (int x = 0; x < pw; x++) {
                    padded[dst + x] = img.d[src + colIndex[x]];
                }
            }
            float[] o = out.d;
            for (int y = 0; y < h; y++) {
                int orow = base + y * w;
                for (int r = r0; r <= r1; r++) {
                    int prow = (y + r) * pw;
                    for (int c = c0; c <= c1; c++) {
                        float kv = kernel[r * k + c];
                        if (kv == 0f) {
                            continue;
                        }
                        int p = prow + c;
                        for (int x = 0; x < w; x++) {
                            o[orow + x] += kv * padded[p + x];
                        }
                    }
                }
            }
        }
        return out;
    }
}
