package org.adcsr.eval.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.nets.Maniqa;
import org.adcsr.eval.metrics.Luma;
import org.adcsr.eval.metrics.Metric;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;

/**
 * The {@code maniqa} metric, no-reference: {@link Maniqa} (pyiqa 0.1.13's {@code maniqa-pipal}, the variant AdcSR's
 * evaluate.py creates: ViT-B/8, scale 0.13, 20 uniform 224×224 crops) on the SR image as RGB/255 float32 (gray
 * replicated, alpha dropped; crop applied first). Weights: pyiqa's {@value #WEIGHTS} in {@code --weights-dir}, a
 * torch.save state dict of the whole module, ViT included (pyiqa loads it with {@code strict=True} over timm's
 * ImageNet ViT, so those ImageNet weights are not needed); keys with DataParallel's {@code module.} prefix are taken
 * as pyiqa's {@code clean_state_dict} takes them. The file's sha256 must start with the {@value #SHA256_PREFIX} of its
 * name (pyiqa itself does not check it: it downloads with {@code hash_prefix=None}).
 */
public final class ManiqaMetric implements Metric {
    public static final String WEIGHTS = "MANIQA_PIPAL-ae6d356b.pth";
    public static final String SHA256_PREFIX = "ae6d356b";
    /** Where pyiqa 0.1.13 downloads it from ({@code get_url_from_name}: the Hugging Face repository of its weights). */
    public static final String URL = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/" + WEIGHTS;

    private final Engine engine;
    private final Maniqa net;
    private final int crop;

    ManiqaMetric(Engine engine, Maniqa net, int crop) {
        this.engine = engine;
        this.net = net;
        this.crop = crop;
    }

    public static Metric create(MetricOptions o) throws MetricUnavailableException {
        Path file = WeightsFile.require(o, WEIGHTS, "pyiqa's MANIQA trained on PIPAL", URL, SHA256_PREFIX);
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            TensorSource t = ckpt.tensors();
            if (!t.contains("vit.cls_token") && t.contains("module.vit.cls_token")) {
                t = t.withPrefix("module.");
            }
            return of(engine, t, Maniqa.Config.PIPAL, o.cropBorder());
        }
    }

    /** From any tensor source with MANIQA's names (tests use generated weights of a small configuration). */
    static ManiqaMetric of(Engine engine, TensorSource src, Maniqa.Config config, int crop) {
        return new ManiqaMetric(engine, Maniqa.load(engine.newBaseManager(), src, config), crop);
    }

    @Override
    public String name() {
        return "maniqa";
    }

    @Override
    public String column() {
        return "maniqa_pipal" + (crop == 0 ? "" : "_crop" + crop);
    }

    @Override
    public boolean fullReference() {
        return false;
    }

    @Override
    public double score(Image sr, Image gt) {
        Image img = Luma.crop(sr, crop);
        try (NDManager m = engine.newBaseManager()) {
            return net.score(LpipsMetric.tensor(m, img));
        }
    }
}
