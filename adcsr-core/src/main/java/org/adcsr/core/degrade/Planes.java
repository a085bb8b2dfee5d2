package org.adcsr.core.degrade;

/**
 * A float32 image in planar CHW order ({@code d[(c·h + y)·w + x]}), values nominally in [0, 1]: the tensor the
 * reference pipeline works on, one sample of its NCHW batch.
 */
public final class Planes {
    public final int c;
    public final int h;
    public final int w;
    public final float[] d;

    public Planes(int c, int h, int w) {
        this(c, h, w, new float[Math.multiplyExact(Math.multiplyExact(c, h), w)]);
    }

    public Planes(int c, int h, int w, float[] d) {
        if (c < 1 || h < 1 || w < 1 || d.length != (long) c * h * w) {
            throw new IllegalArgumentException("bad planes " + c + "x" + h + "x" + w + " for " + d.length);
        }
        this.c = c;
        this.h = h;
        this.w = w;
        this.d = d;
    }

    public float get(int ch, int y, int x) {
        return d[(ch * h + y) * w + x];
    }

    public Planes copy() {
        return new Planes(c, h, w, d.clone());
    }

    /** {@code clamp(x, 0, 1)} in place. */
    public Planes clamp01() {
        for (int i = 0; i < d.length; i++) {
            float v = d[i];
            d[i] = v < 0f ? 0f : (v > 1f ? 1f : v);
        }
        return this;
    }

    /** {@code clamp(round(x·255), 0, 255)/255} with round half to even, in place: the reference's quantisation. */
    public Planes quantize() {
        for (int i = 0; i < d.length; i++) {
            d[i] = quantize(d[i]);
        }
        return this;
    }

    static float quantize(float v) {
        float r = (float) Math.rint(v * 255f);
        r = r < 0f ? 0f : (r > 255f ? 255f : r);
        return r / 255f;
    }
}
