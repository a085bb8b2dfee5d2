package org.adcsr.eval.metrics;

/** One channel of samples as doubles, row-major {@code data[y·width + x]}. */
record Plane(int width, int height, double[] data) {

    Plane {
        if ((long) width * height != data.length) {
            throw new IllegalArgumentException("plane data length " + data.length + " != " + width + "x" + height);
        }
    }

    double at(int y, int x) {
        return data[y * width + x];
    }
}
