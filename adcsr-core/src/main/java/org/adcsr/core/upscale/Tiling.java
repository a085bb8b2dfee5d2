package org.adcsr.core.upscale;

import java.util.ArrayList;
import java.util.List;

/**
 * Tile geometry and blending weights. Tiles cover the (padded) LR image; neighbouring tiles overlap, and their
 * outputs are blended with weights that fade from 0 to 1 across the overlap, so no seam shows.
 */
public final class Tiling {
    private Tiling() {
    }

    /** One tile: its top-left corner and size in LR pixels. */
    public record Tile(int x, int y, int width, int height) {
    }

    /**
     * Start offsets of tiles of length {@code tile} covering {@code size} with at least {@code overlap} overlap; the
     * last tile ends at {@code size}. One tile when {@code size <= tile}. With {@code size}, {@code tile} and
     * {@code overlap} multiples of m, every start is a multiple of m.
     */
    public static int[] starts(int size, int tile, int overlap) {
        if (tile <= overlap) {
            throw new IllegalArgumentException("tile " + tile + " must be larger than overlap " + overlap);
        }
        if (size <= tile) {
            return new int[] {0};
        }
        int stride = tile - overlap;
        int n = (size - tile + stride - 1) / stride + 1;
        int[] s = new int[n];
        for (int i = 0; i < n - 1; i++) {
            s[i] = i * stride;
        }
        s[n - 1] = size - tile;
        return s;
    }

    /** All tiles of a {@code width × height} image, row by row. */
    public static List<Tile> tiles(int width, int height, int tile, int overlap) {
        List<Tile> tiles = new ArrayList<>();
        for (int y : starts(height, tile, overlap)) {
            for (int x : starts(width, tile, overlap)) {
                tiles.add(new Tile(x, y, Math.min(tile, width), Math.min(tile, height)));
            }
        }
        return tiles;
    }

    /**
     * Blending weights along one axis of a tile's output: {@code length} samples, 1 in the middle. Where the tile has
     * a neighbour before it (and likewise after it), the first {@code ramp} samples fade in: the outer quarter, where
     * zero padding at the tile edge disturbs the network's output, gets (almost) no weight, and the rest rises along
     * a smoothstep curve, whose slope is continuous, to 1. Weights are positive everywhere.
     */
    public static float[] weights(int length, int ramp, boolean before, boolean after) {
        float[] w = new float[length];
        int margin = ramp / 4;
        for (int i = 0; i < length; i++) {
            float v = 1f;
            if (before && i < ramp) {
                v = Math.min(v, fade(i, margin, ramp));
            }
            if (after && length - 1 - i < ramp) {
                v = Math.min(v, fade(length - 1 - i, margin, ramp));
            }
            w[i] = v;
        }
        return w;
    }

    /** Weight at distance {@code i} from a tile edge: ~0 within {@code margin}, smoothstep up to 1 at {@code ramp}. */
    private static float fade(int i, int margin, int ramp) {
        float t = (i + 0.5f - margin) / (ramp - margin);
        t = Math.max(0f, Math.min(1f, t));
        return Math.max(1e-4f, t * t * (3 - 2 * t));
    }

    /**
     * Reflect padding as an index map ({@code numpy.pad(mode="reflect")}, mirrored without repeating the edge,
     * periodically, so any amount of padding works); a 1-pixel axis repeats its pixel.
     */
    public static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    /** {@code size} rounded up to a multiple of {@code m}. */
    public static int roundUp(int size, int m) {
        return (size + m - 1) / m * m;
    }
}
