package org.adcsr.cli;

/** The exit codes every tool uses; {@link CommonOptions} lists them in each tool's {@code --help}. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A bug: an unexpected exception. */
    public static final int INTERNAL = 1;
    /** Bad command line. */
    public static final int USAGE = 2;
    /** {@link org.adcsr.core.BadInputException}: an unreadable or malformed file, an unusable value. */
    public static final int BAD_INPUT = 3;
    /** The tool ran and a check it was asked to make failed (like {@code cmp}). */
    public static final int CHECK_FAILED = 4;
    /**
     * {@link org.adcsr.core.engine.EngineFaultException}: the compute engine is wrong on this machine (its self-check
     * failed with no work-around) or a network produced NaN or infinity.
     */
    public static final int ENGINE_FAULT = 5;
    /**
     * {@link org.adcsr.core.train.TrainingDivergedException}: a loss or gradient became NaN or infinite; the newest
     * checkpoint is the last good state.
     */
    public static final int DIVERGED = 6;
    /** {@link OutOfMemoryError}; 128 + SIGKILL, what a shell shows when the kernel kills a process for memory. */
    public static final int OUT_OF_MEMORY = 137;

    private ExitCodes() {}
}
