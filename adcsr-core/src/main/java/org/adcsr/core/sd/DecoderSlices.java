package org.adcsr.core.sd;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.ShapeOps;

/**
 * AdcSR's pruned VAE decoder cut from the SD VAE decoder (ADCSR.md §6, what adcsr-prune writes and adcsr-train-vae
 * {@code --decoder-init slice} starts from): every tensor of the pruned decoder ({@code decoder.conv_in} to
 * {@code decoder.conv_out}, shapes from {@link ShapeOps} for the {@link AdcsrConfig}) keeps the first channels of the
 * SD tensor of the same key along its output and input axes; kernels are untouched, and {@code conv_in}'s latent
 * input and {@code conv_out}'s RGB output stay whole.
 */
public final class DecoderSlices {
    private DecoderSlices() {
    }

    /** One tensor: its key ({@code decoder.…}), SD's shape and the pruned shape. */
    public record Cut(String key, long[] before, long[] after) {
        /** The first channels of SD's values {@code src} (C order, shape {@link #before}). */
        public float[] apply(float[] src) {
            int[][] maps = new int[before.length][];
            for (int d = 0; d < before.length; d++) {
                maps[d] = Slices.first(after[d]);
            }
            return Slices.gather(src, before, maps);
        }

        /** The first channels of this tensor of {@code vae} (diffusers names). */
        public float[] read(TensorSource vae) {
            return apply(vae.readFloats(key));
        }
    }

    /** The pruned decoder's parameters ({@code decoder.conv_in} to {@code decoder.conv_out}) in forward order. */
    public static List<TensorInfo> parameters(AdcsrConfig config, int latentChannels) {
        ShapeOps s = new ShapeOps();
        long[] x = AdcsrNetwork.decoderConvIn(s, config, new long[] {1, latentChannels, 8, 8});
        AdcsrNetwork.decoderUp(s, config, AdcsrNetwork.decoderMid(s, config, x));
        return s.parameters();
    }

    /**
     * The cut of every tensor of the pruned decoder, in its forward order.
     *
     * @throws BadInputException if the levels or layers differ, or a pruned tensor is wider than SD's
     */
    public static List<Cut> plan(SdConfig sd, AdcsrConfig config) {
        Map<String, long[]> source = new LinkedHashMap<>();
        for (TensorInfo t : SdLayout.vae(sd)) {
            if (t.name().startsWith(AdcsrNetwork.DECODER)) {
                source.put(t.name(), t.shape());
            }
        }
        String what = "the decoder " + Arrays.toString(config.decoderBlockOutChannels()) + " × "
                + config.decoderLayersPerBlock() + " cannot be cut from the " + sd.name() + " VAE decoder "
                + Arrays.toString(sd.vaeWidths()) + " × " + sd.vaeLayers();
        List<TensorInfo> pruned = parameters(config, sd.latentChannels());
        if (pruned.size() != source.size()) {
            throw new BadInputException(what + ": " + pruned.size() + " tensors against " + source.size()
                    + " (other levels or layers)");
        }
        List<Cut> cuts = new ArrayList<>();
        for (TensorInfo t : pruned) {
            long[] before = source.get(t.name());
            long[] after = t.shape();
            if (before == null) {
                throw new BadInputException(what + ": SD has no " + t.name());
            }
            boolean fits = before.length == after.length;
            for (int d = 0; fits && d < after.length; d++) {
                fits = d < 2 ? after[d] <= before[d] : after[d] == before[d];
            }
            if (!fits) {
                throw new BadInputException(what + ": " + t.name() + " " + t.shapeString() + " is not within SD's "
                        + Arrays.toString(before));
            }
            cuts.add(new Cut(t.name(), before, after));
        }
        return cuts;
    }
}
