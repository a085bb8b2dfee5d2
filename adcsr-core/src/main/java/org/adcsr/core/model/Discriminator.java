package org.adcsr.core.model;

import java.util.List;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.sd.SdConfig;

/**
 * AdcSR's Stage-2 discriminator (ADCSR.md §7): a copy of the SD UNet whose {@code conv_in} reads the student's
 * features instead of a latent, with PEFT LoRA in three adapters ({@link LoraOps#officialAdapters}), run at t = 999
 * with the text embedding; its output, the ε map, is read as per-pixel logits. Trainable: the LoRA parameters and
 * {@code conv_in}.
 */
public final class Discriminator {
    /** The official LoRA rank. */
    public static final int RANK = 4;
    /** The timestep D always sees. */
    public static final int TIMESTEP = 999;

    private Discriminator() {
    }

    /** The decorator that gives {@code base} the official adapters (PEFT parameter names, base layers plain). */
    public static <T> LoraOps<T> ops(Ops<T> base, int rank, double alpha) {
        return new LoraOps<>(base, LoraOps.officialAdapters(rank, alpha), false);
    }

    /** D's logits {@code [B, latent, H, W]} for features {@code [B, C, H, W]}; {@code o} is {@link #ops} over an engine. */
    public static <T> T forward(Ops<T> o, SdConfig c, T features, T timestepFeatures, T context) {
        return SdUnet.forward(o, c, features, timestepFeatures, context);
    }

    /**
     * The widened {@code conv_in} weight of train.py: the SD weight {@code [out, in, k, k]} repeated
     * {@code inChannels / in} times along the input axis and divided by that count (so a feature map made of
     * copies of a latent gives the SD conv's output); the bias stays the SD bias.
     */
    public static float[] widenConvIn(float[] weight, long[] shape, int inChannels) {
        int out = (int) shape[0];
        int in = (int) shape[1];
        int kk = (int) (shape[2] * shape[3]);
        if (inChannels % in != 0) {
            throw new IllegalArgumentException("conv_in: " + inChannels + " channels is not a multiple of " + in);
        }
        int repeat = inChannels / in;
        float[] w = new float[out * inChannels * kk];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < inChannels; i++) {
                for (int k = 0; k < kk; k++) {
                    w[(o * inChannels + i) * kk + k] = weight[(o * in + i % in) * kk + k] / repeat;
                }
            }
        }
        return w;
    }

    /** D's parameters for features of {@code inChannels} channels, in forward order (LoRA after each base layer). */
    public static List<TensorInfo> parameters(SdConfig c, int inChannels, int rank, double alpha) {
        return SdUnet.parameters(ops(new ShapeOps(), rank, alpha), c, inChannels);
    }

    /** Trainable in D: names containing {@code lora} or {@code conv_in} (train.py). */
    public static boolean isTrainable(String name) {
        return name.contains("lora") || name.contains("conv_in");
    }
}
