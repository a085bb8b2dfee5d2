package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.adcsr.core.Rng;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.ShapeOps;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.engine.Scalars;

/**
 * Stage 1's autoencoder (spec ADCSR.md §6): the SD VAE encoder's posterior, {@code post_quant_conv}, and AdcSR's
 * half decoder from its {@code conv_in} ({@code decoder.conv_in → mid block → up blocks → conv_norm_out → SiLU}),
 * stopping before {@code conv_out}, which {@link AutoencoderLoss} applies. Parameters are the diffusers keys:
 * {@code encoder.*}, {@code quant_conv.*}, {@code post_quant_conv.*}, {@code decoder.*}.
 */
public final class Stage1 {
    public static final String POST_QUANT_CONV = "post_quant_conv";

    private Stage1() {}

    /** The posterior's latent and its KL divergence per sample ([B]). */
    public record Posterior(NDArray z, NDArray kl) {}

    /**
     * LDM's {@code DiagonalGaussianDistribution} of the encoder's moments: mean and log-variance (clamped to
     * [−30, 20]); z is a sample {@code mean + exp(logvar/2)·ε} with ε from {@code rng} (LDM trains on samples), or
     * the mean; {@code KL = ½ Σ (mean² + var − 1 − logvar)} over C, H, W.
     */
    public static Posterior posterior(NDArray moments, boolean sample, Rng rng) {
        NDList halves = moments.split(2, 1);
        NDArray mean = halves.get(0);
        NDArray logvar = halves.get(1).clip(-30, 20);
        NDArray z = mean;
        if (sample) {
            Shape s = mean.getShape();
            float[] eps = new float[Math.toIntExact(s.size())];
            for (int i = 0; i < eps.length; i++) {
                eps[i] = (float) rng.nextGaussian();
            }
            // an owned copy: autograd keeps eps for the backward pass, after the array made from Java memory is gone
            NDArray noise = Scalars.owned(mean.getManager().create(eps, s), mean.getDataType());
            z = mean.add(Scalars.mul(logvar, 0.5).exp().mul(noise));
        }
        NDArray kl = Scalars.mul(mean.square().add(logvar.exp()).sub(1).sub(logvar).sum(new int[] {1, 2, 3}), 0.5);
        return new Posterior(z, kl);
    }

    /** {@code post_quant_conv(z)} → decoder {@code conv_in} → mid block → {@link AdcsrNetwork#decoderFeatures}. */
    public static NDArray decoderFeatures(DjlOps o, AdcsrConfig c, int latent, NDArray z) {
        NDArray h = o.conv2d(z, POST_QUANT_CONV, latent, 1, 1, 0);
        return AdcsrNetwork.decoderFeatures(o, c, AdcsrNetwork.decoderMid(o, c, AdcsrNetwork.decoderConvIn(o, c, h)));
    }

    /**
     * Every parameter of the Stage-1 autoencoder, in forward order: encoder and {@code quant_conv}, then
     * {@code post_quant_conv}, then the decoder from {@code conv_in} to {@code conv_out}.
     */
    public static List<TensorInfo> parameters(VaeEncoder.Config encoder, AdcsrConfig decoder) {
        ShapeOps s = new ShapeOps();
        int scale = 1 << (encoder.blockOutChannels().length - 1);
        long[] moments = VaeEncoder.forward(s, encoder, new long[] {1, 3, 4L * scale, 4L * scale});
        int latent = encoder.latentChannels();
        long[] h = s.conv2d(new long[] {1, latent, moments[2], moments[3]}, POST_QUANT_CONV, latent, 1, 1, 0);
        h = AdcsrNetwork.decoderMid(s, decoder, AdcsrNetwork.decoderConvIn(s, decoder, h));
        AdcsrNetwork.decoderUp(s, decoder, h);
        return s.parameters();
    }

    /**
     * PyTorch's default initialisation, seeded: conv and linear weights and biases U(±1/√fan_in) (what
     * {@code kaiming_uniform_(a=√5)} gives), norm weights 1 and biases 0.
     */
    public static void initialise(ParameterStore store, List<TensorInfo> params, Rng rng, boolean trainable) {
        NDManager m = store.manager();
        java.util.Map<String, TensorInfo> byName = new java.util.HashMap<>();
        params.forEach(t -> byName.put(t.name(), t));
        for (TensorInfo t : params) {
            store.add(t.name(), m.create(defaultInit(t, byName, rng), new Shape(t.shape())), trainable);
        }
    }

    /**
     * One tensor of PyTorch's default initialisation ({@link #initialise}): norm weights 1 and biases 0, other
     * weights and biases U(±1/√fan_in) with the fan-in of the module's weight, found in {@code byName}.
     */
    public static float[] defaultInit(TensorInfo t, java.util.Map<String, TensorInfo> byName, Rng rng) {
        float[] v = new float[Math.toIntExact(t.numel())];
        if (t.name().contains("norm")) {
            java.util.Arrays.fill(v, t.name().endsWith(".weight") ? 1f : 0f);
            return v;
        }
        String weight = t.name().endsWith(".bias")
                ? t.name().substring(0, t.name().length() - "bias".length()) + "weight" : t.name();
        long[] ws = byName.get(weight).shape();
        long fanIn = 1;
        for (int i = 1; i < ws.length; i++) {
            fanIn *= ws[i];
        }
        double bound = 1 / Math.sqrt(fanIn);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.uniform(-bound, bound);
        }
        return v;
    }
}
