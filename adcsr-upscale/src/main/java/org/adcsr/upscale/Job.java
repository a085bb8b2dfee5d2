package org.adcsr.upscale;

import java.nio.file.Path;

/**
 * One image to upscale.
 *
 * @param input the input file, or null for stdin
 * @param output the output file, or null for stdout
 * @param skip the output exists and is not to be replaced
 */
record Job(Path input, Path output, boolean skip) {
    /** The input's name for messages and progress. */
    String name() {
        return input == null ? "-" : input.toString();
    }
}
