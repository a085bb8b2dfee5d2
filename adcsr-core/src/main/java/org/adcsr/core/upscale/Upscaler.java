package org.adcsr.core.upscale;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.engine.EngineFaultException;
import org.adcsr.core.image.Image;
import org.adcsr.core.model.AdcsrModel;

/**
 * Upscales whole images of any size with an {@link AdcsrModel}: the official pre- and post-processing
 * ({@code test.py}) around the network, plus our extensions, each labelled:
 * <ul>
 *   <li>sizes that are not multiples of 16 are reflect-padded at the bottom and right and cropped back
 *       (extension; the official code fails on them);</li>
 *   <li>images larger than a tile run tile by tile with overlapping tiles blended by smooth fades that skip the tiles' outer edges (extension);</li>
 *   <li>the colour fix runs once on the assembled image with whole-image statistics (as the official code, which
 *       has no tiles);</li>
 *   <li>gray images run as RGB and are written back as gray (ITU-R 601 luma, as PIL's "L"); alpha is upscaled
 *       separately with bicubic resampling and re-attached (extensions; the official code drops alpha);</li>
 *   <li>8-bit output is {@code floor(255·y)} exactly as torchvision's {@code ToPILImage} truncates; 16-bit output
 *       (for 16-bit input) is {@code round(65535·y)}.</li>
 * </ul>
 * For an 8-bit RGB image whose sides are multiples of 16 and which fits one tile, the result is the official
 * procedure's, computed in float32 (statistics accumulate in double).
 */
public final class Upscaler {
    /** Reports progress: tiles done of total. */
    public interface Listener {
        void tiles(int done, int total);
    }

    /**
     * @param tile tile side in LR pixels (a multiple of the model's size multiple)
     * @param overlap overlap between neighbouring tiles in LR pixels (a multiple of the size multiple, below tile)
     * @param colorFix the colour correction
     */
    public record Options(int tile, int overlap, ColorCorrection colorFix) {
    }

    /** What came out, with the numbers a report needs. */
    public record Result(Image image, int tiles) {
    }

    /** The network as the upscaler sees it: 3 planes in [−1, 1] of one tile in, 3 planes {@code scale}× larger out. */
    public interface Network {
        float[] run(float[] chw, int height, int width);

        int scale();

        /** Tile sides must be multiples of this. */
        int sizeMultiple();
    }

    private final Network network;
    private final Options options;
    private final int multiple;
    private final int scale;

    /** An upscaler running {@code model} on CPU arrays of {@code manager}. */
    public static Upscaler of(AdcsrModel model, NDManager manager, Options options) {
        return new Upscaler(new ModelNetwork(model, manager), options);
    }

    public Upscaler(Network network, Options options) {
        this.network = network;
        this.options = options;
        this.multiple = network.sizeMultiple();
        this.scale = network.scale();
        if (options.tile() < multiple || options.tile() % multiple != 0) {
            throw new BadInputException("tile size " + options.tile() + " must be a positive multiple of " + multiple);
        }
        if (options.overlap() < 0 || options.overlap() % multiple != 0 || options.overlap() >= options.tile()) {
            throw new BadInputException("overlap " + options.overlap() + " must be a multiple of " + multiple
                    + " below the tile size " + options.tile());
        }
    }

    /** Tiles an image of this size will take. */
    public int tileCount(int width, int height) {
        return Tiling.tiles(Tiling.roundUp(width, multiple), Tiling.roundUp(height, multiple), options.tile(),
                options.overlap()).size();
    }

    public Result upscale(Image in, Listener listener) {
        int w = in.width();
        int h = in.height();
        float[][] lr = networkInput(in);
        int pw = Tiling.roundUp(w, multiple);
        int ph = Tiling.roundUp(h, multiple);
        int ow = w * scale;
        int oh = h * scale;
        List<Tiling.Tile> tiles = Tiling.tiles(pw, ph, options.tile(), options.overlap());

        float[][] sr = new float[3][ow * oh];
        float[] weightSum = tiles.size() > 1 ? new float[ow * oh] : null;
        int done = 0;
        for (Tiling.Tile t : tiles) {
            float[] y = runTile(lr, w, h, t);
            accumulate(sr, weightSum, y, t, pw, ph, ow, oh);
            listener.tiles(++done, tiles.size());
        }
        if (weightSum != null) {
            for (float[] plane : sr) {
                for (int i = 0; i < plane.length; i++) {
                    plane[i] /= weightSum[i];
                }
            }
        }
        options.colorFix().apply(sr, ow, oh, lr, w, h);
        return new Result(output(in, sr, ow, oh), tiles.size());
    }

    /** RGB planes in [−1, 1] as the official code computes them: {@code ToTensor} (v / max) then {@code 2x − 1}. */
    static float[][] networkInput(Image in) {
        int plane = in.width() * in.height();
        float max = in.maxValue();
        float[][] rgb = new float[3][plane];
        for (int c = 0; c < 3; c++) {
            int src = in.isGray() ? 0 : c;
            float[] d = in.data();
            for (int i = 0; i < plane; i++) {
                rgb[c][i] = d[src * plane + i] / max * 2f - 1f;
            }
        }
        return rgb;
    }

    private float[] runTile(float[][] lr, int w, int h, Tiling.Tile t) {
        int tw = t.width();
        int th = t.height();
        float[] buf = new float[3 * tw * th];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < th; y++) {
                int sy = Tiling.reflect(t.y() + y, h);
                for (int x = 0; x < tw; x++) {
                    buf[(c * th + y) * tw + x] = lr[c][sy * w + Tiling.reflect(t.x() + x, w)];
                }
            }
        }
        return network.run(buf, th, tw);
    }

    /** {@link Network} over an {@link AdcsrModel}: one forward per tile in a sub-manager freed afterwards. */
    private record ModelNetwork(AdcsrModel model, NDManager manager) implements Network {
        @Override
        public float[] run(float[] chw, int height, int width) {
            try (NDManager m = manager.newSubManager()) {
                DataType type = model.parameters().values().iterator().next().getDataType();
                NDArray x = m.create(chw, new Shape(1, 3, height, width)).toType(type, false);
                float[] out = model.forward(x).toType(DataType.FLOAT32, false).toFloatArray();
                for (float v : out) {
                    if (!Float.isFinite(v)) {
                        throw nonFinite(type);
                    }
                }
                return out;
            }
        }

        /**
         * Why a tile came out with NaN or infinity: weights holding them are a bad weights file; finite weights (the
         * inputs are always finite; loaded weights are also within float16's range, {@link AdcsrModel#readFinite})
         * leave the engine.
         */
        private RuntimeException nonFinite(DataType type) {
            String bad = model.nonFiniteParameter();
            if (bad != null) {
                return new BadInputException("the model's weights contain NaN or infinity (" + bad + "): a bad"
                        + " weights file, not an engine fault");
            }
            return new EngineFaultException("the network produced NaN or infinity (" + type + ") from finite inputs"
                    + " and weights: an engine fault, not a bad input");
        }

        @Override
        public int scale() {
            return model.config().scale();
        }

        @Override
        public int sizeMultiple() {
            return model.config().sizeMultiple();
        }
    }

    /** Adds a tile's output into the cropped SR planes, weighted when there are several tiles. */
    private void accumulate(float[][] sr, float[] weightSum, float[] y, Tiling.Tile t, int pw, int ph, int ow,
            int oh) {
        int tw = t.width() * scale;
        int th = t.height() * scale;
        int ramp = options.overlap() * scale;
        float[] wx = Tiling.weights(tw, ramp, t.x() > 0, t.x() + t.width() < pw);
        float[] wy = Tiling.weights(th, ramp, t.y() > 0, t.y() + t.height() < ph);
        int x0 = t.x() * scale;
        int y0 = t.y() * scale;
        int rows = Math.min(th, oh - y0);
        int cols = Math.min(tw, ow - x0);
        for (int yy = 0; yy < rows; yy++) {
            int dst = (y0 + yy) * ow + x0;
            for (int xx = 0; xx < cols; xx++) {
                float wgt = weightSum == null ? 1f : wx[xx] * wy[yy];
                for (int c = 0; c < 3; c++) {
                    sr[c][dst + xx] += wgt * y[(c * th + yy) * tw + xx];
                }
                if (weightSum != null) {
                    weightSum[dst + xx] += wgt;
                }
            }
        }
    }

    /** Quantises the [−1, 1] planes into an image like the input (gray or RGB, alpha, bit depth). */
    static Image output(Image in, float[][] sr, int ow, int oh) {
        int plane = ow * oh;
        Image out = Image.blank(ow, oh, in.channels(), in.maxValue());
        float[] d = out.data();
        for (int i = 0; i < plane; i++) {
            float r = unit(sr[0][i]);
            float g = unit(sr[1][i]);
            float b = unit(sr[2][i]);
            if (in.isGray()) {
                d[i] = quantise(0.299f * r + 0.587f * g + 0.114f * b, in.maxValue());
            } else {
                d[i] = quantise(r, in.maxValue());
                d[plane + i] = quantise(g, in.maxValue());
                d[2 * plane + i] = quantise(b, in.maxValue());
            }
        }
        if (in.hasAlpha()) {
            int a = in.colorChannels();
            float[] alpha = Resample.bicubic(in.plane(a), in.width(), in.height(), ow, oh);
            for (int i = 0; i < plane; i++) {
                d[a * plane + i] = Math.min(Math.max(Math.round(alpha[i]), 0), in.maxValue());
            }
        }
        return out;
    }

    /** {@code clamp(v/2 + 0.5, 0, 1)}. */
    private static float unit(float v) {
        float u = v / 2f + 0.5f;
        return u < 0f ? 0f : (u > 1f ? 1f : u);
    }

    private static float quantise(float u, int max) {
        return max == 255 ? (float) (int) (u * 255f) : Math.round(u * 65535f);
    }
}
