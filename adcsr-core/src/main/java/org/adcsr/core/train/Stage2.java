package org.adcsr.core.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.Ops;
import org.adcsr.core.model.SdUnet;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.upscale.ColorCorrection;
import org.adcsr.core.upscale.Resample;

/**
 * Stage 2 of AdcSR (ADCSR.md §7): adversarial feature distillation. The student (pruned UNet, connector, trainable
 * copy of the decoder mid block) maps LR to features {@code f_s}; the target {@code f_t} is the teacher's (or, with
 * the {@code gt} teacher, {@code f_GT}); a LoRA discriminator on the SD UNet tells {@code f_s} from real features.
 * <pre>
 *   f_GT = dec.mid_block(dec.conv_in(post_quant_conv(E(HR).mean)))        frozen encoder and decoder, latent unscaled
 *   L_G  = mean|f_s − f_t| + λ·mean softplus(−D(f_s))                      student step
 *        [+ λ_pix·mean|dec.up(f_s) − HR|]                                   an extension, not the paper's (below)
 *        (or λ_pix·mean(dec.up(f_s) − HR)², the squared error PSNR measures)
 *        [+ λ_ssim·(1 − SSIM_Y(dec.up(f_s), HR))]                           with the pixel term only
 *   L_D  = mean softplus(D(f_s.detach())) + mean softplus(−D(f_real))      discriminator step, f_real = f_GT
 * </pre>
 * D runs at t = 999 on the text embedding; its output (the ε map) holds per-pixel logits.
 * <p>The paper's Stage 2 has no pixel loss and never trains the decoder's up blocks. With {@code λ_pix > 0}
 * (adcsr-distill {@code --lambda-pixel}) an L1 term on the output image is added and the up blocks,
 * {@code conv_norm_out} and {@code conv_out} join the student: for a Stage-1 autoencoder too short-trained to render
 * {@code f_GT} faithfully (the default model's), so that the output, not only the features, is fitted to HR.
 */
public final class Stage2 {
    private Stage2() {
    }

    /**
     * The networks of one run.
     *
     * @param frozen the frozen encoder ({@code encoder.*}, {@code quant_conv}, {@code post_quant_conv}) and the
     *     frozen Stage-1 decoder ({@code decoder.*})
     * @param student the trainable student ({@code unet.*}, {@code decoder.mid_block.*})
     * @param disc D's ops (LoRA over the engine, or the engine alone for the full fine-tune)
     */
    public record Nets(AdcsrConfig config, VaeEncoder.Config encoder, Ops<NDArray> frozen, Ops<NDArray> student,
            SdConfig discConfig, Ops<NDArray> disc) {}

    /** The loss terms of one iteration, as train.py logs them ({@code distil}, {@code adv}, {@code D}). */
    public record Terms(double distil, double adv, double pixel, double ssim, double loss, double d,
            double logitsReal, double logitsFake) {}

    /** {@code f_GT}: the frozen decoder's mid block on {@code post_quant_conv} of the encoder's posterior mean. */
    public static NDArray groundTruthFeatures(Nets n, NDArray hr) {
        NDArray moments = VaeEncoder.forward(n.frozen(), n.encoder(), hr);
        int latent = n.encoder().latentChannels();
        NDArray mean = moments.get(":, 0:" + latent);
        NDArray h = n.frozen().conv2d(mean, Stage1.POST_QUANT_CONV, latent, 1, 1, 0);
        return AdcsrNetwork.decoderMid(n.frozen(), n.config(), AdcsrNetwork.decoderConvIn(n.frozen(), n.config(), h));
    }

    /** {@code f_s}: the student's features of LR in [−1, 1]. */
    public static NDArray studentFeatures(Nets n, NDArray lr) {
        return AdcsrNetwork.student(n.student(), n.config(), lr);
    }

    /** The output image in [−1, 1]: the decoder's up blocks, {@code conv_norm_out} and {@code conv_out} on {@code f}. */
    public static NDArray render(Nets n, NDArray f) {
        return AdcsrNetwork.decoderUp(n.student(), n.config(), f);
    }

    /** D's logits for features, at t = 999 with the text embedding {@code context} {@code [B, M, D]}. */
    public static NDArray discriminate(Nets n, NDArray f, NDArray context) {
        long b = f.getShape().get(0);
        int dim = n.discConfig().unetWidths()[0];
        double[] t = new double[(int) b];
        java.util.Arrays.fill(t, Discriminator.TIMESTEP);
        NDArray tf = Scalars.owned(f.getManager().create(SdUnet.timestepFeatures(t, dim), new Shape(b, dim)),
                f.getDataType());
        return Discriminator.forward(n.disc(), n.discConfig(), f, tf, context);
    }

    /** {@code softplus(x) = log(1 + e^x)}, as {@code max(x, 0) + log(1 + e^−|x|)} (no overflow). */
    public static NDArray softplus(NDArray x) {
        NDArray e = x.abs().neg().exp();
        return Activation.relu(x).add(e.add(e.onesLike()).log());
    }

    /**
     * One iteration as train.py runs it: the student step (gradients of {@code L_G}; the student's optimizer steps),
     * then D's step on the detached student features ({@code L_D}; D's optimizer steps). D's gradients from the
     * student step are discarded first, as D's {@code zero_grad} does.
     *
     * @param step the 1-based step, for messages
     * @param fTeacher the target features (no gradient)
     * @param fReal the "real" features D learns to accept (f_GT; the teacher's with {@code --adv-real teacher})
     * @param pixelTerm the pixel term's target and view of the output (null when {@code lambdaPixel} is 0)
     * @param lambdaPixel the pixel term's weight; when above 0 the student's ops must hold the up blocks
     * @param lambdaSsim the weight of {@code 1 − SSIM} (Y) of the output as the pixel term sees it against HR
     *     ({@link PixelTerm#ssimLoss}); 0: none. Only with {@code lambdaPixel} above 0
     * @param guard checks the terms and gradients before each optimizer step (the NaN guard)
     */
    public static Terms iteration(Nets n, ParameterStore store, Adam student, Adam disc, double lrStudent,
            double lrDisc, NDArray lr, NDArray fTeacher, NDArray fReal, NDArray context, double lambdaAdv,
            PixelTerm pixelTerm, double lambdaPixel, double lambdaSsim, long step, Guard guard) {
        store.zeroGradients();
        NDArray fs;
        double distil;
        double adv;
        double pixel = Double.NaN;
        double ssim = Double.NaN;
        double loss;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            fs = studentFeatures(n, lr);
            NDArray lDistil = fs.sub(fTeacher).abs().mean();
            NDArray lAdv = softplus(discriminate(n, fs, context).neg()).mean();
            NDArray l = lDistil.add(Scalars.mul(lAdv, lambdaAdv));
            if (lambdaPixel > 0) {
                NDArray sr = render(n, fs);
                NDArray lPixel = pixelTerm.loss(sr);
                pixel = lPixel.toType(DataType.FLOAT64, false).getDouble();
                l = l.add(Scalars.mul(lPixel, lambdaPixel));
                if (lambdaSsim > 0) {
                    NDArray lSsim = pixelTerm.ssimLoss(sr);
                    ssim = lSsim.toType(DataType.FLOAT64, false).getDouble();
                    l = l.add(Scalars.mul(lSsim, lambdaSsim));
                }
            }
            distil = lDistil.toType(DataType.FLOAT64, false).getDouble();
            adv = lAdv.toType(DataType.FLOAT64, false).getDouble();
            loss = l.toType(DataType.FLOAT64, false).getDouble();
            Autograd.backward(gc, l);
        }
        boolean gOk = guard.check(step, new String[] {"distil", "adv", "pixel", "ssim"},
                new double[] {distil, adv, lambdaPixel > 0 ? pixel : 0, lambdaSsim > 0 ? ssim : 0},
                student.parameters());
        if (gOk) {
            student.step(lrStudent);
        }
        for (String p : disc.parameters()) {
            Gradients.zero(store.get(p));
        }
        NDArray fake = fs.stopGradient();
        // L_D's two terms back-propagated one after the other (D's gradients add up): the same gradients as one
        // backward pass through both, with one of D's activation sets alive at a time instead of two
        double real;
        double fakeMean;
        double dReal;
        double dFake;
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray pReal = discriminate(n, fReal, context);
            NDArray lReal = softplus(pReal.neg()).mean();
            dReal = lReal.toType(DataType.FLOAT64, false).getDouble();
            real = pReal.mean().toType(DataType.FLOAT64, false).getDouble();
            Autograd.backward(gc, lReal);
        }
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray pFake = discriminate(n, fake, context);
            NDArray lFake = softplus(pFake).mean();
            dFake = lFake.toType(DataType.FLOAT64, false).getDouble();
            fakeMean = pFake.mean().toType(DataType.FLOAT64, false).getDouble();
            Autograd.backward(gc, lFake);
        }
        double d = dFake + dReal;
        if (guard.check(step, new String[] {"D"}, new double[] {d}, disc.parameters())) {
            disc.step(lrDisc);
        }
        return new Terms(distil, adv, pixel, ssim, loss, d, real, fakeMean);
    }

    /**
     * The pixel term's two sides, {@code mean |view(SR) − target|}. Without a colour fix: SR against HR. With the
     * wavelet fix: what {@code adcsr-upscale --color-fix wavelet} makes of SR against HR, that is SR's high
     * frequencies {@code SR − L(SR)} against {@code HR − L(up(LR))}, where {@code up} is the fix's bicubic ×4 and
     * {@code L} its low frequencies ({@link ColorCorrection#lowFrequencies}), here {@code M_h · X · M_wᵀ}. The output's
     * own low frequencies, which the fix replaces, are then not trained by this term.
     *
     * @param target {@code [B, 3, H, W]}
     * @param lowRows {@code M_h} {@code [H, H]}, or null without a fix
     * @param lowColumnsT {@code M_wᵀ} {@code [W, W]}, or null without a fix
     * @param squared the mean squared error instead of the mean absolute one
     * @param hr HR itself (the target without a fix)
     */
    public record PixelTerm(NDArray target, NDArray lowRows, NDArray lowColumnsT, boolean squared, NDArray hr) {
        /**
         * The term for a batch of pairs in [−1, 1], planar {@code [B, 3, h, w]} and {@code [B, 3, 4h, 4w]}, with
         * {@code fix} {@link ColorCorrection#NONE} or {@link ColorCorrection#WAVELET}; arrays in {@code m}.
         */
        public static PixelTerm of(ColorCorrection fix, NDManager m, float[] lr, float[] hr, int batch, int h, int w) {
            int hh = 4 * h;
            int ww = 4 * w;
            Shape shape = new Shape(batch, 3, hh, ww);
            if (fix == ColorCorrection.NONE) {
                NDArray target = Scalars.owned(m.create(hr, shape), DataType.FLOAT32);
                return new PixelTerm(target, null, null, false, target);
            }
            if (fix != ColorCorrection.WAVELET) {
                throw new IllegalArgumentException("no pixel term after the " + fix + " colour fix");
            }
            float[] target = new float[hr.length];
            float[] plane = new float[h * w];
            float[] tmp = new float[hh * ww];
            for (int p = 0; p < batch * 3; p++) {
                System.arraycopy(lr, p * h * w, plane, 0, h * w);
                float[] low = Resample.bicubic(plane, w, h, ww, hh);
                ColorCorrection.lowFrequencies(low, tmp, ww, hh);
                int o = p * hh * ww;
                for (int i = 0; i < low.length; i++) {
                    target[o + i] = hr[o + i] - low[i];
                }
            }
            NDArray rows = Scalars.owned(m.create(ColorCorrection.lowFrequencyMatrix(hh), new Shape(hh, hh)),
                    DataType.FLOAT32);
            NDArray columns = Scalars.owned(m.create(ColorCorrection.lowFrequencyMatrix(ww), new Shape(ww, ww))
                    .transpose(), DataType.FLOAT32);
            return new PixelTerm(Scalars.owned(m.create(target, shape), DataType.FLOAT32), rows, columns, false,
                    Scalars.owned(m.create(hr, shape), DataType.FLOAT32));
        }

        /** The same term as a mean squared error {@code mean (view(SR) − target)²} (squared) or absolute one. */
        public PixelTerm squared(boolean squared) {
            return new PixelTerm(target, lowRows, lowColumnsT, squared, hr);
        }

        /** {@code 1 − SSIM} on Y ({@link SsimTerm}) of SR as the term sees it ({@link #fixed}) against HR. */
        public NDArray ssimLoss(NDArray sr) {
            NDArray h = hr.toType(sr.getDataType(), false);
            return SsimTerm.loss(fixed(sr, h), h);
        }

        /** The term, {@code mean |view(SR) − target|}, or {@code mean (view(SR) − target)²} when squared. */
        public NDArray loss(NDArray sr) {
            NDArray d = view(sr).sub(target.toType(sr.getDataType(), false));
            return (squared ? d.square() : d.abs()).mean();
        }

        /** SR after the fix ({@code SR − L(SR) + L(up(LR))}, as {@code view(SR) − target + HR}), or SR itself. */
        public NDArray fixed(NDArray sr, NDArray hr) {
            return lowRows == null ? sr : view(sr).sub(target.toType(sr.getDataType(), false)).add(hr);
        }

        /** SR as the term compares it: itself, or its high frequencies {@code SR − M_h · SR · M_wᵀ}. */
        public NDArray view(NDArray sr) {
            if (lowRows == null) {
                return sr;
            }
            NDArray rows = lowRows.toType(sr.getDataType(), false);
            NDArray columns = lowColumnsT.toType(sr.getDataType(), false);
            return sr.sub(rows.matMul(sr.matMul(columns)));
        }
    }

    /** Decides what a non-finite loss term or gradient does before an optimizer step. */
    public interface Guard {
        /** True to apply the optimizer step; false to skip it; or throws {@link TrainingDivergedException}. */
        boolean check(long step, String[] names, double[] values, List<String> params);
    }

    /** The batch's text embedding: rows {@code indices} of {@code [N, M, D]} embeddings (N = 1: the same row). */
    public static NDArray context(NDManager m, float[] embeddings, long[] shape, int[] indices) {
        int row = (int) (shape[1] * shape[2]);
        float[] out = new float[indices.length * row];
        for (int j = 0; j < indices.length; j++) {
            int src = shape[0] == 1 ? 0 : indices[j];
            System.arraycopy(embeddings, src * row, out, j * row, row);
        }
        return Scalars.owned(m.create(out, new Shape(indices.length, shape[1], shape[2])), DataType.FLOAT32);
    }
}
