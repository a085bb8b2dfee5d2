package org.adcsr.core;

import java.nio.file.Path;

/**
 * A problem with something the user supplied (a file, a value): the message is one line that names the input and
 * says what is wrong. Tools map it to exit code 3. Library code throws it; only tools print it.
 *
 * <p>Whatever the file held, the message is kept one line of at most {@value Messages#MAX_MESSAGE} characters:
 * control characters are escaped and an over-long message is clipped in the middle ({@link Messages#oneLine}).
 */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(Messages.oneLine(message));
    }

    public BadInputException(String message, Throwable cause) {
        super(Messages.oneLine(message), cause);
    }

    /** {@code file: problem}, the house format for one-line errors about a file. */
    public static BadInputException of(Path file, String problem) {
        return new BadInputException(file + ": " + problem);
    }

    public static BadInputException of(Path file, String problem, Throwable cause) {
        return new BadInputException(file + ": " + problem, cause);
    }
}
