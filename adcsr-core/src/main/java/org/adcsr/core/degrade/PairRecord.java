package org.adcsr.core.degrade;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.adcsr.core.Rng;

/**
 * Everything drawn for one LR/HR pair (spec §6): with the source image it determines the pair bit for bit. One row
 * of {@code pairs.csv}; {@link #draw} makes it from a per-pair seed, {@link #fromRow} reads it back for replay.
 */
public final class PairRecord {
    public static final int[] KERNEL_SIZES = {7, 9, 11, 13, 15, 17, 19, 21};
    private static final String[] MODES = {"area", "bilinear", "bicubic"};
    private static final String[] UPDOWN = {"up", "down", "keep"};

    /** One drawn blur kernel; unused fields are NaN. */
    public static final class KernelDraw {
        /** A {@link Kernels.Type} key, or "pulse" for the final-sinc slot when no sinc was drawn. */
        public String type = "pulse";
        public int size = 21;
        public double sigmaX = Double.NaN;
        public double sigmaY = Double.NaN;
        public double theta = Double.NaN;
        public double beta = Double.NaN;
        public double omega = Double.NaN;

        /** The kernel zero-padded to 21×21, float32. */
        public float[] padded() {
            if (type.equals("pulse")) {
                return Kernels.pulse();
            }
            Kernels.Type t = Kernels.Type.of(type);
            double[] k = t == Kernels.Type.SINC ? Kernels.sinc(size, omega)
                    : Kernels.mixed(t, size, sigmaX, sigmaY, theta, beta);
            return Kernels.padTo21(k, size);
        }
    }

    /** Resize, noise and JPEG of one stage. */
    public static final class Stage {
        public String resize = "keep";
        public double scale = 1;
        public String mode = "area";
        public boolean gaussian;
        public double strength;
        public boolean gray;
        public long noiseSeed;
        public double quality = Double.NaN;
    }

    public String id;
    public String hrPath;
    public String lrPath;
    public String source;
    public int sourceWidth;
    public int sourceHeight;
    public long seed;
    public int cropSize;
    public int gtSize;
    public boolean usm;
    public boolean hflip;
    public int padBottom;
    public int padRight;
    public int cropTop;
    public int cropLeft;
    public KernelDraw kernel1 = new KernelDraw();
    public KernelDraw kernel2 = new KernelDraw();
    public KernelDraw sinc = new KernelDraw();
    public Stage stage1 = new Stage();
    public boolean secondBlur;
    public Stage stage2 = new Stage();
    public boolean resizeFirst;
    public String finalMode = "area";
    public String jpegCodec;
    public int lrCropTop;
    public int lrCropLeft;

    /**
     * Draws every random choice of one pair from its seed, in a fixed order. The source size is needed for the
     * crop offsets; the image itself is not.
     */
    public static PairRecord draw(Settings s, long seed, int srcWidth, int srcHeight, String codec) {
        return draw(s, seed, null, srcWidth, srcHeight, codec);
    }

    /**
     * Like {@link #draw(Settings, long, int, int, String)}, but the draws the original makes once per training batch
     * (resize type, scale and mode of both stages, Gaussian-or-Poisson of both stages, the second-blur coin, the
     * final order and final resize mode) come from {@code batch}, a generator every pair of the batch starts with
     * the same seed; so does the gray Gaussian noise field, shared by the batch's gray samples as in the original.
     * Null: everything per pair.
     */
    public static PairRecord draw(Settings s, long seed, Rng batch, int srcWidth, int srcHeight, String codec) {
        Rng r = new Rng(seed);
        Rng rb = batch != null ? batch : r;
        PairRecord p = new PairRecord();
        p.seed = seed;
        p.sourceWidth = srcWidth;
        p.sourceHeight = srcHeight;
        p.cropSize = s.cropSize();
        p.gtSize = s.gtSize();
        p.usm = s.usm();
        p.jpegCodec = codec;
        p.hflip = s.hflip() && r.nextDouble() < 0.5;
        int size = s.cropSize();
        p.padBottom = Math.max(0, size - srcHeight);
        p.padRight = Math.max(0, size - srcWidth);
        int h = srcHeight + p.padBottom;
        int w = srcWidth + p.padRight;
        p.cropTop = h > size ? r.nextInt(h - size + 1) : 0;
        p.cropLeft = w > size ? r.nextInt(w - size + 1) : 0;
        p.kernel1 = drawKernel(r, s, "");
        p.kernel2 = drawKernel(r, s, "2");
        if (r.nextDouble() < s.get("final_sinc_prob")) {
            p.sinc.type = "sinc";
            p.sinc.size = KERNEL_SIZES[r.nextInt(KERNEL_SIZES.length)];
            p.sinc.omega = r.uniform(Math.PI / 3, Math.PI);
        }
        p.stage1 = drawStage(r, rb, s, "");
        p.secondBlur = rb.nextDouble() < s.get("second_blur_prob");
        p.stage2 = drawStage(r, rb, s, "2");
        p.resizeFirst = rb.nextDouble() < 0.5;
        p.finalMode = MODES[rb.nextInt(3)];
        int lr = size / 4;
        int g = s.gtSize() / 4;
        p.lrCropTop = r.nextInt(lr - g + 1);
        p.lrCropLeft = r.nextInt(lr - g + 1);
        return p;
    }

    private static KernelDraw drawKernel(Rng r, Settings s, String n) {
        KernelDraw k = new KernelDraw();
        k.size = KERNEL_SIZES[r.nextInt(KERNEL_SIZES.length)];
        if (r.nextDouble() < s.get("sinc_prob" + n)) {
            k.type = "sinc";
            k.omega = k.size < 13 ? r.uniform(Math.PI / 3, Math.PI) : r.uniform(Math.PI / 5, Math.PI);
            return k;
        }
        Kernels.Type t = Kernels.Type.values()[r.choice(s.range("kernel_prob"))];
        k.type = t.key;
        double[] sigma = s.range("blur_sigma" + n);
        k.sigmaX = r.uniform(sigma[0], sigma[1]);
        if (t.isotropic()) {
            k.sigmaY = k.sigmaX;
            k.theta = 0;
        } else {
            k.sigmaY = r.uniform(sigma[0], sigma[1]);
            k.theta = r.uniform(-Math.PI, Math.PI);
        }
        if (t.hasBeta()) {
            boolean plateau = t == Kernels.Type.PLATEAU_ISO || t == Kernels.Type.PLATEAU_ANISO;
            double[] beta = s.range((plateau ? "betap_range" : "betag_range") + n);
            k.beta = r.nextDouble() < 0.5 ? r.uniform(beta[0], 1) : r.uniform(1, beta[1]);
        }
        return k;
    }

    /** r: per-pair draws; rb: per-batch draws (the same generator as r unless batches are shared). */
    private static Stage drawStage(Rng r, Rng rb, Settings s, String n) {
        Stage st = new Stage();
        st.resize = UPDOWN[rb.choice(s.range("resize_prob" + n))];
        double[] range = s.range("resize_range" + n);
        st.scale = switch (st.resize) {
            case "up" -> rb.uniform(1, range[1]);
            case "down" -> rb.uniform(range[0], 1);
            default -> 1;
        };
        st.mode = MODES[rb.nextInt(3)];
        st.gaussian = rb.nextDouble() < s.get("gaussian_noise_prob" + n);
        double[] strength = s.range(st.gaussian ? "noise_range" + n : "poisson_scale_range" + n);
        st.strength = r.uniform(strength[0], strength[1]);
        st.gray = r.nextDouble() < s.get("gray_noise_prob" + n);
        st.noiseSeed = r.nextLong();
        if (rb != r) {
            // the original draws one gray Gaussian field per batch, scaled by each sample's sigma
            long batchField = rb.nextLong();
            if (st.gaussian && st.gray) {
                st.noiseSeed = batchField;
            }
        }
        double[] q = s.range("jpeg_range" + n);
        st.quality = r.uniform(q[0], q[1]);
        return st;
    }

    // ---- CSV ----

    private record Column(String name, Function<PairRecord, Object> get, BiConsumer<PairRecord, String> set) {
    }

    private static final List<Column> COLUMNS = new ArrayList<>();

    private static void col(String name, Function<PairRecord, Object> get, BiConsumer<PairRecord, String> set) {
        COLUMNS.add(new Column(name, get, set));
    }

    static {
        col("id", p -> p.id, (p, v) -> p.id = v);
        col("hr_path", p -> p.hrPath, (p, v) -> p.hrPath = v);
        col("lr_path", p -> p.lrPath, (p, v) -> p.lrPath = v);
        col("source", p -> p.source, (p, v) -> p.source = v);
        col("source_width", p -> p.sourceWidth, (p, v) -> p.sourceWidth = Integer.parseInt(v));
        col("source_height", p -> p.sourceHeight, (p, v) -> p.sourceHeight = Integer.parseInt(v));
        col("seed", p -> Long.toUnsignedString(p.seed), (p, v) -> p.seed = Long.parseUnsignedLong(v));
        col("crop_pad_size", p -> p.cropSize, (p, v) -> p.cropSize = Integer.parseInt(v));
        col("gt_size", p -> p.gtSize, (p, v) -> p.gtSize = Integer.parseInt(v));
        col("use_usm", p -> p.usm, (p, v) -> p.usm = bool(v));
        col("hflip", p -> p.hflip, (p, v) -> p.hflip = bool(v));
        col("pad_bottom", p -> p.padBottom, (p, v) -> p.padBottom = Integer.parseInt(v));
        col("pad_right", p -> p.padRight, (p, v) -> p.padRight = Integer.parseInt(v));
        col("crop_top", p -> p.cropTop, (p, v) -> p.cropTop = Integer.parseInt(v));
        col("crop_left", p -> p.cropLeft, (p, v) -> p.cropLeft = Integer.parseInt(v));
        kernelColumns("kernel1", p -> p.kernel1);
        kernelColumns("kernel2", p -> p.kernel2);
        kernelColumns("final_sinc", p -> p.sinc);
        stageColumns("1", p -> p.stage1);
        col("second_blur", p -> p.secondBlur, (p, v) -> p.secondBlur = bool(v));
        stageColumns("2", p -> p.stage2);
        col("final_order", p -> p.resizeFirst ? "resize_sinc_jpeg" : "jpeg_resize_sinc",
                (p, v) -> p.resizeFirst = switch (v) {
                    case "resize_sinc_jpeg" -> true;
                    case "jpeg_resize_sinc" -> false;
                    default -> throw new IllegalArgumentException("bad final_order '" + v + "'");
                });
        col("final_resize_mode", p -> p.finalMode, (p, v) -> p.finalMode = Resize.Mode.of(v).key);
        col("jpeg_codec", p -> p.jpegCodec, (p, v) -> p.jpegCodec = Degrader.codec(v));
        col("lr_crop_top", p -> p.lrCropTop, (p, v) -> p.lrCropTop = Integer.parseInt(v));
        col("lr_crop_left", p -> p.lrCropLeft, (p, v) -> p.lrCropLeft = Integer.parseInt(v));
    }

    private static void kernelColumns(String prefix, Function<PairRecord, KernelDraw> k) {
        col(prefix + "_type", p -> k.apply(p).type, (p, v) -> {
            if (!v.equals("pulse")) {
                Kernels.Type.of(v);
            }
            k.apply(p).type = v;
        });
        col(prefix + "_size", p -> k.apply(p).size, (p, v) -> k.apply(p).size = Integer.parseInt(v));
        col(prefix + "_sigma_x", p -> k.apply(p).sigmaX, (p, v) -> k.apply(p).sigmaX = dbl(v));
        col(prefix + "_sigma_y", p -> k.apply(p).sigmaY, (p, v) -> k.apply(p).sigmaY = dbl(v));
        col(prefix + "_theta", p -> k.apply(p).theta, (p, v) -> k.apply(p).theta = dbl(v));
        col(prefix + "_beta", p -> k.apply(p).beta, (p, v) -> k.apply(p).beta = dbl(v));
        col(prefix + "_omega", p -> k.apply(p).omega, (p, v) -> k.apply(p).omega = dbl(v));
    }

    private static void stageColumns(String n, Function<PairRecord, Stage> s) {
        col("resize" + n + "_type", p -> s.apply(p).resize, (p, v) -> {
            if (!List.of(UPDOWN).contains(v)) {
                throw new IllegalArgumentException("bad resize type '" + v + "'");
            }
            s.apply(p).resize = v;
        });
        col("resize" + n + "_scale", p -> s.apply(p).scale, (p, v) -> s.apply(p).scale = dbl(v));
        col("resize" + n + "_mode", p -> s.apply(p).mode, (p, v) -> s.apply(p).mode = Resize.Mode.of(v).key);
        col("noise" + n + "_kind", p -> s.apply(p).gaussian ? "gaussian" : "poisson", (p, v) -> s.apply(p).gaussian =
                switch (v) {
                    case "gaussian" -> true;
                    case "poisson" -> false;
                    default -> throw new IllegalArgumentException("bad noise kind '" + v + "'");
                });
        col("noise" + n + "_strength", p -> s.apply(p).strength, (p, v) -> s.apply(p).strength = dbl(v));
        col("noise" + n + "_gray", p -> s.apply(p).gray, (p, v) -> s.apply(p).gray = bool(v));
        col("noise" + n + "_seed", p -> Long.toUnsignedString(s.apply(p).noiseSeed),
                (p, v) -> s.apply(p).noiseSeed = Long.parseUnsignedLong(v));
        col("jpeg" + n + "_quality", p -> s.apply(p).quality, (p, v) -> s.apply(p).quality = dbl(v));
    }

    private static boolean bool(String v) {
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException("expected true or false, got '" + v + "'");
        };
    }

    private static double dbl(String v) {
        return v.isEmpty() ? Double.NaN : Double.parseDouble(v);
    }

    public static String[] header() {
        return COLUMNS.stream().map(Column::name).toArray(String[]::new);
    }

    /** The CSV cells: doubles in Java's shortest round-trip form, NaN as an empty cell. */
    public List<String> toRow() {
        List<String> row = new ArrayList<>(COLUMNS.size());
        for (Column c : COLUMNS) {
            Object v = c.get.apply(this);
            row.add(v instanceof Double d && d.isNaN() ? "" : String.valueOf(v));
        }
        return row;
    }

    /** Reads a row by column name; throws IllegalArgumentException naming the column on a bad or missing cell. */
    public static PairRecord fromRow(Map<String, String> row) {
        PairRecord p = new PairRecord();
        for (Column c : COLUMNS) {
            String v = row.get(c.name);
            if (v == null) {
                throw new IllegalArgumentException("missing column " + c.name);
            }
            try {
                c.set.accept(p, v);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(c.name + ": " + (e instanceof NumberFormatException
                        ? "not a number: '" + v + "'" : e.getMessage()), e);
            }
        }
        return p;
    }

    public Map<String, String> toMap() {
        Map<String, String> m = new LinkedHashMap<>();
        List<String> row = toRow();
        for (int i = 0; i < COLUMNS.size(); i++) {
            m.put(COLUMNS.get(i).name, row.get(i));
        }
        return m;
    }
}
