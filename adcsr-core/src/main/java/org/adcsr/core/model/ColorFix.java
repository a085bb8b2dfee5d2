package org.adcsr.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.adcsr.core.BadInputException;

/**
 * Colour correction and 8-bit output as the official {@code test.py} does them (ADCSR.md §4).
 */
public final class ColorFix {
    private ColorFix() {
    }

    /**
     * The official fix, per image and channel on [−1, 1] values: {@code (sr − mean(sr)) / std(sr) · std(lr) +
     * mean(lr)} with the unbiased std and no epsilon. Statistics come from whole images. A channel of {@code sr}
     * with zero (or non-finite) std cannot be fixed this way and is refused rather than turned into NaN.
     *
     * @param sr {@code [B, C, H', W']}
     * @param lr {@code [B, C, H, W]}, the network input in [−1, 1]
     */
    public static NDArray official(NDArray sr, NDArray lr) {
        NDArray srFlat = flat(sr);
        NDArray lrFlat = flat(lr);
        NDArray srMean = srFlat.mean(new int[] {2}, true);
        NDArray srStd = unbiasedStd(srFlat, srMean);
        NDArray lrMean = lrFlat.mean(new int[] {2}, true);
        NDArray lrStd = unbiasedStd(lrFlat, lrMean);
        float[] s = srStd.toType(DataType.FLOAT32, false).toFloatArray();
        for (float v : s) {
            if (!(v > 0) || Float.isInfinite(v)) {
                throw new BadInputException("colour fix: the output has a flat or non-finite channel (std " + v
                        + "); use another colour fix or none");
            }
        }
        return srFlat.sub(srMean).div(srStd).mul(lrStd).add(lrMean).reshape(sr.getShape());
    }

    /** {@code [B, C, H, W]} → {@code [B, C, H·W]}. */
    private static NDArray flat(NDArray x) {
        return x.reshape(x.getShape().get(0), x.getShape().get(1), -1);
    }

    private static NDArray unbiasedStd(NDArray x, NDArray mean) {
        long n = x.getShape().get(2);
        return x.sub(mean).square().sum(new int[] {2}, true).div(n - 1).sqrt();
    }

    /**
     * {@code floor(255 · clamp(y/2 + 0.5, 0, 1))} as 0…255 values in an int array (torchvision {@code ToPILImage}
     * truncates: {@code mul(255).byte()}).
     */
    public static int[] toUint8(NDArray y) {
        float[] v = y.toType(DataType.FLOAT32, false).toFloatArray();
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            float u = v[i] * 0.5f + 0.5f;
            u = u < 0 ? 0 : (u > 1 ? 1 : u);
            out[i] = (int) (u * 255f);
        }
        return out;
    }
}
