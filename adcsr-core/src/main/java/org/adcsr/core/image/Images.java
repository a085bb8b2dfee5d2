package org.adcsr.core.image;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.AtomicFiles;

/**
 * Reading and writing images through ImageIO (PNG 8/16-bit, JPEG with its EXIF orientation applied, BMP, GIF, TIFF,
 * WebP through the TwelveMonkeys plugin, and any other plugin on the class path), with the checks the tools need: the size in the header is checked against a pixel limit before any pixel is
 * decoded (decompression bombs), and every failure is a one-line {@link BadInputException} naming the file.
 */
public final class Images {
    /** Default largest accepted image: 2^28 pixels (16384 × 16384). */
    public static final long DEFAULT_MAX_PIXELS = 1L << 28;

    private Images() {
    }

    /** The file name extensions the tools read as images (lower case). */
    public static final java.util.Set<String> EXTENSIONS =
            java.util.Set.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp");

    /** Whether {@code file}'s name has one of the {@link #EXTENSIONS}, in any case. */
    public static boolean isImageName(Path file) {
        return EXTENSIONS.contains(extension(file).toLowerCase(java.util.Locale.ROOT));
    }

    /** Reads an image file, refusing images over {@link #DEFAULT_MAX_PIXELS}. */
    public static Image read(Path file) {
        return read(file, DEFAULT_MAX_PIXELS);
    }

    public static Image read(Path file, long maxPixels) {
        return decode(bytes(file), file.toString(), maxPixels);
    }

    private static byte[] bytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw BadInputException.of(file, "no such file", e);
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The width and height {@link #read} would give (EXIF orientation applied), from the file's header alone: no
     * pixel is decoded, so sizes can be compared before any memory goes to pixels.
     */
    public static int[] size(Path file) {
        byte[] bytes = bytes(file);
        return withReader(bytes, file.toString(), reader -> {
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            return Exif.orientation(bytes) >= 5 ? new int[] {h, w} : new int[] {w, h};
        });
    }

    /** What {@link #withReader} runs on the file's ImageIO reader. */
    private interface ReaderBody<T> {
        T apply(ImageReader reader) throws IOException;
    }

    /**
     * Runs {@code body} on an ImageIO reader of {@code bytes}; every failure becomes a one-line
     * {@link BadInputException} naming {@code name}.
     */
    private static <T> T withReader(byte[] bytes, String name, ReaderBody<T> body) {
        if (bytes.length == 0) {
            throw new BadInputException(name + ": empty file");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new BadInputException(name + ": not an image in a supported format");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return body.apply(reader);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadInputException b) {
                throw b;
            }
            throw new BadInputException(name + ": corrupt or unsupported image (" + oneLine(e) + ")", e);
        }
    }

    /** Reads a whole stream (for example stdin, named {@code -} in messages). */
    public static Image read(InputStream in, String name, long maxPixels) {
        try {
            return decode(in.readAllBytes(), name, maxPixels);
        } catch (IOException e) {
            throw new BadInputException(name + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Decodes an encoded image; {@code name} is used in messages. */
    public static Image decode(byte[] bytes, String name, long maxPixels) {
        return decode(bytes, name, maxPixels, null);
    }

    /**
     * The pixels {@code [x, x+w) × [y, y+h)} of an image file, in the orientation {@link #read} gives: the same
     * samples as that crop of {@link #read}, but only the region is kept while the file is decoded (ImageIO's source
     * region), so a large image costs memory for the crop alone. The whole image is still checked against
     * {@code maxPixels}. A region not inside the image (the file changed since its size was read) is a
     * {@link BadInputException} naming the file.
     */
    public static Image readRegion(Path file, int x, int y, int w, int h, long maxPixels) {
        return decode(bytes(file), file.toString(), maxPixels, new int[] {x, y, w, h});
    }

    private static Image decode(byte[] bytes, String name, long maxPixels, int[] region) {
        if (bytes.length == 0) {
            throw new BadInputException(name + ": empty file");
        }
        checkPng(bytes, name, maxPixels);
        return withReader(bytes, name, reader -> {
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            if (w < 1 || h < 1) {
                throw new BadInputException(name + ": image has no pixels (" + w + "x" + h + ")");
            }
            if ((long) w * h > maxPixels) {
                throw new BadInputException(name + ": image is " + w + "x" + h + ", over the limit of "
                        + maxPixels + " pixels");
            }
            int orientation = Exif.orientation(bytes); // JPEG only; 1 elsewhere
            javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
            if (region != null) {
                param.setSourceRegion(storedRegion(region, orientation, w, h));
            }
            Image img = fromBuffered(reader.read(0, param), name);
            return Exif.apply(img, orientation);
        });
    }

    /** The stored image's rectangle that holds region {x, y, w, h} of the image as shown. */
    private static java.awt.Rectangle storedRegion(int[] region, int orientation, int w, int h) {
        boolean swap = orientation >= 5 && orientation <= 8;
        int shownW = swap ? h : w;
        int shownH = swap ? w : h;
        int x = region[0];
        int y = region[1];
        if (x < 0 || y < 0 || region[2] < 1 || region[3] < 1 || x + region[2] > shownW || y + region[3] > shownH) {
            throw new IllegalArgumentException("the region " + region[2] + "x" + region[3] + "+" + x + "+" + y
                    + " is not inside the " + shownW + "x" + shownH + " image");
        }
        int[] a = new int[2];
        int[] b = new int[2];
        Exif.stored(orientation, x, y, w, h, a);
        Exif.stored(orientation, x + region[2] - 1, y + region[3] - 1, w, h, b);
        int sx = Math.min(a[0], b[0]);
        int sy = Math.min(a[1], b[1]);
        return new java.awt.Rectangle(sx, sy, Math.max(a[0], b[0]) - sx + 1, Math.max(a[1], b[1]) - sy + 1);
    }

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /** Deflate never compresses by more than about 1032:1, so fewer IDAT bytes cannot hold the claimed pixels. */
    private static final long DEFLATE_MAX_RATIO = 1032;

    /**
     * For a PNG, before anything is decoded: every chunk's CRC-32 (up to IEND), chunk lengths inside the file, and
     * enough IDAT bytes for the size IHDR claims (a 731-byte file claiming 16384 × 16384 is refused here, not after
     * allocating the image). Other formats pass unchanged.
     */
    static void checkPng(byte[] b, String name, long maxPixels) {
        if (b.length < 8 || !java.util.Arrays.equals(b, 0, 8, PNG_SIGNATURE, 0, 8)) {
            return;
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        int pos = 8;
        long idat = 0;
        double rawBytes = -1;
        while (true) {
            if (b.length - pos < 12) {
                throw new BadInputException(name + ": PNG is truncated (no IEND chunk)");
            }
            long length = ((b[pos] & 0xffL) << 24) | ((b[pos + 1] & 0xff) << 16) | ((b[pos + 2] & 0xff) << 8)
                    | (b[pos + 3] & 0xff);
            if (length > b.length - pos - 12L) {
                throw new BadInputException(name + ": PNG chunk at byte " + pos + " claims " + length
                        + " bytes, past the end of the file");
            }
            int n = (int) length;
            String type = new String(b, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            crc.reset();
            crc.update(b, pos + 4, 4 + n);
            int stored = ((b[pos + 8 + n] & 0xff) << 24) | ((b[pos + 9 + n] & 0xff) << 16)
                    | ((b[pos + 10 + n] & 0xff) << 8) | (b[pos + 11 + n] & 0xff);
            if ((int) crc.getValue() != stored) {
                throw new BadInputException(name + ": PNG chunk " + org.adcsr.core.Messages.clip(type, 8)
                        + " at byte " + pos + " fails its CRC-32 check: the file is corrupt");
            }
            if (type.equals("IHDR") && n >= 13) {
                long w = ((b[pos + 8] & 0xffL) << 24) | ((b[pos + 9] & 0xff) << 16) | ((b[pos + 10] & 0xff) << 8)
                        | (b[pos + 11] & 0xff);
                long h = ((b[pos + 12] & 0xffL) << 24) | ((b[pos + 13] & 0xff) << 16)
                        | ((b[pos + 14] & 0xff) << 8) | (b[pos + 15] & 0xff);
                if (w < 1 || h < 1 || (double) w * h > maxPixels) {
                    throw new BadInputException(name + ": image is " + w + "x" + h + ", "
                            + (w < 1 || h < 1 ? "without pixels" : "over the limit of " + maxPixels + " pixels"));
                }
                int depth = b[pos + 16] & 0xff;
                int channels = switch (b[pos + 17] & 0xff) {
                    case 2 -> 3;
                    case 4 -> 2;
                    case 6 -> 4;
                    default -> 1;
                };
                boolean interlaced = (b[pos + 20] & 0xff) != 0;
                // rows of filter byte + packed samples; Adam7 has more filter bytes, so use the plain bound then
                rawBytes = interlaced ? (double) w * h * channels * Math.max(1, depth) / 8
                        : h * (1 + Math.ceil((double) w * channels * depth / 8));
            } else if (type.equals("IDAT")) {
                idat += n;
            }
            pos += 12 + n;
            if (type.equals("IEND")) {
                break;
            }
        }
        if (rawBytes > 0 && idat * DEFLATE_MAX_RATIO < rawBytes) {
            throw new BadInputException(name + ": PNG claims " + (long) rawBytes + " bytes of pixels but holds only " + idat
                    + " compressed bytes, too few for any valid image data (truncated or forged)");
        }
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s+", " ");
    }

    /** Converts a decoded image, keeping 8- or 16-bit integer samples; palette and packed images become 8-bit. */
    static Image fromBuffered(BufferedImage img, String name) {
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        int w = img.getWidth();
        int h = img.getHeight();
        boolean gray = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        boolean alpha = cm.hasAlpha();
        int colors = gray ? 1 : 3;
        int channels = colors + (alpha ? 1 : 0);
        boolean direct = cm instanceof ComponentColorModel && r.getNumBands() == channels
                && (cm.getColorSpace().getType() == ColorSpace.TYPE_RGB || gray);
        int bits = direct ? cm.getComponentSize(0) : 8;
        if (direct && bits != 8 && bits != 16) {
            throw new BadInputException(name + ": " + bits + "-bit samples are not supported (8 or 16)");
        }
        Image out = Image.blank(w, h, channels, bits == 16 ? 65535 : 255);
        float[] d = out.data();
        int plane = w * h;
        if (direct) {
            int[] row = new int[w];
            for (int c = 0; c < channels; c++) {
                for (int y = 0; y < h; y++) {
                    r.getSamples(0, y, w, 1, c, row);
                    for (int x = 0; x < w; x++) {
                        d[c * plane + y * w + x] = row[x];
                    }
                }
            }
            return out;
        }
        if (!(cm instanceof IndexColorModel) && cm.getColorSpace().getType() != ColorSpace.TYPE_RGB && !gray) {
            throw new BadInputException(name + ": colour space not supported (RGB or gray only; CMYK and others "
                    + "must be converted first)");
        }
        int[] argb = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, argb, 0, w);
            for (int x = 0; x < w; x++) {
                int p = argb[x];
                int i = y * w + x;
                if (gray) {
                    d[i] = p & 0xff;
                } else {
                    d[i] = (p >>> 16) & 0xff;
                    d[plane + i] = (p >>> 8) & 0xff;
                    d[2 * plane + i] = p & 0xff;
                }
                if (alpha) {
                    d[colors * plane + i] = (p >>> 24) & 0xff;
                }
            }
        }
        return out;
    }

    /** A BufferedImage with the image's exact samples (8- or 16-bit, gray or RGB, with or without alpha). */
    static BufferedImage toBuffered(Image img) {
        int w = img.width();
        int h = img.height();
        int channels = img.channels();
        int type = img.bitDepth() == 16 ? DataBuffer.TYPE_USHORT : DataBuffer.TYPE_BYTE;
        ColorSpace cs = ColorSpace.getInstance(img.isGray() ? ColorSpace.CS_GRAY : ColorSpace.CS_sRGB);
        ComponentColorModel cm = new ComponentColorModel(cs, img.hasAlpha(), false,
                img.hasAlpha() ? Transparency.TRANSLUCENT : Transparency.OPAQUE, type);
        WritableRaster r = cm.createCompatibleWritableRaster(w, h);
        int[] row = new int[w];
        float[] d = img.data();
        int plane = w * h;
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    row[x] = Math.round(d[c * plane + y * w + x]);
                }
                r.setSamples(0, y, w, 1, c, row);
            }
        }
        return new BufferedImage(cm, r, false, null);
    }

    /** Lower-case extension of a file name without the dot, or "" when it has none. */
    public static String extension(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /**
     * Writes an image atomically (temporary name, then rename); the format comes from the extension.
     *
     * @param jpegQuality 1…100, used for JPEG only
     */
    public static void write(Image img, Path file, int jpegQuality) {
        String format = formatOf(file);
        try {
            AtomicFiles.writeStream(file, out -> encode(img, format, jpegQuality, out));
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot write (" + oneLine(e) + ")", e);
        }
    }

    /** Writes an encoded image to a stream in the named format ({@code png}, {@code jpeg}, …). */
    public static void write(Image img, String format, int jpegQuality, OutputStream out) throws IOException {
        encode(img, format, jpegQuality, out);
    }

    /** The ImageIO format name for a file's extension; refuses extensions no writer handles. */
    public static String formatOf(Path file) {
        String ext = extension(file);
        String format = switch (ext) {
            case "jpg", "jpeg" -> "jpeg";
            case "tif", "tiff" -> "tiff";
            default -> ext;
        };
        if (format.isEmpty() || !ImageIO.getImageWritersByFormatName(format).hasNext()) {
            throw BadInputException.of(file, "cannot write images of type '" + ext + "' (use .png, .jpg, .bmp or .tif)");
        }
        return format;
    }

    private static void encode(Image img, String format, int jpegQuality, OutputStream os) throws IOException {
        Image src = img;
        if (format.equals("jpeg") || format.equals("bmp")) {
            src = to8BitOpaque(img); // these writers take neither 16-bit samples nor alpha
        }
        BufferedImage b = toBuffered(src);
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
        if (!writers.hasNext()) {
            throw new BadInputException("no image writer for format " + format);
        }
        ImageWriter writer = writers.next();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(os)) {
            writer.setOutput(out);
            ImageWriteParam p = writer.getDefaultWriteParam();
            if (format.equals("jpeg")) {
                p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionQuality(Math.max(1, Math.min(100, jpegQuality)) / 100f);
            }
            writer.write(null, new IIOImage(b, null, null), p);
        } finally {
            writer.dispose();
        }
    }

    /** Drops alpha and rounds 16-bit samples to 8-bit ({@code round(v·255/65535)}). */
    public static Image to8BitOpaque(Image img) {
        int colors = img.colorChannels();
        int plane = img.width() * img.height();
        Image out = Image.blank(img.width(), img.height(), colors, 255);
        float scale = 255f / img.maxValue();
        for (int i = 0; i < colors * plane; i++) {
            out.data()[i] = img.maxValue() == 255 ? img.data()[i] : Math.round(img.data()[i] * scale);
        }
        return out;
    }

}
