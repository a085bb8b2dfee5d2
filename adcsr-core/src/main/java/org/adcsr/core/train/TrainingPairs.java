package org.adcsr.core.train;

/**
 * Where Stage 2's LR/HR batches come from: made pairs ({@link PairData}, adcsr-degrade's {@code pairs.csv}) or pairs
 * degraded on the fly ({@link OnlinePairs}). Either way a batch is a pure function of the step, so a resumed run sees
 * the batches an uninterrupted one would.
 */
public interface TrainingPairs {
    /** The batch of step {@code step} (1-based), {@code batch} pairs. */
    PairData.Batch batch(long step, int batch);

    /** LR height and width. */
    int[] lrSize();

    /** How many pairs (or source images) there are. */
    int size();
}
