package org.adcsr.prune;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PyTorch's default initialisation of a freshly built diffusers {@code Decoder}: conv and linear weights and biases
 * uniform in ±1/√fan_in ({@code kaiming_uniform_(a=√5)} and the bias rule), norm weights 1 and biases 0. Each tensor
 * draws from its own stream, seeded by the run seed and its name, so the values do not depend on the order of
 * writing.
 */
final class RandomInit {
    private RandomInit() {
    }

    static float[] tensor(String name, long[] shape, Map<String, long[]> all, long seed) {
        float[] v = new float[Math.toIntExact(Pruner.numel(shape))];
        boolean bias = name.endsWith(".bias");
        String module = name.substring(0, name.lastIndexOf('.'));
        if (module.endsWith("norm") || module.endsWith("norm1") || module.endsWith("norm2")
                || module.endsWith("norm_out")) {
            Arrays.fill(v, bias ? 0f : 1f);
            return v;
        }
        long[] w = all.get(module + ".weight");
        long fanIn = 1;
        for (int i = 1; i < w.length; i++) {
            fanIn *= w[i];
        }
        double bound = 1 / Math.sqrt(fanIn);
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }
}
