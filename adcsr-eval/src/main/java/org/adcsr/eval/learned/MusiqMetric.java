package org.adcsr.eval.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.nets.Musiq;
import org.adcsr.eval.metrics.Luma;
import org.adcsr.eval.metrics.Metric;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.adcsr.onnx.EngineChoice;
import org.adcsr.onnx.OrtMusiq;
import org.slf4j.LoggerFactory;

/**
 * The {@code musiq} metric, no-reference: {@link Musiq} (pyiqa 0.1.13's default {@code musiq}, the KonIQ-10k
 * checkpoint: multi-scale patches of the image and of copies with longer side 224 and 384, hash-based spatial
 * embedding, one output) on the SR image as RGB/255 float32 at its own size (gray replicated, alpha dropped; crop
 * applied first). Weights: pyiqa's {@value #WEIGHTS} in {@code --weights-dir}, a plain {@code torch.save} state dict
 * read with the safe reader. The file name carries the first 8 hex digits of its sha256 (pyiqa's naming); they are
 * checked here, though pyiqa itself checks nothing ({@code load_file_from_url} downloads with {@code
 * hash_prefix=None}).
 *
 * <p>The network runs on ONNX Runtime ({@link OrtMusiq}, its input made by {@link Musiq#tokens(float[], int, int,
 * Musiq.Config)}) or on DJL ({@link Musiq#forward}), as {@code --engine} says.
 */
public final class MusiqMetric implements Metric {
    public static final String WEIGHTS = "musiq_koniq_ckpt-e95806b9.pth";
    /** Where pyiqa 0.1.13 downloads it from ({@code get_url_from_name}: the Hugging Face repository of its weights). */
    public static final String URL = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/" + WEIGHTS;

    private final Engine engine;
    private final Musiq.Config config;
    /** Exactly one of the two runs the network. */
    private final Musiq net;
    private final OrtMusiq ort;
    private final int crop;

    private MusiqMetric(Engine engine, Musiq.Config config, Musiq net, OrtMusiq ort, int crop) {
        this.engine = engine;
        this.config = config;
        this.net = net;
        this.ort = ort;
        this.crop = crop;
    }

    public static Metric create(MetricOptions o) throws MetricUnavailableException {
        Path file = WeightsFile.require(o, WEIGHTS, "pyiqa's MUSIQ KonIQ-10k checkpoint", URL, LpipsMetric.hashPrefix(WEIGHTS));
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            return of(engine, ckpt.tensors(), Musiq.Config.KONIQ, o.cropBorder(), o.engine());
        }
    }

    /**
     * From any tensor source with MUSIQ's names (tests use generated weights of a small configuration), the network
     * on the engine {@code choice} resolves to.
     */
    static MusiqMetric of(Engine engine, TensorSource src, Musiq.Config config, int crop, EngineChoice choice) {
        EngineChoice e = choice.resolve(false, choice == EngineChoice.DJL ? null : EngineChoice.probe());
        LoggerFactory.getLogger(MusiqMetric.class).info("musiq: network on {}", e.label());
        if (e == EngineChoice.ONNXRUNTIME) {
            // one ONNX Runtime thread per call: adcsr-eval scores --threads images at once
            return new MusiqMetric(engine, config, null, OrtMusiq.create(config, Musiq.weights(src, config), 1), crop);
        }
        return new MusiqMetric(engine, config, Musiq.load(engine.newBaseManager(), src, config), null, crop);
    }

    /** Which engine runs the network: {@code onnxruntime} or {@code djl}. */
    public String engineLabel() {
        return (ort != null ? EngineChoice.ONNXRUNTIME : EngineChoice.DJL).label();
    }

    @Override
    public String name() {
        return "musiq";
    }

    @Override
    public String column() {
        return "musiq_koniq" + (crop == 0 ? "" : "_crop" + crop);
    }

    @Override
    public boolean fullReference() {
        return false;
    }

    @Override
    public double score(Image sr, Image gt) {
        Image img = Luma.crop(sr, crop);
        if (!Musiq.fits(config, img.width(), img.height())) {
            throw new IllegalArgumentException(img.width() + "x" + img.height() + (crop == 0 ? "" : " after the crop")
                    + " is too elongated for MUSIQ (its short side rounds to 0 pixels when the long side is resized "
                    + "to 224)");
        }
        if (ort != null) {
            return ort.score(Musiq.tokens(LpipsMetric.rgb(img), img.height(), img.width(), config));
        }
        try (NDManager m = engine.newBaseManager()) {
            return net.forward(LpipsMetric.tensor(m, img)).toFloatArray()[0];
        }
    }
}
