package org.adcsr.qnn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;

/** Calibration tiles: the centre {@code tile × tile} crop of each image, RGB in [−1, 1], NCHW. */
final class CalibImages {
    static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "webp", "bmp", "tif", "tiff", "ppm", "pgm");

    private CalibImages() {
    }

    /** The image files of a directory (sorted by name), or the file itself. */
    static List<Path> list(Path dirOrFile, int limit) {
        if (!Files.exists(dirOrFile)) {
            throw BadInputException.of(dirOrFile, "no such file or directory");
        }
        if (!Files.isDirectory(dirOrFile)) {
            return List.of(dirOrFile);
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dirOrFile)) {
            files = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                int dot = n.lastIndexOf('.');
                return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
            }).sorted().limit(limit).toList();
        } catch (IOException e) {
            throw BadInputException.of(dirOrFile, "cannot list (" + e.getMessage() + ")", e);
        }
        if (files.isEmpty()) {
            throw BadInputException.of(dirOrFile, "no calibration images (" + String.join(", ",
                    EXTENSIONS.stream().sorted().toList()) + ")");
        }
        return files;
    }

    /** The centre crop of an image as [1, 3, tile, tile] floats in [−1, 1]; gray is replicated, alpha dropped. */
    static float[] tile(Path file, int tile) {
        Image img = Images.read(file);
        if (img.width() < tile || img.height() < tile) {
            throw BadInputException.of(file, img.width() + "x" + img.height() + " is smaller than the "
                    + tile + "x" + tile + " tile");
        }
        int x0 = (img.width() - tile) / 2;
        int y0 = (img.height() - tile) / 2;
        float[] t = new float[3 * tile * tile];
        float half = img.maxValue() / 2f;
        for (int c = 0; c < 3; c++) {
            int src = img.isGray() ? 0 : c;
            for (int y = 0; y < tile; y++) {
                for (int x = 0; x < tile; x++) {
                    t[(c * tile + y) * tile + x] = img.sample(src, y0 + y, x0 + x) / half - 1f;
                }
            }
        }
        return t;
    }

    /** NCHW → NHWC for one image. */
    static float[] nhwc(float[] nchw, int c, int h, int w) {
        float[] r = new float[nchw.length];
        for (int ch = 0; ch < c; ch++) {
            for (int i = 0; i < h * w; i++) {
                r[i * c + ch] = nchw[ch * h * w + i];
            }
        }
        return r;
    }
}
