package org.adcsr.core.io.torch;

/** A Python {@code slice(start, stop, step)}; absent parts are {@code null}. */
public record PySlice(Object start, Object stop, Object step) {
}
