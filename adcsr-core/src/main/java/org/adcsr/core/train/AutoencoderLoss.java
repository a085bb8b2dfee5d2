package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.engine.Scalars;

/**
 * LDM's {@code LPIPSWithDiscriminator} (CompVis {@code ldm/modules/losses/contperceptual.py}), the loss of the
 * autoencoder recipe that AdcSR's Stage 1 follows (spec ADCSR.md §6), with logvar fixed at 0 (it is in no optimizer):
 * <pre>
 *   rec   = |x − x̂| + w_p·LPIPS(x, x̂)                 (LPIPS [B] added to every pixel)
 *   nll   = Σ rec / B
 *   g     = −mean D(x̂)
 *   d_w   = clamp(‖∇_W nll‖ / (‖∇_W g‖ + 1e−4), 0, 1e4) · disc_weight     (W = decoder conv_out.weight, detached)
 *   f     = disc_factor if step ≥ disc_start else 0
 *   loss  = nll + kl_weight · Σ KL / B + d_w · f · g
 *   D loss = f · ½ (mean relu(1 − D(x)) + mean relu(1 + D(x̂)))   (hinge)
 * </pre>
 * The two gradients of the adaptive weight are taken as LDM takes them with {@code torch.autograd.grad}, without a
 * second pass through the decoder: the loss heads (LPIPS, D) run on a detached copy of x̂, their gradients with
 * respect to x̂ are pulled back through {@code conv_out} alone to give ∇_W, and their weighted sum is then
 * back-propagated once into the decoder (and the encoder's KL term).
 *
 * <p>One difference from LDM, by design: LDM recomputes the autoencoder's forward (with a new posterior sample) for
 * the discriminator's step; here the discriminator sees the x̂ of the generator's step, detached.
 */
public final class AutoencoderLoss {
    /** The recipe's knobs; {@link #ldm()} is the paper's. */
    public record Settings(double perceptualWeight, double klWeight, double discWeight, double discFactor,
            long discStart) {
        /** L1 1, LPIPS 1, kl_weight 1e-6, disc_weight 0.5, disc_factor 1, disc_start 50001 (LDM's yamls). */
        public static Settings ldm() {
            return new Settings(1.0, 1e-6, 0.5, 1.0, 50001);
        }
    }

    /** A perceptual distance per sample, [B], of two batches of images in [−1, 1]; differentiable in both. */
    @FunctionalInterface
    public interface Perceptual {
        NDArray distance(NDArray x, NDArray y);
    }

    /** What one generator step measured, for train.csv. */
    public record Terms(double rec, double nll, double kl, double g, double discWeight, double discFactor,
            double total) {}

    private final Settings settings;
    private final Perceptual perceptual;
    private final PatchDiscriminator disc;

    /** @param perceptual LPIPS, or {@code null} for none (then w_p is ignored) */
    public AutoencoderLoss(Settings settings, Perceptual perceptual, PatchDiscriminator disc) {
        this.settings = settings;
        this.perceptual = perceptual;
        this.disc = disc;
    }

    /** LDM's {@code adopt_weight}: the discriminator factor at a global step (0-based count of steps done). */
    public double discFactor(long globalStep) {
        return globalStep < settings.discStart() ? 0 : settings.discFactor();
    }

    /**
     * The generator (autoencoder) step's forward and backward, inside the caller's open GradientCollector:
     * x̂ = conv_out(h), the loss terms, the adaptive weight, and one backward pass of the total into everything
     * {@code h} and {@code kl} depend on, plus {@code w} and {@code b}. The discriminator's parameters get gradients
     * too (from g): the caller zeroes them before the discriminator's step, as Lightning's optimizer toggling does.
     *
     * @param x the input images in [−1, 1], (B, 3, H, W)
     * @param h the decoder's activation entering {@code conv_out} (after its norm and SiLU), recorded by autograd
     * @param w {@code conv_out.weight} (3×3, padding 1), the adaptive weight's W
     * @param b {@code conv_out.bias}
     * @param kl the posterior's KL per sample, [B], or {@code null} with a frozen encoder (a constant in LDM)
     * @param globalStep steps done before this one
     * @return the terms, and x̂ (detached) for the discriminator's step in {@code out[0]}
     */
    public Terms generatorStep(NDArray x, NDArray h, NDArray w, NDArray b, NDArray kl, long globalStep,
            NDArray[] out) {
        long batch = x.getShape().get(0);
        NDArray xhat = Convolution.conv2d(h, w, b, 1, 1);
        NDArray xd = xhat.stopGradient();
        xd.setRequiresGradient(true);
        NDArray rec = x.sub(xd).abs();
        if (perceptual != null && settings.perceptualWeight() != 0) {
            NDArray p = perceptual.distance(x, xd).reshape(batch, 1, 1, 1);
            rec = rec.add(Scalars.mul(p, settings.perceptualWeight()));
        }
        NDArray nll = Scalars.div(rec.sum(), batch);
        NDArray g = disc.forward(xd, true).mean().neg();
        NDArray ones = nll.onesLike();
        Autograd.backward(nll, ones, true);
        NDArray gradNll = xd.getGradient().duplicate();
        Gradients.zero(xd);
        Autograd.backward(g, ones, false);
        NDArray gradG = xd.getGradient().duplicate();
        double dw = adaptiveWeight(h, w, gradNll, gradG);
        double f = discFactor(globalStep);
        // d total / d x̂ = d nll / d x̂ + d_w·f · d g / d x̂; then one pass back through conv_out and the decoder
        NDArray gradTotal = dw * f == 0 ? gradNll : gradNll.add(Scalars.mul(gradG, dw * f));
        NDArray surrogate = xhat.mul(gradTotal).sum();
        double klMean = 0;
        if (kl != null) {
            NDArray klLoss = Scalars.div(kl.sum(), batch);
            klMean = klLoss.toType(DataType.FLOAT64, false).getDouble();
            surrogate = surrogate.add(Scalars.mul(klLoss, settings.klWeight()));
        }
        Autograd.backward(surrogate, surrogate.onesLike(), false);
        double nllValue = nll.toType(DataType.FLOAT64, false).getDouble();
        double gValue = g.toType(DataType.FLOAT64, false).getDouble();
        out[0] = xd.stopGradient();
        return new Terms(rec.mean().toType(DataType.FLOAT64, false).getDouble(), nllValue, klMean, gValue, dw, f,
                nllValue + settings.klWeight() * klMean + dw * f * gValue);
    }

    /**
     * d_w from the gradients of nll and g with respect to x̂: each pulled back through {@code conv_out} to W alone
     * (a convolution of the detached activation with a fresh leaf copy of W), then LDM's ratio of norms.
     */
    double adaptiveWeight(NDArray h, NDArray w, NDArray gradNll, NDArray gradG) {
        NDArray wl;
        try (NDArray detached = w.stopGradient()) {
            wl = detached.duplicate();
        }
        wl.attach(h.getManager()); // a step's array, not the parameters' (their manager lives as long as the run)
        wl.setRequiresGradient(true);
        NDArray y = Convolution.conv2d(h.stopGradient(), wl, null, 1, 1);
        Autograd.backward(y, gradNll, true);
        NDArray nllGrads = wl.getGradient().duplicate();
        Gradients.zero(wl);
        Autograd.backward(y, gradG, false);
        NDArray gGrads = wl.getGradient();
        double ratio = nllGrads.norm().toType(DataType.FLOAT64, false).getDouble()
                / (gGrads.norm().toType(DataType.FLOAT64, false).getDouble() + 1e-4);
        return Math.min(1e4, Math.max(0, ratio)) * settings.discWeight();
    }

    /**
     * The discriminator's step inside the caller's open GradientCollector: hinge loss on D(x) and D(x̂) (both
     * detached; BatchNorm in training mode, so the running statistics move twice, as in LDM), back-propagated
     * into the discriminator. Returns {d loss, mean D(x), mean D(x̂)}.
     */
    public double[] discriminatorStep(NDArray x, NDArray xhatDetached, long globalStep) {
        NDArray real = disc.forward(x.stopGradient(), true);
        NDArray fake = disc.forward(xhatDetached.stopGradient(), true);
        double f = discFactor(globalStep);
        NDArray lossReal = Activation.relu(real.neg().add(1)).mean();
        NDArray lossFake = Activation.relu(fake.add(1)).mean();
        NDArray d = Scalars.mul(lossReal.add(lossFake), 0.5 * f);
        Autograd.backward(d, d.onesLike(), false);
        return new double[] {d.toType(DataType.FLOAT64, false).getDouble(),
            real.mean().toType(DataType.FLOAT64, false).getDouble(),
            fake.mean().toType(DataType.FLOAT64, false).getDouble()};
    }
}
