package org.adcsr.core.sd;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.KeyCheck;
import org.adcsr.core.io.torch.TorchCheckpoint;

/**
 * An SD UNet and VAE (to prune, or Stage 2's SD and teacher weights), opened from a diffusers model directory, from
 * the two diffusers files, from one original single-file checkpoint, or from the merged {@code osediff.pkl}, and
 * shown in diffusers names ({@link SdLayout}). Opening checks every tensor's presence, shape and type (no data is
 * read), so that bad input fails before anything is written; {@link Stage2Weights} reads the tensors.
 */
public final class SdInputs implements AutoCloseable {
    public static final String UNET_FILE = "unet";
    public static final String VAE_FILE = "vae";
    /** The two state dicts of the merged {@code osediff.pkl}. */
    public static final String OSEDIFF_UNET = "unet.";
    public static final String OSEDIFF_VAE = "vae.";

    private final List<AutoCloseable> open = new ArrayList<>();
    private RenamedTensorSource unet;
    private RenamedTensorSource vae;

    private SdInputs() {
    }

    /** The UNet in diffusers names, or null when none was given. */
    public TensorSource unet() {
        return unet;
    }

    /** The VAE in diffusers names, or null when none was given. */
    public TensorSource vae() {
        return vae;
    }

    /** The name under which {@code name} is stored in the UNet's file. */
    public String unetOrigin(String name) {
        return unet.origin(name);
    }

    public String vaeOrigin(String name) {
        return vae.origin(name);
    }

    /**
     * A diffusers model directory ({@code unet/} and {@code vae/} each holding {@code diffusion_pytorch_model
     * [.fp16].safetensors} or {@code .bin}) or a single-file checkpoint ({@code .safetensors} or {@code .ckpt}, LDM
     * names).
     */
    public static SdInputs openModel(Path model, SdConfig c) {
        if (Files.isDirectory(model)) {
            return openFiles(weightsIn(model, UNET_FILE), weightsIn(model, VAE_FILE), c);
        }
        SdInputs in = new SdInputs();
        try {
            TensorSource s = in.openFile(model);
            String outer = singleFilePrefix(s);
            in.unet = in.view(s, c, SdLayout.unet(c), "UNet", unetFilter(outer),
                    d -> outer + LdmNames.UNET_PREFIX + LdmNames.unet(d, c));
            // LDM Stage-1 checkpoints may also carry the training loss (LPIPS, discriminator): not the VAE's
            in.vae = in.view(s, c, SdLayout.vae(c), "VAE", n -> n.startsWith(outer + LdmNames.VAE_PREFIX)
                    && !n.startsWith(outer + LdmNames.VAE_PREFIX + "loss."),
                    d -> outer + LdmNames.VAE_PREFIX + LdmNames.vae(d, c));
            return in;
        } catch (RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /**
     * An SD UNet alone: a diffusers model directory (its {@code unet/}), a diffusers {@code unet/} directory, a
     * diffusers UNet file, or a single-file SD checkpoint (LDM names; its VAE is checked too).
     */
    public static SdInputs openUnet(Path path, SdConfig c) {
        if (Files.isDirectory(path)) {
            Path abs = path.toAbsolutePath().normalize();
            Path file = Files.isDirectory(path.resolve(UNET_FILE)) || abs.getParent() == null
                    ? weightsIn(path, UNET_FILE) : weightsIn(abs.getParent(), abs.getFileName().toString());
            return openFiles(file, null, c);
        }
        List<AutoCloseable> probe = new ArrayList<>();
        boolean ldm;
        try {
            ldm = openTensors(path, probe).names().stream().anyMatch(n -> n.contains(LdmNames.UNET_PREFIX));
        } finally {
            for (AutoCloseable a : probe) {
                try {
                    a.close();
                } catch (Exception ignored) {
                    // read-only
                }
            }
        }
        return ldm ? openModel(path, c) : openFiles(path, null, c);
    }

    /** The two diffusers files; either may be null (then only the outputs of the other are made). */
    public static SdInputs openFiles(Path unetFile, Path vaeFile, SdConfig c) {
        SdInputs in = new SdInputs();
        try {
            if (unetFile != null) {
                TensorSource s = in.openFile(unetFile);
                if (anyStartsWith(s, "encoder.", "decoder.")) {
                    throw BadInputException.of(unetFile, "holds VAE tensors (encoder.*, decoder.*), not a UNet; "
                            + "pass it as the VAE");
                }
                rejectSingleFile(s, "UNet");
                in.unet = in.view(s, c, SdLayout.unet(c), "UNet", n -> true, UnaryOperator.identity());
            }
            if (vaeFile != null) {
                TensorSource s = in.openFile(vaeFile);
                if (s.contains("conv_in.weight") || anyStartsWith(s, "down_blocks.", "up_blocks.")) {
                    throw BadInputException.of(vaeFile, "holds UNet tensors (conv_in, down_blocks.*), not a VAE; "
                            + "pass it as the UNet");
                }
                rejectSingleFile(s, "VAE");
                in.vae = in.view(s, c, SdLayout.vae(c), "VAE", n -> true, vaeName(s, ""));
            }
            return in;
        } catch (RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /**
     * An SD VAE alone, in any of the forms SD is published in: a diffusers model directory (its {@code vae/}), a
     * diffusers {@code vae/} directory, a diffusers VAE file (also without the decoder: adcsr-prune's
     * {@code vae_encoder.safetensors}), a single-file SD checkpoint ({@code first_stage_model.*}, LDM names, with or
     * without the outer {@code state_dict.}), or a bare LDM autoencoder checkpoint; fp32 or fp16, safetensors or
     * torch zip. Without {@code withDecoder} only the encoder, {@code quant_conv} and {@code post_quant_conv} are
     * expected, and the file's decoder tensors, if any, are ignored.
     */
    public static SdInputs openVae(Path path, SdConfig c, boolean withDecoder) {
        SdInputs in = new SdInputs();
        try {
            Path file = path;
            if (Files.isDirectory(path)) {
                Path abs = path.toAbsolutePath().normalize();
                file = Files.isDirectory(path.resolve(VAE_FILE)) ? weightsIn(path, VAE_FILE)
                        : abs.getParent() == null ? weightsIn(path, VAE_FILE)
                        : weightsIn(abs.getParent(), abs.getFileName().toString());
            }
            TensorSource s = in.openFile(file);
            String anchor = "encoder.conv_in.weight";
            String outer = null;
            for (String n : s.names()) {
                if (n.endsWith(anchor) && (n.length() == anchor.length()
                        || n.charAt(n.length() - anchor.length() - 1) == '.')) {
                    outer = n.substring(0, n.length() - anchor.length());
                    break;
                }
            }
            if (outer == null) {
                throw BadInputException.of(file, "not an SD VAE: no encoder.conv_in.weight (diffusers) nor "
                        + LdmNames.VAE_PREFIX + "encoder.conv_in.weight (single-file checkpoint)"
                        + (anyStartsWith(s, "down_blocks.") || unetPrefixed(s) ? "; is it a UNet?" : ""));
            }
            String prefix = outer;
            boolean ldm = s.contains(prefix + "encoder.down.0.block.0.norm1.weight");
            String decoder = prefix + "decoder.";
            Predicate<String> owned = n -> n.startsWith(prefix) && !n.startsWith(prefix + "loss.")
                    && !n.startsWith(prefix + LdmNames.UNET_PREFIX) && !n.startsWith(prefix + "cond_stage_model.")
                    && !n.startsWith(prefix + "model_ema.") && (withDecoder || !n.startsWith(decoder))
                    && (!prefix.isEmpty() || !n.startsWith("state_dict."));
            List<TensorInfo> expected = SdLayout.vae(c).stream()
                    .filter(t -> withDecoder || !t.name().startsWith("decoder.")).toList();
            in.vae = in.view(s, c, expected, "VAE", owned, ldm ? d -> prefix + LdmNames.vae(d, c)
                    : vaeName(s, prefix));
            return in;
        } catch (RuntimeException e) {
            in.close();
            throw e;
        }
    }

    /**
     * The merged OSEDiff weights AdcSR publishes ({@code weight/pretrained/osediff.pkl}, CHECKPOINTS.md §4): a
     * {@code torch.save}d dict {@code {"unet": UNet state dict, "vae": AutoencoderKL state dict}} in plain diffusers
     * names (the LoRA merged), read with the safe pickle reader. Tensors outside the two dicts are ignored.
     */
    public static SdInputs openOsediff(Path file, SdConfig c) {
        SdInputs in = new SdInputs();
        try {
            TensorSource s = in.openFile(file);
            if (!anyStartsWith(s, OSEDIFF_UNET) || !anyStartsWith(s, OSEDIFF_VAE)) {
                if (anyStartsWith(s, "state_dict_unet.")) {
                    throw BadInputException.of(file, "is OSEDiff's own LoRA file (state_dict_unet, state_dict_vae), "
                            + "not the merged osediff.pkl that AdcSR publishes (weight/pretrained/osediff.pkl)");
                }
                Set<String> top = new LinkedHashSet<>();
                s.names().forEach(n -> top.add(n.contains(".") ? n.substring(0, n.indexOf('.')) : n));
                List<String> has = new ArrayList<>();
                KeyCheck.describe(has, List.copyOf(top), "top-level key", "top-level keys");
                throw BadInputException.of(file, "not a merged osediff.pkl: needs the state dicts \"unet\" and \"vae\""
                        + " (has " + (top.isEmpty() ? "no tensors" : has.get(0)) + ")");
            }
            in.unet = in.view(s, c, SdLayout.unet(c), "UNet", n -> n.startsWith(OSEDIFF_UNET), d -> OSEDIFF_UNET + d);
            in.vae = in.view(s, c, SdLayout.vae(c), "VAE", n -> n.startsWith(OSEDIFF_VAE), vaeName(s, OSEDIFF_VAE));
            return in;
        } catch (RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static boolean unetPrefixed(TensorSource s) {
        return s.names().stream().anyMatch(n -> n.contains(LdmNames.UNET_PREFIX));
    }

    /** The stored name of a VAE tensor: its diffusers name, or the older diffusers one when only that is there. */
    private static UnaryOperator<String> vaeName(TensorSource s, String prefix) {
        return d -> {
            String old = LdmNames.oldDiffusersVae(d);
            return old != null && !s.contains(prefix + d) && s.contains(prefix + old) ? prefix + old : prefix + d;
        };
    }

    private static Predicate<String> unetFilter(String outer) {
        return n -> n.startsWith(outer + LdmNames.UNET_PREFIX);
    }

    private static Path weightsIn(Path dir, String part) {
        Path sub = dir.resolve(part);
        if (!Files.isDirectory(sub)) {
            throw BadInputException.of(dir, "not a diffusers model directory: no " + part + "/ folder");
        }
        for (String name : new String[] {"diffusion_pytorch_model.safetensors",
            "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.bin",
            "diffusion_pytorch_model.fp16.bin"}) {
            if (Files.isRegularFile(sub.resolve(name))) {
                return sub.resolve(name);
            }
        }
        throw BadInputException.of(sub, "holds no diffusion_pytorch_model[.fp16].safetensors (or .bin)");
    }

    private TensorSource openFile(Path file) {
        return openTensors(file, open);
    }

    /**
     * Opens a safetensors file or a torch.save zip (with the strict pickle policy), told apart by the first bytes,
     * adding what must be closed to {@code open}.
     */
    static TensorSource openTensors(Path file, List<AutoCloseable> open) {
        byte[] head = new byte[9];
        int n;
        try (InputStream s = Files.newInputStream(file)) {
            n = s.readNBytes(head, 0, head.length);
        } catch (NoSuchFileException e) {
            throw BadInputException.of(file, "no such file");
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")", e);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            TorchCheckpoint ckpt = TorchCheckpoint.open(file);
            open.add(ckpt);
            return ckpt.tensors();
        }
        if (n < 9) {
            throw BadInputException.of(file, "truncated: " + n + " bytes, neither a safetensors file nor a PyTorch"
                    + " checkpoint");
        }
        SafetensorsReader r = SafetensorsReader.open(file);
        open.add(r);
        return r;
    }

    /**
     * The part of the names before {@code model.diffusion_model.} ({@code ""} or {@code state_dict.}) in a single
     * file; fails with a hint when the file is something else.
     */
    private static String singleFilePrefix(TensorSource s) {
        for (String n : s.names()) {
            int i = n.indexOf(LdmNames.UNET_PREFIX);
            if (i >= 0 && (i == 0 || n.charAt(i - 1) == '.') && n.startsWith("input_blocks.", i + LdmNames.UNET_PREFIX.length())) {
                return n.substring(0, i);
            }
        }
        if (s.contains("conv_in.weight") || anyStartsWith(s, "down_blocks.")) {
            throw BadInputException.of(s.path(), "is a diffusers UNet file, not a single-file checkpoint; give the "
                    + "model directory, or this file as the UNet and the VAE file with it");
        }
        if (anyStartsWith(s, "encoder.", "decoder.")) {
            throw BadInputException.of(s.path(), "is a VAE file, not a single-file checkpoint; give it as the VAE "
                    + "with the UNet file");
        }
        throw BadInputException.of(s.path(), "not an SD checkpoint: no " + LdmNames.UNET_PREFIX + "input_blocks.*"
                + " tensors");
    }

    private static void rejectSingleFile(TensorSource s, String what) {
        for (String n : s.names()) {
            if (n.contains(LdmNames.UNET_PREFIX) || n.contains(LdmNames.VAE_PREFIX)) {
                throw BadInputException.of(s.path(), "is a single-file SD checkpoint (LDM names), not a diffusers "
                        + what + " file; give it as the model instead");
            }
        }
    }

    private static boolean anyStartsWith(TensorSource s, String... prefixes) {
        for (String n : s.names()) {
            for (String p : prefixes) {
                if (n.startsWith(p)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Maps every expected tensor to its stored name and checks everything at once: SD variants first (a one-line
     * reason), then missing tensors, shape mismatches, non-float types and unexpected tensors among {@code owned}.
     */
    private RenamedTensorSource view(TensorSource s, SdConfig c, List<TensorInfo> expected, String what,
            Predicate<String> owned, UnaryOperator<String> storedName) {
        RenamedTensorSource v = new RenamedTensorSource(s.path());
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (TensorInfo t : expected) {
            String stored = storedName.apply(t.name());
            TensorInfo got = s.info(stored);
            String label = stored.endsWith(t.name()) ? stored : stored + " (" + t.name() + ")";
            if (got == null) {
                missing.add(label);
                continue;
            }
            used.add(stored);
            long[] shape = got.shape();
            if (squeezes(shape, t.shape())) {
                shape = t.shape();
            }
            if (!Arrays.equals(shape, t.shape())) {
                mismatched.add(label + " " + got.shapeString() + " (" + c.name() + ": " + t.shapeString() + ")");
            } else if (!got.dtype().isFloating()) {
                mismatched.add(label + " has type " + got.dtype());
            }
            v.put(t.name(), s, stored, shape);
        }
        if (what.equals("UNet")) {
            diagnoseUnet(v, c);
        }
        List<String> unexpected = new ArrayList<>();
        for (String n : s.names()) {
            if (owned.test(n) && !used.contains(n)) {
                unexpected.add(n);
            }
        }
        if (!missing.isEmpty() || !mismatched.isEmpty() || !unexpected.isEmpty()) {
            List<String> parts = new ArrayList<>();
            KeyCheck.describe(parts, missing, "missing tensor", "missing tensors");
            KeyCheck.describe(parts, mismatched, "shape mismatch", "shape mismatches");
            KeyCheck.describe(parts, unexpected, "unexpected tensor", "unexpected tensors");
            throw BadInputException.of(s.path(), "not an " + c.name() + " " + what + ": " + String.join("; ", parts));
        }
        return v;
    }

    /** Names the SD variant when it is clearly another one, instead of listing hundreds of shape mismatches. */
    private static void diagnoseUnet(RenamedTensorSource v, SdConfig c) {
        String k = "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight";
        TensorInfo t = v.info(k);
        if (t != null && t.shape().length == 2 && t.shape()[1] != c.crossAttentionDim()) {
            long w = t.shape()[1];
            String which = w == 768 ? " (SD1.x)" : w == 2048 ? " (SDXL)" : "";
            throw BadInputException.of(v.path(), "cross-attention width " + w + which + " is not supported: only "
                    + c.name() + " (cross-attention " + c.crossAttentionDim() + ") is supported");
        }
        TensorInfo in = v.info("conv_in.weight");
        if (in != null && in.shape().length == 4 && in.shape()[1] != c.latentChannels()) {
            throw BadInputException.of(v.path(), "conv_in takes " + in.shape()[1] + " channels (an inpainting or "
                    + "upscaler UNet?); only " + c.name() + " with " + c.latentChannels() + " is supported");
        }
    }

    /** {@code [a, b, 1, 1]} stored for an expected {@code [a, b]}: LDM's 1×1 conv attention projections. */
    private static boolean squeezes(long[] stored, long[] expected) {
        return expected.length == 2 && stored.length == 4 && stored[2] == 1 && stored[3] == 1
                && stored[0] == expected[0] && stored[1] == expected[1];
    }

    @Override
    public void close() {
        for (AutoCloseable c : open) {
            try {
                c.close();
            } catch (Exception ignored) {
                // read-only files
            }
        }
        open.clear();
    }
}
