package org.adcsr.eval;

import java.nio.file.Path;

/**
 * One image to evaluate: its SR output and, for full-reference metrics, its ground truth.
 *
 * @param name the name shown in the CSV (the SR file name)
 * @param sr the SR image
 * @param gt the ground truth, or null when only no-reference metrics run
 */
public record Pair(String name, Path sr, Path gt) {}
