package org.adcsr.core.image;

/**
 * The EXIF orientation of a JPEG (tag 0x0112 of IFD0 in the APP1 "Exif" segment), and applying it. Cameras store
 * pixels as the sensor saw them and record how to turn them; viewers honour the tag, so we do too.
 */
public final class Exif {
    private Exif() {
    }

    /** The orientation 1…8 of a JPEG file's bytes; 1 (as stored) when absent, unreadable or not a JPEG. */
    public static int orientation(byte[] b) {
        if (b.length < 4 || (b[0] & 0xff) != 0xff || (b[1] & 0xff) != 0xd8) {
            return 1;
        }
        int p = 2;
        while (p + 4 <= b.length && (b[p] & 0xff) == 0xff) {
            int marker = b[p + 1] & 0xff;
            int len = u16(b, p + 2, false);
            if (marker == 0xda || len < 2) { // start of scan: no more metadata
                return 1;
            }
            int start = p + 4;
            if (marker == 0xe1 && len >= 8 && start + 6 <= b.length && b[start] == 'E' && b[start + 1] == 'x'
                    && b[start + 2] == 'i' && b[start + 3] == 'f') {
                return fromTiff(b, start + 6, Math.min(b.length, p + 2 + len));
            }
            p += 2 + len;
        }
        return 1;
    }

    private static int fromTiff(byte[] b, int tiff, int end) {
        if (tiff + 8 > end) {
            return 1;
        }
        boolean little = b[tiff] == 'I' && b[tiff + 1] == 'I';
        if (!little && !(b[tiff] == 'M' && b[tiff + 1] == 'M')) {
            return 1;
        }
        long ifd = u32(b, tiff + 4, little);
        if (ifd < 8 || tiff + ifd + 2 > end) {
            return 1;
        }
        int at = (int) (tiff + ifd);
        int entries = u16(b, at, little);
        for (int i = 0; i < entries; i++) {
            int e = at + 2 + 12 * i;
            if (e + 12 > end) {
                return 1;
            }
            if (u16(b, e, little) == 0x0112) {
                int v = u16(b, e + 8, little);
                return v >= 1 && v <= 8 ? v : 1;
            }
        }
        return 1;
    }

    private static int u16(byte[] b, int i, boolean little) {
        return little ? (b[i] & 0xff) | (b[i + 1] & 0xff) << 8 : (b[i] & 0xff) << 8 | (b[i + 1] & 0xff);
    }

    private static long u32(byte[] b, int i, boolean little) {
        long lo = u16(b, little ? i : i + 2, little);
        long hi = u16(b, little ? i + 2 : i, little);
        return hi << 16 | lo;
    }

    /**
     * The image as it should be displayed for an EXIF orientation: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
     * 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
     */
    public static Image apply(Image img, int orientation) {
        if (orientation <= 1 || orientation > 8) {
            return img;
        }
        int w = img.width();
        int h = img.height();
        boolean swap = orientation >= 5;
        int ow = swap ? h : w;
        int oh = swap ? w : h;
        Image out = Image.blank(ow, oh, img.channels(), img.maxValue());
        int[] s = new int[2];
        for (int c = 0; c < img.channels(); c++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    stored(orientation, x, y, w, h, s);
                    out.setSample(c, y, x, img.sample(c, s[1], s[0]));
                }
            }
        }
        return out;
    }

    /**
     * Where pixel (x, y) of the image as shown comes from in the stored {@code w × h} image: {@code s[0]} = stored
     * x, {@code s[1]} = stored y.
     */
    static void stored(int orientation, int x, int y, int w, int h, int[] s) {
        switch (orientation) {
            case 2 -> { s[0] = w - 1 - x; s[1] = y; }
            case 3 -> { s[0] = w - 1 - x; s[1] = h - 1 - y; }
            case 4 -> { s[0] = x; s[1] = h - 1 - y; }
            case 5 -> { s[0] = y; s[1] = x; }
            case 6 -> { s[0] = y; s[1] = h - 1 - x; }
            case 7 -> { s[0] = w - 1 - y; s[1] = h - 1 - x; }
            case 8 -> { s[0] = w - 1 - y; s[1] = x; }
            default -> { s[0] = x; s[1] = y; }
        }
    }
}
