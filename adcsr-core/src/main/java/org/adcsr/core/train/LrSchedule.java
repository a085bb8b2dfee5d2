package org.adcsr.core.train;

import java.util.Arrays;

/**
 * A learning rate as a function of the step about to be taken (1 for the first step), so that a resumed run gets the
 * same rates as one that never stopped. Pure functions of the step: nothing to save in a checkpoint.
 */
@FunctionalInterface
public interface LrSchedule {
    /** The learning rate of step {@code step} (1-based). */
    double lr(long step);

    /** {@code lr} at every step (the AdcSR Stage-1 recipe: 1.3e-6, fixed). */
    static LrSchedule constant(double lr) {
        return step -> lr;
    }

    /**
     * {@code torch.optim.lr_scheduler.MultiStepLR} stepped once per optimizer step: {@code lr · gamma^k} where k is the
     * number of milestones m with m &lt; step (a milestone m means steps after the m-th use the lower rate).
     */
    static LrSchedule multiStep(double lr, long[] milestones, double gamma) {
        long[] sorted = milestones.clone();
        Arrays.sort(sorted);
        return step -> {
            int passed = 0;
            for (long m : sorted) {
                if (m < step) {
                    passed++;
                }
            }
            return lr * Math.pow(gamma, passed);
        };
    }

    /** {@code inner}'s rate scaled linearly from 1/warmup at step 1 to 1 at step {@code warmup} and after. */
    static LrSchedule warmup(LrSchedule inner, long warmup) {
        if (warmup < 1) {
            return inner;
        }
        return step -> inner.lr(step) * Math.min(1.0, (double) step / warmup);
    }
}
