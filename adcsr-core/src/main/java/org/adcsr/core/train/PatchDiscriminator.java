package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.norm.BatchNorm;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.Rng;
import org.adcsr.core.engine.Convolution;

/**
 * LDM's (taming-transformers') {@code NLayerDiscriminator}, the PatchGAN of the autoencoder recipe, with its
 * parameters named as that module's state dict under a prefix ({@code PREFIX.main.0.weight}, …):
 * <pre>
 *   main.0   Conv(3 → ndf, k4 s2 p1) + LeakyReLU 0.2
 *   main.2   Conv(ndf → 2·ndf, k4 s2 p1, no bias) + BatchNorm (main.3) + LeakyReLU      (layers − 1 such blocks,
 *   main.5   Conv(2·ndf → 4·ndf, …) + BatchNorm (main.6) + LeakyReLU                     widths doubling up to 8·ndf)
 *   main.8   Conv(4·ndf → 8·ndf, k4 s1 p1, no bias) + BatchNorm (main.9) + LeakyReLU
 *   main.11  Conv(8·ndf → 1, k4 s1 p1)
 * </pre>
 * With ndf 64 and 3 layers (LDM's setting) it has 2,765,633 parameters. BatchNorm runs as {@code nn.BatchNorm2d} in
 * training mode (batch statistics; running mean and unbiased running variance updated with momentum 0.1, kept as
 * buffers in the {@link ParameterStore}) or evaluation mode (running statistics).
 */
public final class PatchDiscriminator {
    private final String prefix;
    private final int ndf;
    private final int layers;
    private final ParameterStore store;
    private final List<Layer> plan = new ArrayList<>();

    /** One conv of the stack: its index in {@code main}, widths, stride, and whether a BatchNorm follows. */
    private record Layer(int index, int in, int out, int stride, boolean norm, boolean act) {}

    /**
     * Declares the discriminator's parameters in {@code store} (trainable) and its running statistics (buffers),
     * initialised as taming's {@code weights_init}: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02) and biases
     * 0; conv biases as PyTorch's default, U(±1/√fan_in).
     */
    public PatchDiscriminator(String prefix, int ndf, int layers, ParameterStore store, Rng rng) {
        if (ndf < 1 || layers < 1) {
            throw new IllegalArgumentException("the discriminator needs ndf ≥ 1 and layers ≥ 1");
        }
        this.prefix = prefix;
        this.ndf = ndf;
        this.layers = layers;
        this.store = store;
        int index = 0;
        plan.add(new Layer(index, 3, ndf, 2, false, true));
        index += 2;
        int mult = 1;
        for (int n = 1; n <= layers; n++) {
            int prev = mult;
            mult = Math.min(1 << n, 8);
            boolean last = n == layers;
            plan.add(new Layer(index, ndf * prev, ndf * mult, last ? 1 : 2, true, true));
            index += 3;
        }
        plan.add(new Layer(index, ndf * mult, 1, 1, false, false));
        NDManager m = store.manager();
        for (Layer l : plan) {
            String conv = name(l.index());
            float[] w = new float[l.out() * l.in() * 16];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (0.02 * rng.nextGaussian());
            }
            store.add(conv + ".weight", m.create(w, new Shape(l.out(), l.in(), 4, 4)), true);
            if (!l.norm()) {
                float[] b = new float[l.out()];
                double bound = 1 / Math.sqrt(l.in() * 16.0);
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) rng.uniform(-bound, bound);
                }
                store.add(conv + ".bias", m.create(b, new Shape(l.out())), true);
            } else {
                String bn = name(l.index() + 1);
                float[] g = new float[l.out()];
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) (1 + 0.02 * rng.nextGaussian());
                }
                store.add(bn + ".weight", m.create(g, new Shape(l.out())), true);
                store.add(bn + ".bias", m.zeros(new Shape(l.out())), true);
                store.addBuffer(bn + ".running_mean", m.zeros(new Shape(l.out())));
                store.addBuffer(bn + ".running_var", m.ones(new Shape(l.out())));
            }
        }
    }

    private String name(int index) {
        return prefix + ".main." + index;
    }

    /** The names of the discriminator's trainable parameters, in state-dict order. */
    public List<String> parameters() {
        List<String> names = new ArrayList<>();
        for (String n : store.trainable()) {
            if (n.startsWith(prefix + ".main.")) {
                names.add(n);
            }
        }
        return names;
    }

    public int ndf() {
        return ndf;
    }

    public int layers() {
        return layers;
    }

    /**
     * Patch logits (B, 1, h, w) of images in [−1, 1].
     *
     * @param training BatchNorm on batch statistics, updating the running ones (as in LDM's training steps), or on
     *     the running statistics
     */
    public NDArray forward(NDArray x, boolean training) {
        NDArray h = x;
        for (Layer l : plan) {
            String conv = name(l.index());
            NDArray bias = l.norm() ? null : store.get(conv + ".bias");
            h = Convolution.conv2d(h, store.get(conv + ".weight"), bias, l.stride(), 1, 1, 1);
            if (l.norm()) {
                String bn = name(l.index() + 1);
                // DJL hands libtorch 1 − momentum: 0.9 here is nn.BatchNorm2d's momentum 0.1
                h = BatchNorm.batchNorm(h, store.get(bn + ".running_mean"), store.get(bn + ".running_var"),
                        store.get(bn + ".weight"), store.get(bn + ".bias"), 1, 0.9f, 1e-5f, training)
                        .singletonOrThrow();
            }
            if (l.act()) {
                h = Activation.leakyRelu(h, 0.2f);
            }
        }
        return h;
    }
}
