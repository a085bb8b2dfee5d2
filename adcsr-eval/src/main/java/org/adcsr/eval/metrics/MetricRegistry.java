package org.adcsr.eval.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.image.Image;

/**
 * Every metric name {@code adcsr-eval} knows, in the order they are listed, each with a factory. A new metric (MUSIQ,
 * MANIQA, ...) is one {@link #register} line with a factory that builds its {@link Metric}; a factory that
 * needs weights throws {@link MetricUnavailableException} naming the missing file, so no score is ever invented.
 */
public final class MetricRegistry {

    /** Builds a configured metric, or says in one line why it cannot. */
    @FunctionalInterface
    public interface Factory {
        Metric create(MetricOptions options) throws MetricUnavailableException;
    }

    /** One registered metric: name, one-line description, factory. */
    public record Entry(String name, String description, Factory factory) {}

    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>();

    static {
        register("psnr", "PSNR in dB, full-reference (BT.601 Y, or RGB with --rgb)", MetricRegistry::psnr);
        register("ssim", "SSIM, full-reference, 11x11 Gaussian window (Y, or RGB with --rgb)", MetricRegistry::ssim);
        register("niqe", "NIQE, no-reference (pyiqa: YIQ luma; basicsr: BT.601 Y)", MetricRegistry::niqe);
        register("lpips", "LPIPS v0.1 AlexNet, full-reference; needs LPIPS_v0.1_alex-df73285e.pth and "
                + "alexnet-owt-7be5be79.pth in --weights-dir", org.adcsr.eval.learned.LpipsMetric::create);
        register("lpips-vgg", "LPIPS v0.1 VGG16, full-reference; needs LPIPS_v0.1_vgg-a78928a0.pth and "
                + "vgg16-397923af.pth in --weights-dir", org.adcsr.eval.learned.LpipsMetric::createVgg);
        register("dists", "DISTS, full-reference; needs DISTS_weights-f5e65c96.pth and vgg16-397923af.pth in "
                + "--weights-dir", org.adcsr.eval.learned.DistsMetric::create);
        register("fid", "FID (pyiqa clean mode) of the SR set against the GT set, one value in the mean row; needs "
                + "pt_inception-2015-12-05-6726825d.pth in --weights-dir", org.adcsr.eval.learned.FidMetric::create);
        register("musiq", "MUSIQ (pyiqa's default: KonIQ-10k checkpoint, multi-scale patches), no-reference; needs "
                + "musiq_koniq_ckpt-e95806b9.pth in --weights-dir", org.adcsr.eval.learned.MusiqMetric::create);
        register("maniqa", "MANIQA (pyiqa's maniqa-pipal: ViT-B/8, 20 uniform 224x224 crops), no-reference; needs "
                + "MANIQA_PIPAL-ae6d356b.pth in --weights-dir", org.adcsr.eval.learned.ManiqaMetric::create);
        register("clipiqa", "CLIPIQA (pyiqa's default: CLIP RN50, 5 antonym prompt pairs), no-reference; needs "
                + "OpenAI's RN50.pt in --weights-dir", org.adcsr.eval.learned.ClipIqaMetric::create);
    }

    private MetricRegistry() {}

    /** Adds a metric; names are lower-case and unique. */
    public static synchronized void register(String name, String description, Factory factory) {
        if (ENTRIES.putIfAbsent(name, new Entry(name, description, factory)) != null) {
            throw new IllegalStateException("metric '" + name + "' registered twice");
        }
    }

    public static synchronized List<Entry> entries() {
        return new ArrayList<>(ENTRIES.values());
    }

    /** The entry for {@code name}, or {@link IllegalArgumentException} listing the known names. */
    public static synchronized Entry get(String name) {
        Entry e = ENTRIES.get(name);
        if (e == null) {
            throw new IllegalArgumentException("unknown metric '" + name + "' (known: "
                    + String.join(", ", ENTRIES.keySet()) + ")");
        }
        return e;
    }

    private static Metric psnr(MetricOptions o) {
        boolean y = !o.rgb();
        String column = "psnr_" + (y ? "y_bt601_" : "rgb_") + o.convention().id() + o.cropSuffix();
        return new Simple("psnr", column, true, (sr, gt) -> {
            Image a = Luma.crop(sr, o.cropBorder()), b = Luma.crop(gt, o.cropBorder());
            return o.convention() == Convention.PYIQA ? Psnr.pyiqa(a, b, y) : Psnr.basicsr(a, b, y);
        });
    }

    private static Metric ssim(MetricOptions o) {
        boolean y = !o.rgb();
        String column = "ssim_" + (y ? "y_bt601_" : "rgb_") + o.convention().id() + o.cropSuffix();
        return new Simple("ssim", column, true, (sr, gt) -> {
            Image a = Luma.crop(sr, o.cropBorder()), b = Luma.crop(gt, o.cropBorder());
            return o.convention() == Convention.PYIQA ? Ssim.pyiqa(a, b, y) : Ssim.basicsr(a, b, y);
        });
    }

    private static Metric niqe(MetricOptions o) {
        boolean pyiqa = o.convention() == Convention.PYIQA;
        String column = "niqe_" + (pyiqa ? "yiq_" : "y_bt601_") + o.convention().id() + o.cropSuffix();
        return new Simple("niqe", column, false, (sr, gt) -> {
            NiqeParams.load();
            return pyiqa ? Niqe.pyiqa(sr, o.cropBorder()) : Niqe.basicsr(sr, o.cropBorder());
        });
    }

    /** A metric that is a function of the two images. */
    private record Simple(String name, String column, boolean fullReference, Scorer scorer) implements Metric {
        @Override
        public double score(Image sr, Image gt) {
            return scorer.score(sr, gt);
        }
    }

    @FunctionalInterface
    private interface Scorer {
        double score(Image sr, Image gt);
    }
}
