// Seam measure: mean gradient magnitude across tile borders against elsewhere, on an upscaled image.
// Run: java -cp 'lib/*' bench/SeamMeasure.java SR.png LR_WIDTH LR_HEIGHT TILE OVERLAP
// Tile borders are the output columns/rows where a tile starts or ends (the geometry adcsr-upscale uses). A ratio
// near 1 means borders are no sharper than the rest of the image: no visible seam. The network itself has structure
// on a grid of 2^k pixels, on which tile borders lie, so the reference is the same measure on an untiled result.
import java.nio.file.Path;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.upscale.Tiling;

public class SeamMeasure {
    public static void main(String[] a) {
        Image sr = Images.read(Path.of(a[0]));
        int lw = Integer.parseInt(a[1]);
        int lh = Integer.parseInt(a[2]);
        int tile = Integer.parseInt(a[3]);
        int overlap = Integer.parseInt(a[4]);
        boolean[] borderX = borders(Tiling.roundUp(lw, 16), tile, overlap, sr.width());
        boolean[] borderY = borders(Tiling.roundUp(lh, 16), tile, overlap, sr.height());
        double[] sum = new double[2];
        long[] n = new long[2];
        for (int c = 0; c < sr.colorChannels(); c++) {
            for (int y = 0; y < sr.height(); y++) {
                for (int x = 1; x < sr.width(); x++) { // horizontal differences: a seam at column x
                    int k = borderX[x] ? 0 : 1;
                    sum[k] += Math.abs(sr.sample(c, y, x) - sr.sample(c, y, x - 1));
                    n[k]++;
                }
            }
            for (int y = 1; y < sr.height(); y++) {
                for (int x = 0; x < sr.width(); x++) {
                    int k = borderY[y] ? 0 : 1;
                    sum[k] += Math.abs(sr.sample(c, y, x) - sr.sample(c, y - 1, x));
                    n[k]++;
                }
            }
        }
        double border = sum[0] / Math.max(1, n[0]);
        double rest = sum[1] / n[1];
        System.out.printf("seam_border_gradient,%.3f%nseam_other_gradient,%.3f%nseam_ratio,%.3f%n", border, rest,
                border / rest);
    }

    /** Output positions where a tile starts or ends (scale 4), excluding the image edges. */
    static boolean[] borders(int paddedLr, int tile, int overlap, int outSize) {
        boolean[] b = new boolean[outSize + 1];
        for (int s : Tiling.starts(paddedLr, tile, overlap)) {
            for (int edge : new int[] {4 * s, 4 * Math.min(s + tile, paddedLr)}) {
                if (edge > 0 && edge < outSize) {
                    b[edge] = true;
                }
            }
        }
        return b;
    }
}
