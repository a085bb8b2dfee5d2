package org.adcsr.cli;

import picocli.CommandLine.Option;

/** {@code --seed}, only in tools that draw random numbers: {@code @Mixin SeedOptions seed;}. */
public class SeedOptions {
    @Option(names = "--seed", paramLabel = "N", description = "Seed for everything random (default: 0).")
    long seed = 0;

    public long seed() {
        return seed;
    }
}
