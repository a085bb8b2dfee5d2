package org.adcsr.core.engine;

/**
 * The compute engine cannot be trusted on this machine: its self-check ({@link EngineCheck}) failed with no
 * work-around, or a network produced NaN or infinity from finite inputs and weights. Tools exit with code 5 and
 * this one-line message.
 */
public class EngineFaultException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EngineFaultException(String message) {
        super(message);
    }
}
