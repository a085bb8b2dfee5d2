package org.adcsr.eval.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.eval.metrics.Luma;
import org.adcsr.eval.metrics.Metric;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.adcsr.core.nets.Dists;
import org.adcsr.core.nets.Lpips;

/**
 * The {@code dists} metric: {@link Dists} on RGB/255 float32 images, crop applied first. Weights from
 * {@code --weights-dir}: {@value #HEAD} (α, β; pyiqa's file name) and torchvision's {@value #BACKBONE}, unless the
 * DISTS file also holds the VGG layers (pyiqa's module keys {@code stageK.N.*}). sha256 prefixes are checked.
 */
public final class DistsMetric implements Metric {
    public static final String HEAD = "DISTS_weights-f5e65c96.pth";
    public static final String BACKBONE = LpipsMetric.BACKBONE_VGG;

    private final Engine engine;
    private final Dists net;
    private final int crop;

    private DistsMetric(Engine engine, Dists net, int crop) {
        this.engine = engine;
        this.net = net;
        this.crop = crop;
    }

    public static Metric create(MetricOptions o) throws MetricUnavailableException {
        Path dir = o.weightsDir();
        if (dir == null) {
            throw new MetricUnavailableException("needs --weights-dir with " + HEAD + " and " + BACKBONE
                    + " (they cannot be downloaded here); no score is written");
        }
        Path headFile = dir.resolve(HEAD), backboneFile = dir.resolve(BACKBONE);
        if (!Files.isRegularFile(headFile)) {
            throw new MetricUnavailableException("missing " + headFile + "; no score is written");
        }
        LpipsMetric.checkHashPrefix(headFile, LpipsMetric.hashPrefix(HEAD));
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint head = TorchCheckpoint.open(headFile)) {
            TensorSource h = head.tensors();
            if (Files.isRegularFile(backboneFile)) {
                LpipsMetric.checkHashPrefix(backboneFile, LpipsMetric.hashPrefix(BACKBONE));
                try (TorchCheckpoint tv = TorchCheckpoint.open(backboneFile)) {
                    return new DistsMetric(engine, Dists.load(engine.newBaseManager(), tv.tensors(), h),
                            o.cropBorder());
                }
            }
            if (h.contains("stage1.0.weight")) {
                // pyiqa's DISTS module keeps torchvision's indices inside its stages: features.N -> stage<k>.N
                RenamedTensorSource renamed = new RenamedTensorSource(headFile);
                int stage = 1;
                for (int[] l : Lpips.Backbone.VGG.layers()) {
                    if (l[0] == Lpips.TAP) {
                        stage++;
                    } else if (l[0] >= 0) {
                        for (String p : new String[] {".weight", ".bias"}) {
                            renamed.put("features." + l[0] + p, h, "stage" + stage + "." + l[0] + p);
                        }
                    }
                }
                return new DistsMetric(engine, Dists.load(engine.newBaseManager(), renamed, h), o.cropBorder());
            }
            throw new MetricUnavailableException("missing " + backboneFile + " (torchvision's VGG16; " + HEAD
                    + " has no backbone); no score is written");
        }
    }

    @Override
    public String name() {
        return "dists";
    }

    @Override
    public String column() {
        return "dists" + (crop == 0 ? "" : "_crop" + crop);
    }

    @Override
    public boolean fullReference() {
        return true;
    }

    @Override
    public double score(Image sr, Image gt) {
        try (NDManager m = engine.newBaseManager()) {
            return net.forward(LpipsMetric.tensor(m, Luma.crop(sr, crop)), LpipsMetric.tensor(m, Luma.crop(gt, crop)))
                    .toFloatArray()[0];
        }
    }
}
