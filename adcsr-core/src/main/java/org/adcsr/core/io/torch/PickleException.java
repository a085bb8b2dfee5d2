package org.adcsr.core.io.torch;

/**
 * A malformed or disallowed pickle, raised inside the unpickler and its whitelisted constructors; the unpickler turns
 * it into a {@link org.adcsr.core.BadInputException} that names the file and the byte offset.
 */
final class PickleException extends RuntimeException {
    PickleException(String message) {
        super(message);
    }
}
