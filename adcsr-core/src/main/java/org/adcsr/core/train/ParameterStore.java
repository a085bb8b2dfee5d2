package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The parameters of a training run, addressed by their checkpoint key names (the dotted diffusers names the
 * safetensors files use), each trainable, frozen, or a buffer. Trainable parameters record gradients on DJL
 * autograd; frozen ones and buffers never do. Buffers are state that changes without gradients (BatchNorm's running
 * statistics) and, like trainable parameters, go into checkpoints. The arrays belong to the store's own manager, outside any per-step scope, so optimizer
 * updates in place survive the step. Iteration order is insertion order, which fixes the order of every reduction
 * (gradient norms) and of every checkpoint.
 */
public final class ParameterStore implements AutoCloseable {
    private final NDManager manager;
    private final Map<String, NDArray> params = new LinkedHashMap<>();
    private final Set<String> trainable = new LinkedHashSet<>();
    private final Set<String> buffers = new LinkedHashSet<>();

    /** An empty store whose arrays live in a sub-manager of {@code parent}. */
    public ParameterStore(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    /** The manager that owns the parameters (and the optimizers' moments). */
    public NDManager manager() {
        return manager;
    }

    /**
     * Adds {@code value} under {@code name}, moved into the store's manager.
     *
     * @throws IllegalArgumentException if the name is taken
     */
    public NDArray add(String name, NDArray value, boolean train) {
        if (params.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " added twice");
        }
        value.attach(manager);
        params.put(name, value);
        if (train) {
            trainable.add(name);
            value.setRequiresGradient(true);
        }
        return value;
    }

    /** Adds a buffer: no gradient, updated in place by the network, saved in checkpoints. */
    public NDArray addBuffer(String name, NDArray value) {
        add(name, value, false);
        buffers.add(name);
        return value;
    }

    /** The names of the buffers, in insertion order. */
    public List<String> buffers() {
        return List.copyOf(buffers);
    }

    /** Every parameter by name, trainable and frozen, in insertion order (unmodifiable). */
    public Map<String, NDArray> all() {
        return Collections.unmodifiableMap(params);
    }

    /** The names of the trainable parameters, in insertion order. */
    public List<String> trainable() {
        return List.copyOf(trainable);
    }

    public boolean isTrainable(String name) {
        return trainable.contains(name);
    }

    /** The parameter {@code name}. */
    public NDArray get(String name) {
        NDArray p = params.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no parameter " + name);
        }
        return p;
    }

    /** The gradient of trainable {@code name} after a backward pass. */
    public NDArray gradient(String name) {
        if (!trainable.contains(name)) {
            throw new IllegalArgumentException(name + " is frozen: it has no gradient");
        }
        return get(name).getGradient();
    }

    /** Sets every trainable parameter's gradient to zero (libtorch accumulates them across backward passes). */
    public void zeroGradients() {
        for (String name : trainable) {
            Gradients.zero(get(name));
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
