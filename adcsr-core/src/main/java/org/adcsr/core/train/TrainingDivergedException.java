package org.adcsr.core.train;

/**
 * A loss term or a gradient became NaN or infinite: the run stops before the optimizer applies it, so the newest
 * checkpoint is the last good state. Tools exit with code 6 and this one-line message (the step and the term).
 */
public class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }

    /**
     * Throws if a logged loss term or a trainable gradient is not finite; call after backward, before the optimizer.
     *
     * @param names the terms' names, in the order of {@code values}
     */
    public static void check(long step, String[] names, double[] values, ParameterStore store) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isFinite(values[i])) {
                throw new TrainingDivergedException("step " + step + ": the loss term " + names[i] + " is "
                        + values[i] + "; the newest checkpoint is the last good state (lower the learning rate,"
                        + " or resume from it)");
            }
        }
        String bad = Gradients.firstNonFinite(store);
        if (bad != null) {
            throw new TrainingDivergedException("step " + step + ": the gradient of " + bad + " is not finite; the"
                    + " newest checkpoint is the last good state (lower the learning rate, or resume from it)");
        }
    }
}
