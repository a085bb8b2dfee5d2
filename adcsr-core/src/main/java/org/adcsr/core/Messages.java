package org.adcsr.core;

/**
 * Message hygiene for text that comes from a file: control characters escaped, long names clipped with an ellipsis,
 * so that an error stays one readable line however hostile the file.
 */
public final class Messages {
    /** The longest message {@link BadInputException} keeps whole. */
    public static final int MAX_MESSAGE = 300;

    private Messages() {
    }

    /**
     * {@code text} with control and bidirectional-override characters escaped ({@code \n}, {@code \x1b},
     * {@code \u202e}), then clipped to at most {@code max} characters: the start and the end kept, an ellipsis
     * between.
     */
    public static String clip(String text, int max) {
        String s = escape(text);
        if (s.length() <= max) {
            return s;
        }
        int head = (max - 1) * 2 / 3;
        int tail = max - 1 - head;
        return s.substring(0, head) + "…" + s.substring(s.length() - tail);
    }

    /** {@code text} with every control character (C0, DEL, C1) and bidi control escaped; other text unchanged. */
    public static String escape(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = null;
        int n = Math.min(text.length(), 1 << 16); // longer text is clipped afterwards anyway
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            String rep = null;
            if (c == '\n') {
                rep = "\\n";
            } else if (c == '\r') {
                rep = "\\r";
            } else if (c == '\t') {
                rep = "\\t";
            } else if (c < 0x20 || c >= 0x7f && c < 0xa0) {
                rep = String.format("\\x%02x", (int) c);
            } else if (c >= 0x202a && c <= 0x202e || c >= 0x2066 && c <= 0x2069 || c == 0x200e || c == 0x200f
                    || c == 0xfeff || Character.isSurrogate(c) && !validSurrogate(text, i)) {
                rep = String.format("\\u%04x", (int) c);
            }
            if (rep != null && out == null) {
                out = new StringBuilder(n + 16).append(text, 0, i);
            }
            if (out != null) {
                if (rep != null) {
                    out.append(rep);
                } else {
                    out.append(c);
                }
            }
        }
        String s = out != null ? out.toString() : text.substring(0, n);
        return n < text.length() ? s + "…" : s;
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /**
     * A whole message made safe: line breaks joined with {@code "; "} (as the tools print multi-line messages), other
     * control characters escaped, and at most {@link #MAX_MESSAGE} characters.
     */
    public static String oneLine(String message) {
        return clip(message == null ? null : message.strip().replaceAll("\\s*\\R\\s*", "; "), MAX_MESSAGE);
    }
}
