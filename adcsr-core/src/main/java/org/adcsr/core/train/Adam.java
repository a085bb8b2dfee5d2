package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam and AdamW exactly as {@code torch.optim.Adam} / {@code torch.optim.AdamW} compute them (PyTorch 1.13, the
 * single-tensor path, no amsgrad), with moments the caller can read and restore, so a run resumes exactly (DJL's own
 * Adam keeps its moments private). For step t, gradient g and parameter p:
 * <pre>
 *   Adam with L2 weight decay: g ← g + wd·p        AdamW (decoupled): p ← p·(1 − lr·wd)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 * in float32, in that order of operations. One step counter per optimizer (torch keeps one per parameter, but they
 * only differ for parameters that got no gradient, which the training loops here never skip).
 */
public final class Adam {
    /**
     * Hyper-parameters. LDM's autoencoder recipe uses betas (0.5, 0.9); PyTorch's defaults are (0.9, 0.999).
     *
     * @param decoupled true for AdamW's decoupled weight decay, false for Adam's L2 term
     */
    public record Settings(double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        public Settings {
            if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("Adam betas must be in [0, 1): " + beta1 + ", " + beta2);
            }
            if (!(eps >= 0) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("Adam eps and weight decay must be non-negative");
            }
        }

        /** The LDM autoencoder optimizer: Adam, betas (0.5, 0.9), eps 1e-8, no weight decay. */
        public static Settings ldm() {
            return new Settings(0.5, 0.9, 1e-8, 0, false);
        }
    }

    private final String name;
    private final Settings settings;
    private final ParameterStore store;
    private final List<String> params;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private long step;

    /**
     * An optimizer over the trainable parameters of {@code store} whose names {@code params} lists.
     *
     * @param name names this optimizer's state in checkpoints ({@code optimizer.NAME.exp_avg.PARAM})
     */
    public Adam(String name, Settings settings, ParameterStore store, List<String> params) {
        this.name = name;
        this.settings = settings;
        this.store = store;
        this.params = List.copyOf(params);
        for (String p : this.params) {
            if (!store.isTrainable(p)) {
                throw new IllegalArgumentException("optimizer " + name + ": " + p + " is not trainable");
            }
            NDArray value = store.get(p);
            expAvg.put(p, store.manager().zeros(value.getShape(), value.getDataType()));
            expAvgSq.put(p, store.manager().zeros(value.getShape(), value.getDataType()));
        }
    }

    public String name() {
        return name;
    }

    public Settings settings() {
        return settings;
    }

    /** Steps taken so far. */
    public long steps() {
        return step;
    }

    /** The parameters this optimizer updates, in order. */
    public List<String> parameters() {
        return params;
    }

    /** Takes one step with learning rate {@code lr} from the gradients now in the store; updates in place. */
    public void step(double lr) {
        step++;
        double b1 = settings.beta1();
        double b2 = settings.beta2();
        double stepSize = lr / (1 - Math.pow(b1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(b2, step));
        double wd = settings.weightDecay();
        for (String p : params) {
            NDArray value = store.get(p);
            // every array made here is closed: they belong to the parameters' manager, which lives as long as the run
            try (NDArray grad = value.getGradient();
                    NDArray decay = wd != 0 && !settings.decoupled() ? value.mul(wd) : null) {
                NDArray g = decay != null ? grad.add(decay) : grad;
                if (wd != 0 && settings.decoupled()) {
                    value.muli(1 - lr * wd);
                }
                NDArray m = expAvg.get(p);
                NDArray v = expAvgSq.get(p);
                try (NDArray gm = g.mul(1 - b1); NDArray g2 = g.mul(g).muli(1 - b2)) {
                    m.muli(b1).addi(gm);
                    v.muli(b2).addi(g2);
                }
                try (NDArray denom = v.sqrt().divi(bc2Sqrt).addi(settings.eps());
                        NDArray update = m.div(denom).muli(stepSize)) {
                    value.subi(update);
                }
                if (g != grad) {
                    g.close();
                }
            }
        }
    }

    /** The first moments by parameter name (live arrays: read, or overwrite in place to restore). */
    public Map<String, NDArray> expAvg() {
        return expAvg;
    }

    /** The second moments by parameter name (live arrays). */
    public Map<String, NDArray> expAvgSq() {
        return expAvgSq;
    }

    /** Sets the step counter (restoring a checkpoint). */
    public void setSteps(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("negative step count " + steps);
        }
        this.step = steps;
    }
}
