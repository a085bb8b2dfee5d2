package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.VaeEncoder;

/**
 * Stage 1's held-out check: the autoencoder's reconstructions of fixed centre crops of a set of images, decoded
 * from the posterior mean (deterministic; training decodes samples), measured as PSNR (images in [0, 1], the
 * reconstruction clamped to the range, mean over images), LPIPS (when a perceptual network is given; else NaN) and
 * L1 (in [−1, 1], the scale of the training loss's L1). One image at a time, without gradients.
 */
public final class Validation {
    /** The columns of {@code val.csv}. */
    public static final List<String> COLUMNS = List.of("step", "psnr", "lpips", "l1");

    private final List<float[]> crops;
    private final int crop;

    private Validation(List<float[]> crops, int crop) {
        this.crops = crops;
        this.crop = crop;
    }

    /** Refuses, from the headers alone, a set that is empty or has an image smaller than the crop. */
    public static void check(List<Path> images, int crop) {
        if (images.isEmpty()) {
            throw new BadInputException("no validation images");
        }
        for (Path p : images) {
            int[] s = Images.size(p);
            if (s[0] < crop || s[1] < crop) {
                throw BadInputException.of(p, "is " + s[0] + "x" + s[1] + ", smaller than the " + crop
                        + "-pixel validation crop (--val-crop)");
            }
        }
    }

    /** The centre crops of {@code images}, RGB in [−1, 1] (gray replicated, alpha dropped). */
    public static Validation load(List<Path> images, int crop) {
        check(images, crop);
        List<float[]> crops = new ArrayList<>();
        for (Path p : images) {
            Image img = Images.read(p);
            int top = (img.height() - crop) / 2;
            int left = (img.width() - crop) / 2;
            float scale = 2f / img.maxValue();
            float[] v = new float[3 * crop * crop];
            for (int c = 0; c < 3; c++) {
                int src = img.isGray() ? 0 : c;
                for (int y = 0; y < crop; y++) {
                    for (int x = 0; x < crop; x++) {
                        v[(c * crop + y) * crop + x] = img.sample(src, top + y, left + x) * scale - 1;
                    }
                }
            }
            crops.add(v);
        }
        return new Validation(crops, crop);
    }

    /** {psnr, lpips, l1} of the autoencoder now in {@code ops}. */
    public double[] evaluate(NDManager parent, DjlOps ops, VaeEncoder.Config encoder, AdcsrConfig decoder,
            NDArray convOutWeight, NDArray convOutBias, AutoencoderLoss.Perceptual lpips) {
        double psnr = 0;
        double perceptual = 0;
        double l1 = 0;
        for (float[] c : crops) {
            try (NDManager m = parent.newSubManager()) {
                NDArray x = m.create(c, new Shape(1, 3, crop, crop));
                NDArray moments = VaeEncoder.forward(ops, encoder, x);
                NDArray z = Stage1.posterior(moments, false, null).z();
                NDArray h = Stage1.decoderFeatures(ops, decoder, encoder.latentChannels(), z);
                NDArray xhat = Convolution.conv2d(h, convOutWeight, convOutBias, 1, 1).clip(-1, 1);
                NDArray diff = x.sub(xhat);
                l1 += diff.abs().mean().getFloat();
                double mse = diff.square().mean().getFloat() / 4; // on [0, 1]
                psnr += 10 * Math.log10(1 / mse);
                if (lpips != null) {
                    perceptual += lpips.distance(x, xhat).mean().getFloat();
                }
            }
        }
        int n = crops.size();
        return new double[] {psnr / n, lpips == null ? Double.NaN : perceptual / n, l1 / n};
    }
}
