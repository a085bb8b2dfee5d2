// How far two images of the same size are apart: largest difference, values that differ, PSNR.
//   java -cp 'lib/*' bench/ImageDiff.java A.png B.png
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;

public class ImageDiff {
    public static void main(String[] args) {
        Image a = Images.read(java.nio.file.Path.of(args[0]));
        Image b = Images.read(java.nio.file.Path.of(args[1]));
        if (a.width() != b.width() || a.height() != b.height() || a.channels() != b.channels()) {
            throw new IllegalArgumentException("sizes differ");
        }
        float max = 0;
        long differ = 0;
        double se = 0;
        for (int i = 0; i < a.data().length; i++) {
            float d = Math.abs(a.data()[i] - b.data()[i]);
            max = Math.max(max, d);
            differ += d > 0 ? 1 : 0;
            se += d * d;
        }
        double mse = se / a.data().length;
        System.out.printf("diff,max=%.0f,values_differing=%d of %d (%.4f%%),psnr_db=%s%n", max, differ,
                a.data().length, 100.0 * differ / a.data().length,
                mse == 0 ? "inf" : String.format("%.1f", 10 * Math.log10(a.maxValue() * a.maxValue() / mse)));
    }
}
