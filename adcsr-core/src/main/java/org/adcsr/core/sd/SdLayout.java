package org.adcsr.core.sd;

import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.SdUnet;

/**
 * The tensors of an SD UNet ({@code UNet2DConditionModel}) and VAE ({@code AutoencoderKL}) in diffusers names, with
 * shapes, in module order (the order of {@code ../shared/reference/sd21_unet_keys.txt} and {@code sd_vae_keys.txt}),
 * derived from the module definitions.
 */
public final class SdLayout {
    private final List<TensorInfo> out = new ArrayList<>();

    private SdLayout() {
    }

    /**
     * The UNet: 686 tensors and 865,910,724 parameters for SD2.1-base, from a shape run of {@link SdUnet}'s forward
     * (the same code that computes it).
     */
    public static List<TensorInfo> unet(SdConfig c) {
        return SdUnet.parameters(c, c.latentChannels());
    }

    /** The VAE: encoder, {@code quant_conv}, {@code post_quant_conv}, decoder; 248 tensors for SD. */
    public static List<TensorInfo> vae(SdConfig c) {
        SdLayout l = new SdLayout();
        int[] w = c.vaeWidths();
        int n = w.length;
        int z = c.latentChannels();
        l.conv("encoder.conv_in", w[0], 3, 3);
        int ch = w[0];
        for (int i = 0; i < n; i++) {
            String p = "encoder.down_blocks." + i;
            for (int j = 0; j < c.vaeLayers(); j++) {
                l.vaeResnet(p + ".resnets." + j, ch, w[i]);
                ch = w[i];
            }
            if (i < n - 1) {
                l.conv(p + ".downsamplers.0.conv", ch, ch, 3);
            }
        }
        l.vaeMid("encoder.mid_block", ch);
        l.norm("encoder.conv_norm_out", ch);
        l.conv("encoder.conv_out", 2 * z, ch, 3);
        l.conv("quant_conv", 2 * z, 2 * z, 1);
        l.conv("post_quant_conv", z, z, 1);
        l.conv("decoder.conv_in", w[n - 1], z, 3);
        ch = w[n - 1];
        l.vaeMid("decoder.mid_block", ch);
        for (int i = 0; i < n; i++) {
            String p = "decoder.up_blocks." + i;
            for (int j = 0; j <= c.vaeLayers(); j++) {
                l.vaeResnet(p + ".resnets." + j, ch, w[n - 1 - i]);
                ch = w[n - 1 - i];
            }
            if (i < n - 1) {
                l.conv(p + ".upsamplers.0.conv", ch, ch, 3);
            }
        }
        l.norm("decoder.conv_norm_out", ch);
        l.conv("decoder.conv_out", 3, ch, 3);
        return List.copyOf(l.out);
    }

    private void vaeResnet(String p, int in, int outCh) {
        norm(p + ".norm1", in);
        conv(p + ".conv1", outCh, in, 3);
        norm(p + ".norm2", outCh);
        conv(p + ".conv2", outCh, outCh, 3);
        if (in != outCh) {
            conv(p + ".conv_shortcut", outCh, in, 1);
        }
    }

    private void vaeMid(String p, int ch) {
        vaeResnet(p + ".resnets.0", ch, ch);
        String a = p + ".attentions.0";
        norm(a + ".group_norm", ch);
        for (String proj : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
            linear(a + "." + proj, ch, ch, true);
        }
        vaeResnet(p + ".resnets.1", ch, ch);
    }

    private void conv(String name, int outCh, int in, int k) {
        add(name + ".weight", outCh, in, k, k);
        add(name + ".bias", outCh);
    }

    private void linear(String name, int outCh, int in, boolean bias) {
        add(name + ".weight", outCh, in);
        if (bias) {
            add(name + ".bias", outCh);
        }
    }

    private void norm(String name, int ch) {
        add(name + ".weight", ch);
        add(name + ".bias", ch);
    }

    private void add(String name, long... shape) {
        out.add(new TensorInfo(name, DType.F32, shape));
    }
}
