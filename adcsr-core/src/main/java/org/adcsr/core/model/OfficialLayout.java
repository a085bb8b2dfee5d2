package org.adcsr.core.model;

import java.util.function.BiPredicate;
import java.util.function.Predicate;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.TensorSource;

/**
 * The official AdcSR weight files, mapped to our names (CHECKPOINTS.md §2–3):
 * <ul>
 *   <li>{@code net_params_*.pkl}: {@code module.body.1.<key>} → {@code unet.<key>}, {@code module.body.2.<key>} →
 *       {@code decoder.mid_block.<key>} (the trained copy), and the aliases {@code module.body.1.body.<i>.<rest>},
 *       which must be the same storage views as the canonical names and are otherwise skipped;</li>
 *   <li>{@code halfDecoder.ckpt}: {@code [state_dict.]decoder.<key>} → {@code decoder.<key>} for everything but the
 *       mid block (the trained copy wins) and {@code conv_in} (not used at inference); its other entries (encoder,
 *       loss, optimizer states, callbacks) are ignored.</li>
 * </ul>
 * This is the one place where foreign names are translated.
 */
public final class OfficialLayout {
    static final String UNET = "module.body.1.";
    static final String MID = "module.body.2.";
    static final String ALIAS = UNET + "body.";
    /** {@code unet.body[i]} of the official Net: the UNet's children in order (10 is the SiLU, no parameters). */
    static final String[] ALIAS_TARGETS = {
        "down_blocks.0", "down_blocks.1", "down_blocks.2", "down_blocks.3", "mid_block",
        "up_blocks.0", "up_blocks.1", "up_blocks.2", "up_blocks.3", "conv_norm_out", null, "conv_out",
    };

    private OfficialLayout() {
    }

    /** Names a loader may skip in {@link #view}: the decoder's {@code conv_in}. */
    public static final Predicate<String> IGNORABLE = n -> n.startsWith(AdcsrNetwork.DECODER + "conv_in.");

    /**
     * A view of the two official files in our naming. Unrecognised names of {@code netParams} are kept as they
     * are, so that a key check reports them as unexpected.
     *
     * @param sameView tells whether two names of {@code netParams} are the same view of the same storage
     */
    public static RenamedTensorSource view(TensorSource netParams, TensorSource halfDecoder,
            BiPredicate<String, String> sameView) {
        RenamedTensorSource v = new RenamedTensorSource(netParams.path());
        String decoderPrefix = decoderPrefix(halfDecoder);
        for (String name : halfDecoder.names()) {
            if (name.startsWith(decoderPrefix)) {
                String key = name.substring(decoderPrefix.length());
                if (!key.startsWith("mid_block.")) {
                    v.put(AdcsrNetwork.DECODER + key, halfDecoder, name);
                }
            }
        }
        for (String name : netParams.names()) {
            if (name.startsWith(ALIAS)) {
                checkAlias(netParams, name, sameView);
            } else if (name.startsWith(UNET)) {
                v.put(AdcsrNetwork.UNET + name.substring(UNET.length()), netParams, name);
            } else if (name.startsWith(MID)) {
                v.put(AdcsrNetwork.DECODER + "mid_block." + name.substring(MID.length()), netParams, name);
            } else {
                v.put(name, netParams, name);
            }
        }
        return v;
    }

    /** {@code state_dict.decoder.} in a Lightning checkpoint, {@code decoder.} in a bare state dict. */
    static String decoderPrefix(TensorSource halfDecoder) {
        for (String prefix : new String[] {"state_dict.decoder.", "decoder."}) {
            if (halfDecoder.names().stream().anyMatch(n -> n.startsWith(prefix))) {
                return prefix;
            }
        }
        throw BadInputException.of(halfDecoder.path(), "holds no decoder.* tensors; is it halfDecoder.ckpt?");
    }

    /** The canonical name of an alias {@code module.body.1.body.<i>.<rest>}, or null when it is not one. */
    static String aliasTarget(String name) {
        if (!name.startsWith(ALIAS)) {
            return null;
        }
        String rest = name.substring(ALIAS.length());
        int dot = rest.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        int i;
        try {
            i = Integer.parseInt(rest.substring(0, dot));
        } catch (NumberFormatException e) {
            return null;
        }
        if (i < 0 || i >= ALIAS_TARGETS.length || ALIAS_TARGETS[i] == null) {
            return null;
        }
        return UNET + ALIAS_TARGETS[i] + rest.substring(dot);
    }

    private static void checkAlias(TensorSource netParams, String alias, BiPredicate<String, String> sameView) {
        String target = aliasTarget(alias);
        if (target == null || !netParams.contains(target)) {
            throw BadInputException.of(netParams.path(), "alias " + alias + " has no canonical tensor "
                    + (target == null ? "(unknown index)" : target));
        }
        if (!sameView.test(alias, target)) {
            throw BadInputException.of(netParams.path(), "alias " + alias + " is not the same tensor as " + target);
        }
    }
}
