package org.adcsr.core.image;

/**
 * A decoded image: planar samples ({@code data[(c·height + y)·width + x]}) holding the file's integer sample values
 * exactly (0…{@code maxValue}, 255 for 8-bit, 65535 for 16-bit), so metrics can use the same integers the
 * reference implementations see.
 *
 * @param width pixels per row
 * @param height rows
 * @param channels 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
 * @param maxValue largest sample value of the bit depth: 255 or 65535
 * @param data planar samples, {@code channels · height · width} values
 */
public record Image(int width, int height, int channels, int maxValue, float[] data) {

    public Image {
        if (width < 1 || height < 1 || channels < 1 || channels > 4) {
            throw new IllegalArgumentException("bad image geometry " + width + "x" + height + "x" + channels);
        }
        if ((long) width * height * channels != data.length) {
            throw new IllegalArgumentException("data length " + data.length + " is not " + width + "x" + height
                    + "x" + channels);
        }
        if (maxValue != 255 && maxValue != 65535) {
            throw new IllegalArgumentException("max value must be 255 or 65535: " + maxValue);
        }
    }

    /** A blank image of the given geometry. */
    public static Image blank(int width, int height, int channels, int maxValue) {
        return new Image(width, height, channels, maxValue, new float[Math.multiplyExact(width * height, channels)]);
    }

    public int bitDepth() {
        return maxValue == 255 ? 8 : 16;
    }

    public boolean hasAlpha() {
        return channels == 2 || channels == 4;
    }

    public boolean isGray() {
        return channels <= 2;
    }

    /** Colour channels without alpha: 1 or 3. */
    public int colorChannels() {
        return isGray() ? 1 : 3;
    }

    public float sample(int c, int y, int x) {
        return data[(c * height + y) * width + x];
    }

    public void setSample(int c, int y, int x, float v) {
        data[(c * height + y) * width + x] = v;
    }

    /** The samples of one channel (a copy), {@code height · width} values. */
    public float[] plane(int c) {
        float[] p = new float[width * height];
        System.arraycopy(data, c * width * height, p, 0, p.length);
        return p;
    }
}
