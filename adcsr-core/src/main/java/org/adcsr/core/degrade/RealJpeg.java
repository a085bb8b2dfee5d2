package org.adcsr.core.degrade;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;

/**
 * A genuine JPEG round trip through the JDK's libjpeg-based ImageIO codec: 8-bit samples ({@code round(x·255)}),
 * integer quality ({@code round(q)}, IJG table scaling clamped to [1,255]), 4:2:0 chroma, baseline; decoded back to
 * [0,1]. Like BasicSR's CPU helper {@code add_jpg_compression} (OpenCV), not bit-identical to it or to DiffJPEG.
 */
public final class RealJpeg {
    private RealJpeg() {
    }

    public static Planes apply(Planes img, double quality) {
        int q = (int) Math.max(1, Math.min(100, Math.round(quality)));
        Image im = Image.blank(img.w, img.h, 3, 255);
        for (int i = 0; i < img.d.length; i++) {
            im.data()[i] = Math.round(Math.min(1f, Math.max(0f, img.d[i])) * 255f);
        }
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Images.write(im, "jpeg", q, bytes);
            Image back = Images.decode(bytes.toByteArray(), "jpeg round trip", Long.MAX_VALUE);
            Planes out = new Planes(3, img.h, img.w);
            for (int i = 0; i < out.d.length; i++) {
                out.d[i] = back.data()[i] / 255f;
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
