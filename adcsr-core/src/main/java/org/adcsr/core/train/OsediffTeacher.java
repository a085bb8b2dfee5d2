package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.adcsr.core.engine.Scalars;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.SdUnet;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdInputs;
import org.adcsr.core.sd.Stage2Weights;
import org.adcsr.core.upscale.Resample;

/**
 * The OSEDiff teacher of Stage 2 (ADCSR.md §7), from the merged {@code osediff.pkl}, frozen:
 * <pre>
 *   z  = E_T(bicubic×4(LR)).mean · 0.18215          torch's bicubic (A = −0.75, align_corners False), no clamp
 *   ε  = UNet_T(z, t = 999, text embedding)
 *   z0 = (z − √(1−ᾱ₉₉₉)·ε) / √ᾱ₉₉₉
 *   f_teacher = dec.mid_block(dec.conv_in(post_quant_conv_T(z0 / 0.18215)))   with the frozen Stage-1 decoder
 * </pre>
 */
public final class OsediffTeacher {
    /** SD's latent scaling factor ({@code vae.config.scaling_factor}). */
    public static final double SCALING = 0.18215;
    /** ᾱ at t = 999 of SD's scaled-linear schedule ({@link #alphaBar}). */
    public static final double ALPHA_BAR_999 = alphaBar(999);

    private final SdConfig config;
    private final DjlOps unet;
    private final DjlOps vae;

    private OsediffTeacher(SdConfig config, Map<String, NDArray> unet, Map<String, NDArray> vae) {
        this.config = config;
        this.unet = new DjlOps(unet::get);
        this.vae = new DjlOps(vae::get);
    }

    /** Reads the teacher's UNet and VAE encoder (with {@code post_quant_conv}) from {@code osediff.pkl}. */
    public static OsediffTeacher open(Path file, SdConfig c, NDManager m) {
        try (SdInputs in = SdInputs.openOsediff(file, c)) {
            return new OsediffTeacher(c, Stage2Weights.unet(in, c, m), Stage2Weights.vaeEncoder(in, c, m));
        }
    }

    /**
     * ᾱ_t of SD's schedule: β = linspace(√0.00085, √0.012, 1000)², ᾱ_t = Π_{s≤t} (1 − β_s), in double (ADCSR.md
     * §7: 0.0046600985 at t = 999; float32 products differ by about 2e-6 relative).
     */
    public static double alphaBar(int t) {
        double lo = Math.sqrt(0.00085);
        double hi = Math.sqrt(0.012);
        double a = 1;
        for (int s = 0; s <= t; s++) {
            double b = lo + (hi - lo) * s / 999.0;
            a *= 1 - b * b;
        }
        return a;
    }

    /**
     * The teacher's features of a batch of LR images in [−1, 1] ({@code lr} as planes, {@code shape} [B, 3, h, w]),
     * through the frozen decoder of {@code nets}.
     */
    public NDArray features(Stage2.Nets nets, float[] lr, Shape shape, NDArray context) {
        int b = (int) shape.get(0);
        int h = (int) shape.get(2);
        int w = (int) shape.get(3);
        int plane = h * w;
        float[] up = new float[b * 3 * 16 * plane];
        for (int p = 0; p < b * 3; p++) {
            float[] src = Arrays.copyOfRange(lr, p * plane, (p + 1) * plane);
            System.arraycopy(Resample.bicubicTorch(src, w, h, 4 * w, 4 * h), 0, up, p * 16 * plane, 16 * plane);
        }
        NDManager m = context.getManager();
        NDArray x = m.create(up, new Shape(b, 3, 4L * h, 4L * w)).toType(context.getDataType(), false);
        int latent = config.latentChannels();
        NDArray moments = org.adcsr.core.model.VaeEncoder.forward(vae, Stage2Weights.encoderConfig(config), x);
        NDArray z = Scalars.mul(moments.get(":, 0:" + latent), SCALING);
        double[] t = new double[b];
        Arrays.fill(t, Discriminator.TIMESTEP);
        int dim = config.unetWidths()[0];
        NDArray tf = Scalars.owned(m.create(SdUnet.timestepFeatures(t, dim), new Shape(b, dim)), z.getDataType());
        NDArray eps = SdUnet.forward(unet, config, z, tf, context);
        NDArray z0 = Scalars.div(z.sub(Scalars.mul(eps, Math.sqrt(1 - ALPHA_BAR_999))), Math.sqrt(ALPHA_BAR_999));
        NDArray hq = vae.conv2d(Scalars.div(z0, SCALING), Stage1.POST_QUANT_CONV, latent, 1, 1, 0);
        return AdcsrNetwork.decoderMid(nets.frozen(), nets.config(),
                AdcsrNetwork.decoderConvIn(nets.frozen(), nets.config(), hq)).toType(DataType.FLOAT32, false);
    }
}
