package org.adcsr.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Converters that check a number option's range while the command line is parsed, so an out-of-range value is a
 * usage error (exit 2) in every tool alike: {@code @Option(names = "--tile", converter = Values.Positive.class)}.
 * picocli prints {@code Invalid value for option '--tile': must be at least 1, got '-5'}.
 *
 * <p>Only what the command line alone can judge belongs here; a value that conflicts with an input file (a tile that
 * is not a multiple of the model's size multiple) is bad input, exit 3, found when the file is read.
 */
public final class Values {
    private Values() {}

    /** An integer of at least 1: thread counts, tile sides, counts of things to make. */
    public static final class Positive implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return range(value, 1, Integer.MAX_VALUE);
        }
    }

    /** An integer of at least 0: overlaps, borders, depths. */
    public static final class NonNegative implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return range(value, 0, Integer.MAX_VALUE);
        }
    }

    /** A long of at least 1 (pixel counts). */
    public static final class PositiveLong implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long v = parseLong(value);
            if (v < 1) {
                throw new TypeConversionException("must be at least 1, got '" + value + "'");
            }
            return v;
        }
    }

    /** A quality from 1 to 100 (JPEG). */
    public static final class Quality implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return range(value, 1, 100);
        }
    }

    static int range(String value, int min, int max) {
        long v = parseLong(value);
        if (v < min || v > max) {
            throw new TypeConversionException(max == Integer.MAX_VALUE
                    ? "must be at least " + min + ", got '" + value + "'"
                    : "must be from " + min + " to " + max + ", got '" + value + "'");
        }
        return (int) v;
    }

    private static long parseLong(String value) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is not a whole number");
        }
    }
}
