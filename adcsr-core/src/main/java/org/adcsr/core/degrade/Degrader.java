package org.adcsr.core.degrade;

import org.adcsr.core.image.Image;

/**
 * Applies one recorded pair to its source image (spec §2 and §4): flip, pad, crop, [USM], blur, resize, noise, JPEG,
 * [blur], resize, noise, final sinc/JPEG in the recorded order, quantisation, paired crop. Pure: the same record
 * and source give the same bytes on every thread.
 */
public final class Degrader {
    public static final String DIFFJPEG = "diffjpeg";
    public static final String IMAGEIO = "imageio";

    private Degrader() {
    }

    /** The HR crop and its LR, both quantised to 8-bit values (multiples of 1/255). */
    public record Pair(Planes hr, Planes lr) {
    }

    /**
     * A source image of {@code width × height} of which {@code planes} holds the part whose top-left pixel is
     * ({@code x0}, {@code y0}): the whole image, or just the region one pair reads ({@link #region}).
     */
    public record Source(Planes planes, int x0, int y0, int width, int height) {
        public static Source whole(Planes planes) {
            return new Source(planes, 0, 0, planes.w, planes.h);
        }
    }

    /**
     * The region {x, y, w, h} of a {@code width × height} source that the pair's GT crop reads (after the flip,
     * the reflect padding and the crop), for a source too large to decode whole: the crop box, or the whole side
     * where the source is not larger than the crop (padded by reflection). A record whose crop box does not fit
     * gets one pixel, for {@link #check} to refuse without decoding more.
     */
    public static int[] region(PairRecord p, int width, int height) {
        int size = p.cropSize;
        boolean rowsFit = height <= size || (p.cropTop >= 0 && p.cropTop <= height - size);
        boolean colsFit = width <= size || (p.cropLeft >= 0 && p.cropLeft <= width - size);
        if (!rowsFit || !colsFit) {
            return new int[] {0, 0, 1, 1};
        }
        int y = height <= size ? 0 : p.cropTop;
        int h = Math.min(height, size);
        int x = width <= size ? 0 : (p.hflip ? width - p.cropLeft - size : p.cropLeft);
        int w = Math.min(width, size);
        return new int[] {x, y, w, h};
    }

    public static String codec(String name) {
        if (!name.equals(DIFFJPEG) && !name.equals(IMAGEIO)) {
            throw new IllegalArgumentException("unknown JPEG codec '" + name + "' (diffjpeg or imageio)");
        }
        return name;
    }

    /** A decoded image as 8-bit RGB in [0,1] (gray replicated, alpha dropped, 16-bit rounded to 8-bit). */
    public static Planes toRgb(Image image) {
        Image img = image.maxValue() == 255 && !image.hasAlpha() ? image : org.adcsr.core.image.Images.to8BitOpaque(
                image);
        int plane = img.width() * img.height();
        Planes out = new Planes(3, img.height(), img.width());
        for (int ch = 0; ch < 3; ch++) {
            int src = img.isGray() ? 0 : ch * plane;
            for (int i = 0; i < plane; i++) {
                out.d[ch * plane + i] = img.data()[src + i] / 255f;
            }
        }
        return out;
    }

    /** Checks that a record fits its source and is self-consistent; IllegalArgumentException otherwise. */
    static void check(PairRecord p, Source source) {
        if (source.width() != p.sourceWidth || source.height() != p.sourceHeight) {
            throw new IllegalArgumentException("source is " + source.width() + "x" + source.height()
                    + ", the record says " + p.sourceWidth + "x" + p.sourceHeight);
        }
        int srcH = source.height();
        int srcW = source.width();
        int size = p.cropSize;
        if (size < 44 || size % 4 != 0 || p.gtSize < 4 || p.gtSize % 4 != 0 || p.gtSize > size) {
            throw new IllegalArgumentException("bad crop_pad_size/gt_size " + size + "/" + p.gtSize);
        }
        if (p.padBottom != Math.max(0, size - srcH) || p.padRight != Math.max(0, size - srcW)
                || p.cropTop < 0 || p.cropLeft < 0 || p.cropTop + size > srcH + p.padBottom
                || p.cropLeft + size > srcW + p.padRight) {
            throw new IllegalArgumentException("crop box does not fit the source");
        }
        int[] need = region(p, source.width(), source.height());
        Planes src = source.planes();
        if (need[0] < source.x0() || need[1] < source.y0() || need[0] + need[2] > source.x0() + src.w
                || need[1] + need[3] > source.y0() + src.h) {
            throw new IllegalArgumentException("the decoded part of the source does not hold the crop");
        }
        int room = size / 4 - p.gtSize / 4;
        if (p.lrCropTop < 0 || p.lrCropLeft < 0 || p.lrCropTop > room || p.lrCropLeft > room) {
            throw new IllegalArgumentException("LR crop offset out of range");
        }
        for (PairRecord.KernelDraw k : new PairRecord.KernelDraw[] {p.kernel1, p.kernel2, p.sinc}) {
            if (k.size < 1 || k.size > 21 || k.size % 2 == 0) {
                throw new IllegalArgumentException("kernel size must be odd, at most 21: " + k.size);
            }
        }
        for (PairRecord.Stage s : new PairRecord.Stage[] {p.stage1, p.stage2}) {
            if (!(s.scale > 0) || !(s.quality > 0 && s.quality <= 100) || !(s.strength >= 0)) {
                throw new IllegalArgumentException("bad scale, noise strength or JPEG quality");
            }
        }
    }

    /** The GT crop: flip, reflect-101 pad bottom/right, crop (spec §2, steps 2 to 4). */
    static Planes gtCrop(PairRecord p, Source source) {
        int size = p.cropSize;
        int h = source.height();
        int w = source.width();
        Planes src = source.planes();
        int x0 = source.x0();
        int y0 = source.y0();
        Planes out = new Planes(3, size, size);
        for (int ch = 0; ch < 3; ch++) {
            for (int y = 0; y < size; y++) {
                int sy = Filter.reflect(y + p.cropTop, h);
                for (int x = 0; x < size; x++) {
                    int px = x + p.cropLeft;
                    int sx = Filter.reflect(px, w);
                    if (p.hflip) {
                        sx = w - 1 - sx;
                    }
                    out.d[(ch * size + y) * size + x] = src.d[(ch * src.h + sy - y0) * src.w + sx - x0];
                }
            }
        }
        return out;
    }

    public static Pair apply(PairRecord p, Planes src) {
        return apply(p, Source.whole(src));
    }

    public static Pair apply(PairRecord p, Source src) {
        check(p, src);
        Planes gt = gtCrop(p, src);
        int size = p.cropSize;
        Planes out = p.usm ? Usm.sharpen(gt) : gt;
        // stage 1
        out = blur(out, p.kernel1);
        out = p.stage1.scale == 1 ? out : Resize.byScale(out, p.stage1.scale, Resize.Mode.of(p.stage1.mode));
        out = noise(out, p.stage1);
        out = jpeg(out.clamp01(), p.stage1.quality, p.jpegCodec);
        // stage 2
        if (p.secondBlur) {
            out = blur(out, p.kernel2);
        }
        int h2 = (int) (size / 4.0 * p.stage2.scale);
        int w2 = (int) (size / 4.0 * p.stage2.scale);
        out = Resize.toSize(out, h2, w2, Resize.Mode.of(p.stage2.mode));
        out = noise(out, p.stage2);
        int lr = size / 4;
        Resize.Mode mode = Resize.Mode.of(p.finalMode);
        if (p.resizeFirst) {
            out = Resize.toSize(out, lr, lr, mode);
            out = blur(out, p.sinc);
            out = jpeg(out.clamp01(), p.stage2.quality, p.jpegCodec);
        } else {
            out = jpeg(out.clamp01(), p.stage2.quality, p.jpegCodec);
            out = Resize.toSize(out, lr, lr, mode);
            out = blur(out, p.sinc);
        }
        out.quantize();
        int g = p.gtSize;
        return new Pair(crop(gt, p.lrCropTop * 4, p.lrCropLeft * 4, g), crop(out, p.lrCropTop, p.lrCropLeft, g / 4));
    }

    private static Planes blur(Planes img, PairRecord.KernelDraw k) {
        if (k.type.equals("pulse")) {
            return img;
        }
        return Filter.filter2D(img, k.padded(), Kernels.PADDED);
    }

    private static Planes noise(Planes img, PairRecord.Stage s) {
        return s.gaussian ? Noise.gaussian(img, s.strength, s.gray, s.noiseSeed)
                : Noise.poisson(img, s.strength, s.gray, s.noiseSeed);
    }

    private static Planes jpeg(Planes img, double quality, String codec) {
        return codec.equals(IMAGEIO) ? RealJpeg.apply(img, quality) : DiffJpeg.apply(img, quality);
    }

    static Planes crop(Planes img, int top, int left, int size) {
        if (top == 0 && left == 0 && size == img.h && size == img.w) {
            return img;
        }
        Planes out = new Planes(img.c, size, size);
        for (int ch = 0; ch < img.c; ch++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(img.d, (ch * img.h + y + top) * img.w + left, out.d, (ch * size + y) * size, size);
            }
        }
        return out;
    }

    /** Planes with 8-bit values as an 8-bit RGB {@link Image}. */
    public static Image toImage(Planes p) {
        Image img = Image.blank(p.w, p.h, p.c, 255);
        for (int i = 0; i < p.d.length; i++) {
            img.data()[i] = Math.round(Math.min(1f, Math.max(0f, p.d[i])) * 255f);
        }
        return img;
    }
}
