package org.adcsr.cli;

/**
 * A command line that cannot work, found after parsing (options that conflict, several inputs for one output file):
 * {@link Cli} prints it like a parse error, one line and a "Try --help" line, exit 2. Code that has the
 * {@code CommandLine} at hand may throw picocli's {@code ParameterException} instead; this one needs none.
 */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
