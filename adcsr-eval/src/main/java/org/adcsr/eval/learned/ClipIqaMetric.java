package org.adcsr.eval.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.nets.ClipIqa;
import org.adcsr.eval.metrics.Luma;
import org.adcsr.eval.metrics.Metric;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;

/**
 * The {@code clipiqa} metric, no-reference: {@link ClipIqa} (pyiqa 0.1.13's default {@code clipiqa}: CLIP RN50,
 * {@code pos_embedding=False}, five antonym prompt pairs) on the SR image as RGB/255 float32 at its own size (gray
 * replicated, alpha dropped; crop applied first). Weights: OpenAI's {@value #WEIGHTS} in {@code --weights-dir}, a
 * TorchScript archive read as data ({@link TorchCheckpoint#openTorchScript}); its sha256 must be the one in the URL it
 * is published at, which is what the {@code clip} package checks after downloading it.
 */
public final class ClipIqaMetric implements Metric {
    public static final String WEIGHTS = "RN50.pt";
    /** The sha256 of RN50.pt, from the {@code _MODELS} table of pyiqa 0.1.13's clip_model.py and openai/CLIP's clip.py. */
    public static final String SHA256 = "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762";
    public static final String URL = "https://openaipublic.azureedge.net/clip/models/" + SHA256 + "/RN50.pt";

    private final Engine engine;
    private final ClipIqa net;
    private final int crop;

    ClipIqaMetric(Engine engine, ClipIqa net, int crop) {
        this.engine = engine;
        this.net = net;
        this.crop = crop;
    }

    public static Metric create(MetricOptions o) throws MetricUnavailableException {
        Path file = WeightsFile.require(o, WEIGHTS, "OpenAI CLIP RN50", URL, SHA256);
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint ckpt = TorchCheckpoint.openTorchScript(file)) {
            return of(engine, ckpt.tensors(), ClipIqa.Config.RN50, o.cropBorder());
        }
    }

    /** From any tensor source with CLIP's names (tests use generated weights of a small configuration). */
    static ClipIqaMetric of(Engine engine, TensorSource src, ClipIqa.Config config, int crop) {
        return new ClipIqaMetric(engine, ClipIqa.load(engine.newBaseManager(), src, config), crop);
    }

    @Override
    public String name() {
        return "clipiqa";
    }

    @Override
    public String column() {
        return "clipiqa_rn50" + (crop == 0 ? "" : "_crop" + crop);
    }

    @Override
    public boolean fullReference() {
        return false;
    }

    @Override
    public double score(Image sr, Image gt) {
        Image img = Luma.crop(sr, crop);
        if (!ClipIqa.fits(img.width(), img.height())) {
            throw new IllegalArgumentException("smaller than 31x31" + (crop == 0 ? "" : " after the crop")
                    + ", which CLIPIQA cannot score");
        }
        try (NDManager m = engine.newBaseManager()) {
            return net.forward(LpipsMetric.tensor(m, img)).toFloatArray()[0];
        }
    }
}
