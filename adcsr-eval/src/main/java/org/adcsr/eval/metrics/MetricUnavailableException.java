package org.adcsr.eval.metrics;

/** A metric that cannot run here (not implemented yet, or its weight file is missing); the message is one line. */
public class MetricUnavailableException extends Exception {
    public MetricUnavailableException(String message) {
        super(message);
    }
}
