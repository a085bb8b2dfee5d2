package org.adcsr.core.sd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Messages;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.Discriminator;
import org.adcsr.core.model.KeyCheck;
import org.adcsr.core.model.LoraOps;
import org.adcsr.core.model.SdUnet;
import org.adcsr.core.model.ShapeOps;
import org.adcsr.core.model.VaeEncoder;

/**
 * Stage 2's weights as parameter maps for {@link org.adcsr.core.model.DjlOps}, keyed by the names the networks use
 * (diffusers and PEFT keys, so no translation table): the SD2.1-base or teacher UNet ({@link SdUnet}), the VAE
 * encoder with {@code quant_conv} ({@link VaeEncoder}) plus {@code post_quant_conv}, and a saved LoRA discriminator
 * ({@link Discriminator}).
 *
 * <p>SD and teacher weights come through {@link SdInputs} ({@link SdInputs#openModel}, {@link SdInputs#openFiles},
 * {@link SdInputs#openOsediff}), which has checked every key and shape; F16, BF16 and F64 tensors are converted to
 * float32 in Java by the readers. Tensors are read one at a time straight into arrays of the caller's manager: the
 * 3.46 GB UNet is held once (natively), plus one tensor's Java copy at a time. DJL keeps those arrays in direct
 * buffers, which the JVM limits to the heap size unless {@code -XX:MaxDirectMemorySize} is given (README, Stage-2
 * networks).
 */
public final class Stage2Weights {
    private Stage2Weights() {
    }

    /** The SD VAE encoder's architecture in {@code c}. */
    public static VaeEncoder.Config encoderConfig(SdConfig c) {
        return new VaeEncoder.Config(c.vaeWidths(), c.vaeLayers(), c.latentChannels(), c.vaeNormGroups());
    }

    /**
     * The VAE tensors Stage 2 uses, from a shape run of {@link VaeEncoder#forward} then {@code post_quant_conv}
     * ({@code [latent, latent, 1, 1]}): {@code encoder.*}, {@code quant_conv.*}, {@code post_quant_conv.*}.
     */
    public static List<TensorInfo> vaeEncoderParameters(SdConfig c) {
        ShapeOps s = new ShapeOps();
        int m = 1 << c.vaeWidths().length;
        VaeEncoder.forward(s, encoderConfig(c), new long[] {1, 3, m, m});
        int z = c.latentChannels();
        s.conv2d(new long[] {1, z, 1, 1}, "post_quant_conv", z, 1, 1, 0);
        return s.parameters();
    }

    /** The UNet of {@code in} ({@link SdUnet#parameters}, {@code latent} channels in). */
    public static Map<String, NDArray> unet(SdInputs in, SdConfig c, NDManager m) {
        return load(require(in.unet(), "UNet"), SdUnet.parameters(c, c.latentChannels()), n -> true, m);
    }

    /** The VAE encoder, {@code quant_conv} and {@code post_quant_conv} of {@code in} ({@link #vaeEncoderParameters}). */
    public static Map<String, NDArray> vaeEncoder(SdInputs in, SdConfig c, NDManager m) {
        return load(require(in.vae(), "VAE"), vaeEncoderParameters(c), n -> true, m);
    }

    private static TensorSource require(TensorSource s, String what) {
        if (s == null) {
            throw new IllegalArgumentException("no " + what + " was opened");
        }
        return s;
    }

    /**
     * A saved discriminator's parameters under the names of {@link Discriminator#parameters} (base layers plain),
     * from a state dict in PEFT's naming ({@code conv_in.base_layer.weight}, {@code …lora_A.default_encoder.weight},
     * as a PEFT-adapted diffusers UNet's {@code state_dict()} has it) or in those plain names; a safetensors file or a
     * {@code torch.save} zip. A common prefix before {@code conv_in.} (PeftModel's {@code base_model.model.}) is
     * dropped. Every key and shape is checked first.
     *
     * @param inChannels the width of the features D reads (256 for AdcSR)
     * @throws BadInputException one line naming the file and the missing, unexpected or mis-shaped keys
     */
    public static Map<String, NDArray> discriminator(Path file, SdConfig c, int inChannels, int rank, double alpha,
            NDManager m) {
        List<AutoCloseable> open = new ArrayList<>();
        try {
            TensorSource s = SdInputs.openTensors(file, open);
            String prefix = null;
            for (String n : s.names()) {
                int i = n.endsWith("conv_in.base_layer.weight") || n.endsWith("conv_in.weight") ? n.indexOf("conv_in.")
                        : -1;
                if (i >= 0 && (i == 0 || n.charAt(i - 1) == '.') && (prefix == null || i < prefix.length())) {
                    prefix = n.substring(0, i);
                }
            }
            if (prefix == null) {
                throw BadInputException.of(file, "not a discriminator state dict: no conv_in.base_layer.weight (PEFT)"
                        + " or conv_in.weight");
            }
            if (s.names().stream().noneMatch(LoraOps::isLoraParameter)) {
                throw BadInputException.of(file, "not a discriminator state dict: no LoRA tensors (…lora_A.…); a "
                        + "plain UNet?");
            }
            TensorSource d = prefix.isEmpty() ? s : s.withPrefix(prefix);
            boolean peft = d.contains("conv_in.base_layer.weight");
            List<TensorInfo> stored = SdUnet.parameters(new LoraOps<>(new ShapeOps(),
                    LoraOps.officialAdapters(rank, alpha), peft), c, inChannels);
            Map<String, NDArray> p = load(d, stored, n -> false, m);
            Map<String, NDArray> out = new LinkedHashMap<>();
            p.forEach((k, v) -> out.put(peft ? k.replace(".base_layer.", ".") : k, v));
            return out;
        } finally {
            for (AutoCloseable o : open) {
                try {
                    o.close();
                } catch (Exception ignored) {
                    // read-only file
                }
            }
        }
    }

    /**
     * Reads the {@code expected} tensors of {@code source}, one at a time, into float32 arrays of {@code m}: first
     * checks that every one is there with its shape and that every other name is {@code ignorable} (a VAE's decoder
     * when only its encoder is wanted; {@link SdInputs} has checked its views already), then reads each and refuses a
     * non-finite value, naming the file and the stored key. On failure the arrays already made are closed.
     */
    public static Map<String, NDArray> load(TensorSource source, List<TensorInfo> expected,
            Predicate<String> ignorable, NDManager m) {
        KeyCheck.check(source, expected, ignorable);
        Map<String, NDArray> out = new LinkedHashMap<>();
        try {
            for (TensorInfo t : expected) {
                float[] v = source.readFloats(t.name());
                for (int i = 0; i < v.length; i++) {
                    if (!Float.isFinite(v[i])) {
                        throw BadInputException.of(source.pathOf(t.name()), "tensor " + Messages.clip(
                                source.originalName(t.name()), 100) + " holds " + v[i] + " at element " + i
                                + " (weights must be finite)");
                    }
                }
                out.put(t.name(), m.create(v, new Shape(t.shape())));
            }
            return out;
        } catch (RuntimeException e) {
            out.values().forEach(NDArray::close);
            throw e;
        }
    }
}
