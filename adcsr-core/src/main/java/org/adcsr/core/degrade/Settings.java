package org.adcsr.core.degrade;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.adcsr.core.BadInputException;

/**
 * The degradation parameters, keyed by the option names of Real-ESRGAN's and AdcSR's YAML files (spec §1), plus
 * {@code crop_pad_size} (the crop before degradation), {@code use_hflip} and {@code use_usm}. Start from a preset,
 * then apply a config file and single overrides; {@link #validate} checks every range before any work starts.
 */
public final class Settings {
    /** Every key with its number of values, in a fixed order (the order of {@link #describe}). */
    private static final Map<String, Integer> ARITY = new LinkedHashMap<>();

    static {
        for (String k : new String[] {"gt_size", "crop_pad_size", "use_hflip", "use_usm", "sinc_prob", "sinc_prob2",
            "final_sinc_prob", "gaussian_noise_prob", "gray_noise_prob", "second_blur_prob", "gaussian_noise_prob2",
            "gray_noise_prob2"}) {
            ARITY.put(k, 1);
        }
        ARITY.put("kernel_prob", 6);
        ARITY.put("resize_prob", 3);
        ARITY.put("resize_prob2", 3);
        for (String k : new String[] {"blur_sigma", "blur_sigma2", "betag_range", "betag_range2", "betap_range",
            "betap_range2", "resize_range", "noise_range", "poisson_scale_range", "jpeg_range", "resize_range2",
            "noise_range2", "poisson_scale_range2", "jpeg_range2"}) {
            ARITY.put(k, 2);
        }
    }

    private final Map<String, double[]> values = new LinkedHashMap<>();

    private Settings() {
    }

    public static List<String> presets() {
        return List.of("adcsr", "realesrgan");
    }

    /** {@code adcsr}: AdcSR's config.yml; {@code realesrgan}: Real-ESRGAN's train_realesrgan_x4plus.yml. */
    public static Settings preset(String name) {
        Settings s = new Settings();
        double[] kernelProb = {0.45, 0.25, 0.12, 0.03, 0.12, 0.03};
        s.put("kernel_prob", kernelProb);
        s.put("sinc_prob", 0.1);
        s.put("sinc_prob2", 0.1);
        s.put("final_sinc_prob", 0.8);
        s.put("resize_prob", 0.2, 0.7, 0.1);
        s.put("resize_prob2", 0.3, 0.4, 0.3);
        s.put("gaussian_noise_prob", 0.5);
        s.put("gaussian_noise_prob2", 0.5);
        s.put("gray_noise_prob", 0.4);
        s.put("gray_noise_prob2", 0.4);
        s.put("use_hflip", 1);
        switch (name) {
            case "adcsr" -> {
                s.put("gt_size", 512);
                s.put("crop_pad_size", 512);
                s.put("use_usm", 0);
                s.put("blur_sigma", 0.2, 1.5);
                s.put("blur_sigma2", 0.2, 1.0);
                s.put("betag_range", 0.5, 2.0);
                s.put("betag_range2", 0.5, 2.0);
                s.put("betap_range", 1, 1.5);
                s.put("betap_range2", 1, 1.5);
                s.put("resize_range", 0.3, 1.5);
                s.put("noise_range", 1, 15);
                s.put("poisson_scale_range", 0.05, 2.0);
                s.put("jpeg_range", 60, 95);
                s.put("second_blur_prob", 0.5);
                s.put("resize_range2", 0.6, 1.2);
                s.put("noise_range2", 1, 12);
                s.put("poisson_scale_range2", 0.05, 1.0);
                s.put("jpeg_range2", 60, 100);
            }
            case "realesrgan" -> {
                s.put("gt_size", 256);
                s.put("crop_pad_size", 400);
                s.put("use_usm", 1);
                s.put("blur_sigma", 0.2, 3);
                s.put("blur_sigma2", 0.2, 1.5);
                s.put("betag_range", 0.5, 4);
                s.put("betag_range2", 0.5, 4);
                s.put("betap_range", 1, 2);
                s.put("betap_range2", 1, 2);
                s.put("resize_range", 0.15, 1.5);
                s.put("noise_range", 1, 30);
                s.put("poisson_scale_range", 0.05, 3);
                s.put("jpeg_range", 30, 95);
                s.put("second_blur_prob", 0.8);
                s.put("resize_range2", 0.3, 1.2);
                s.put("noise_range2", 1, 25);
                s.put("poisson_scale_range2", 0.05, 2.5);
                s.put("jpeg_range2", 30, 95);
            }
            default -> throw new BadInputException("unknown preset '" + name + "' (use " + String.join(" or ",
                    presets()) + ")");
        }
        return s;
    }

    private void put(String key, double... v) {
        values.put(key, v);
    }

    /** Sets one parameter from text: {@code 0.5}, {@code [0.2, 3]}, {@code 0.2,3}, {@code true}. */
    public Settings set(String key, String text, String where) {
        Integer arity = ARITY.get(key);
        if (arity == null) {
            throw new BadInputException(where + "unknown parameter '" + key + "' (known: " + String.join(", ",
                    ARITY.keySet()) + ")");
        }
        String t = text.strip();
        if (t.startsWith("[") && t.endsWith("]")) {
            t = t.substring(1, t.length() - 1);
        }
        String[] parts = t.isEmpty() ? new String[0] : t.split("\\s*,\\s*|\\s+");
        if (parts.length != arity) {
            throw new BadInputException(where + key + " takes " + arity + " value" + (arity == 1 ? "" : "s")
                    + ", got '" + text.strip() + "'");
        }
        double[] v = new double[arity];
        for (int i = 0; i < arity; i++) {
            String p = parts[i].toLowerCase(Locale.ROOT);
            try {
                v[i] = switch (p) {
                    case "true" -> 1;
                    case "false" -> 0;
                    default -> Double.parseDouble(p);
                };
            } catch (NumberFormatException e) {
                throw new BadInputException(where + key + ": not a number: '" + parts[i] + "'");
            }
            if (!Double.isFinite(v[i])) {
                throw new BadInputException(where + key + ": not a finite number: '" + parts[i] + "'");
            }
        }
        values.put(key, v);
        return this;
    }

    /** {@code KEY=VALUE} or {@code KEY: VALUE}. */
    public Settings set(String assignment, String where) {
        int i = assignment.indexOf('=');
        int j = assignment.indexOf(':');
        int at = i < 0 ? j : (j < 0 ? i : Math.min(i, j));
        if (at <= 0) {
            throw new BadInputException(where + "expected KEY=VALUE, got '" + assignment + "'");
        }
        return set(assignment.substring(0, at).strip(), assignment.substring(at + 1), where);
    }

    /**
     * A preset, then a config file (or null), then {@code KEY=VALUE} assignments, then a GT size (or null; with the
     * adcsr preset it also sets the crop that is degraded, {@code crop_pad_size}), validated: how adcsr-degrade and
     * adcsr-distill {@code --images} build their settings.
     */
    public static Settings of(String preset, Path config, List<String> sets, Integer gtSize) {
        Settings s = preset(preset);
        if (config != null) {
            s.load(config);
        }
        for (String kv : sets) {
            s.set(kv, "--set ");
        }
        if (gtSize != null) {
            s.set("gt_size", Integer.toString(gtSize), "--gt-size: ");
            if (preset.equals("adcsr")) {
                s.set("crop_pad_size", Integer.toString(gtSize), "--gt-size: ");
            }
        }
        return s.validate();
    }

    /** A flat file of {@code key: value} (or {@code key = value}) lines; {@code #} starts a comment. */
    public Settings load(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")", e);
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash);
            }
            if (line.isBlank()) {
                continue;
            }
            set(line.strip(), file + ":" + (n + 1) + ": ");
        }
        return this;
    }

    public double get(String key) {
        return values.get(key)[0];
    }

    public double[] range(String key) {
        return values.get(key).clone();
    }

    public int gtSize() {
        return (int) get("gt_size");
    }

    public int cropSize() {
        return (int) get("crop_pad_size");
    }

    public boolean usm() {
        return get("use_usm") != 0;
    }

    public boolean hflip() {
        return get("use_hflip") != 0;
    }

    /** Checks every value; throws a one-line {@link BadInputException} for the first problem. */
    public Settings validate() {
        for (String k : new String[] {"gt_size", "crop_pad_size"}) {
            double v = get(k);
            if (v != Math.rint(v) || v < 44 || v % 4 != 0 || v > 16384) {
                throw new BadInputException(k + " must be a multiple of 4 from 44 to 16384, got " + num(v));
            }
        }
        if (gtSize() > cropSize()) {
            throw new BadInputException("gt_size (" + gtSize() + ") is larger than crop_pad_size (" + cropSize()
                    + ")");
        }
        for (String k : new String[] {"use_hflip", "use_usm"}) {
            if (get(k) != 0 && get(k) != 1) {
                throw new BadInputException(k + " must be true or false");
            }
        }
        for (Map.Entry<String, double[]> e : values.entrySet()) {
            String k = e.getKey();
            double[] v = e.getValue();
            if (k.endsWith("_prob") || k.endsWith("_prob2")) {
                double sum = 0;
                for (double p : v) {
                    if (p < 0 || p > 1) {
                        throw new BadInputException(k + ": probabilities must lie in [0, 1], got " + text(v));
                    }
                    sum += p;
                }
                if (v.length > 1 && Math.abs(sum - 1) > 1e-6) {
                    throw new BadInputException(k + ": probabilities must sum to 1, got " + text(v) + " (sum "
                            + num(sum) + ")");
                }
            } else if (v.length == 2 && v[0] > v[1]) {
                throw new BadInputException(k + ": low end " + num(v[0]) + " is above high end " + num(v[1]));
            }
        }
        positive("blur_sigma");
        positive("blur_sigma2");
        positive("betag_range");
        positive("betag_range2");
        positive("betap_range");
        positive("betap_range2");
        positive("resize_range");
        positive("resize_range2");
        positive("jpeg_range");
        positive("jpeg_range2");
        nonNegative("noise_range");
        nonNegative("noise_range2");
        nonNegative("poisson_scale_range");
        nonNegative("poisson_scale_range2");
        for (String k : new String[] {"resize_range", "resize_range2"}) {
            double[] r = range(k);
            if (r[0] > 1 || r[1] < 1) {
                throw new BadInputException(k + " must contain 1 (down-scales are drawn from [low, 1), up-scales"
                        + " from [1, high)), got " + text(r));
            }
        }
        for (String k : new String[] {"jpeg_range", "jpeg_range2"}) {
            if (range(k)[1] > 100) {
                throw new BadInputException(k + ": JPEG quality goes up to 100, got " + text(range(k)));
            }
        }
        int p = cropSize();
        if (Math.floor(p * range("resize_range")[0]) < 11 || (int) (p / 4.0 * range("resize_range2")[0]) < 11) {
            throw new BadInputException("resize_range/resize_range2 shrink the " + p + " px crop below the 11 px"
                    + " a 21x21 blur needs");
        }
        return this;
    }

    private void positive(String k) {
        if (range(k)[0] <= 0) {
            throw new BadInputException(k + " must be positive, got " + text(range(k)));
        }
    }

    private void nonNegative(String k) {
        if (range(k)[0] < 0) {
            throw new BadInputException(k + " must not be negative, got " + text(range(k)));
        }
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    private static String text(double[] v) {
        List<String> s = new ArrayList<>();
        for (double x : v) {
            s.add(num(x));
        }
        return "[" + String.join(", ", s) + "]";
    }

    /** One {@code key: value} line per parameter, in a fixed order: the config-file form, and the run fingerprint. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (String k : ARITY.keySet()) {
            double[] v = values.get(k);
            b.append(k).append(": ").append(v.length == 1 ? num(v[0]) : text(v)).append('\n');
        }
        return b.toString();
    }
}
