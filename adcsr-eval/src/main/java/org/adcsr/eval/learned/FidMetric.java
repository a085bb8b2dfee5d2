package org.adcsr.eval.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.image.PilResize;
import org.adcsr.eval.metrics.FolderMetric;
import org.adcsr.eval.metrics.Frechet;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.adcsr.core.nets.FidInception;

/**
 * The {@code fid} metric, pyiqa 0.1.13's {@code fid} in its default "clean" mode (METRICS.md, FID row), SR set
 * against GT set: each image as 8-bit RGB (gray replicated, alpha dropped, as PIL's {@code convert('RGB')}; 16-bit
 * samples scaled to 0–255 and rounded), each channel resized to 299×299 by {@link PilResize} (PIL's float bicubic),
 * clipped to 0–255, (x − 128)/128, {@link FidInception} pool3 features, then {@link Frechet#fromFeatures}. No crop.
 * Weights: {@value #WEIGHTS} in {@code --weights-dir} (sha256 prefix checked).
 */
public final class FidMetric implements FolderMetric {
    public static final String WEIGHTS = "pt_inception-2015-12-05-6726825d.pth";
    static final int SIZE = 299;

    private final Engine engine;
    private final FidInception net;

    FidMetric(Engine engine, FidInception net) {
        this.engine = engine;
        this.net = net;
    }

    public static FolderMetric create(MetricOptions o) throws MetricUnavailableException {
        Path dir = o.weightsDir();
        if (dir == null) {
            throw new MetricUnavailableException("needs --weights-dir with " + WEIGHTS
                    + " (it cannot be downloaded here); no score is written");
        }
        Path file = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(file)) {
            throw new MetricUnavailableException("missing " + file + "; no score is written");
        }
        LpipsMetric.checkHashPrefix(file, LpipsMetric.hashPrefix(WEIGHTS));
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(file)) {
            return of(engine, ckpt.tensors());
        }
    }

    /** From any tensor source with the checkpoint's names (tests use generated weights). */
    static FidMetric of(Engine engine, TensorSource src) {
        return new FidMetric(engine, FidInception.load(engine.newBaseManager(), src));
    }

    /** The network input: 3×299×299 floats, as pyiqa's ResizeDataset in clean mode. */
    static float[] input(Image img) {
        int w = img.width(), h = img.height(), n = w * h;
        float[] out = new float[3 * SIZE * SIZE];
        for (int c = 0; c < 3; c++) {
            int plane = img.colorChannels() == 1 ? 0 : c;
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                float v = img.data()[plane * n + i];
                x[i] = img.maxValue() == 255 ? v : Math.round(v * 255.0 / img.maxValue());
            }
            float[] r = PilResize.bicubic(x, w, h, SIZE, SIZE);
            for (int i = 0; i < r.length; i++) {
                float v = Math.min(Math.max(r[i], 0f), 255f);
                out[c * SIZE * SIZE + i] = (v - 128f) / 128f;
            }
        }
        return out;
    }

    @Override
    public double[] features(Image img) {
        try (NDManager m = engine.newBaseManager()) {
            float[] f = net.features(m.create(input(img), new Shape(1, 3, SIZE, SIZE))).toFloatArray();
            double[] d = new double[f.length];
            for (int i = 0; i < f.length; i++) {
                d[i] = f[i];
            }
            return d;
        }
    }

    @Override
    public double folder(List<double[]> sr, List<double[]> gt) {
        return Frechet.fromFeatures(sr.toArray(double[][]::new), gt.toArray(double[][]::new));
    }

    @Override
    public String name() {
        return "fid";
    }

    @Override
    public String column() {
        return "fid_clean";
    }

    @Override
    public boolean fullReference() {
        return true;
    }
}
