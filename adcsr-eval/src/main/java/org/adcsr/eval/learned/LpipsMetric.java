package org.adcsr.eval.learned;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.eval.metrics.Luma;
import org.adcsr.eval.metrics.Metric;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;

/**
 * The {@code lpips} metric: {@link Lpips} on RGB/255 float32 images (as pyiqa feeds it), crop applied first. Weights
 * from {@code --weights-dir}: {@value #HEADS} (pyiqa's file name) and torchvision's {@value #BACKBONE}, unless the
 * LPIPS file also holds the backbone (LPIPS's own keys {@code net.sliceK.N.*}). File names end in the first eight
 * hex digits of their sha256, which is checked.
 */
public final class LpipsMetric implements Metric {
    public static final String HEADS = "LPIPS_v0.1_alex-df73285e.pth";
    public static final String BACKBONE = "alexnet-owt-7be5be79.pth";

    private static final String[][] SLICES = {
        {"features.0", "net.slice1.0"}, {"features.3", "net.slice2.3"}, {"features.6", "net.slice3.6"},
        {"features.8", "net.slice4.8"}, {"features.10", "net.slice5.10"},
    };

    private final Engine engine;
    private final Lpips net;
    private final int crop;

    private LpipsMetric(Engine engine, Lpips net, int crop) {
        this.engine = engine;
        this.net = net;
        this.crop = crop;
    }

    /** Loads the weights, or says in one line which file is missing. */
    public static Metric create(MetricOptions o) throws MetricUnavailableException {
        Path dir = o.weightsDir();
        if (dir == null) {
            throw new MetricUnavailableException("needs --weights-dir with " + HEADS + " and " + BACKBONE
                    + " (they cannot be downloaded here); no score is written");
        }
        Path headsFile = dir.resolve(HEADS), backboneFile = dir.resolve(BACKBONE);
        if (!Files.isRegularFile(headsFile)) {
            throw new MetricUnavailableException("missing " + headsFile + "; no score is written");
        }
        checkHashPrefix(headsFile, "df73285e");
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint heads = TorchCheckpoint.open(headsFile)) {
            TensorSource h = heads.tensors();
            if (Files.isRegularFile(backboneFile)) {
                checkHashPrefix(backboneFile, "7be5be79");
                try (TorchCheckpoint alex = TorchCheckpoint.open(backboneFile)) {
                    return new LpipsMetric(engine, Lpips.load(engine.newBaseManager(), alex.tensors(), h),
                            o.cropBorder());
                }
            }
            if (h.contains("net.slice1.0.weight")) {
                RenamedTensorSource renamed = new RenamedTensorSource(headsFile);
                for (String[] s : SLICES) {
                    renamed.put(s[0] + ".weight", h, s[1] + ".weight");
                    renamed.put(s[0] + ".bias", h, s[1] + ".bias");
                }
                return new LpipsMetric(engine, Lpips.load(engine.newBaseManager(), renamed, h), o.cropBorder());
            }
            throw new MetricUnavailableException("missing " + backboneFile + " (torchvision's AlexNet; " + HEADS
                    + " has no backbone); no score is written");
        }
    }

    /** The file name promises a sha256 prefix; a different file under that name is refused. */
    static void checkHashPrefix(Path file, String prefix) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            String hex = HexFormat.of().formatHex(md.digest());
            if (!hex.startsWith(prefix)) {
                throw BadInputException.of(file, "sha256 " + hex.substring(0, 8) + "... is not the published "
                        + prefix + "...: not the expected weights");
            }
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot read (" + e.getMessage() + ")", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String name() {
        return "lpips";
    }

    @Override
    public String column() {
        return "lpips_alex_v0.1" + (crop == 0 ? "" : "_crop" + crop);
    }

    @Override
    public boolean fullReference() {
        return true;
    }

    @Override
    public double score(Image sr, Image gt) {
        try (NDManager m = engine.newBaseManager()) {
            NDArray d = net.forward(tensor(m, Luma.crop(sr, crop)), tensor(m, Luma.crop(gt, crop)));
            return d.toFloatArray()[0];
        }
    }

    /** [1, 3, H, W] of RGB/255 (or /65535) as float32, gray replicated. */
    static NDArray tensor(NDManager m, Image img) {
        int n = img.width() * img.height();
        float[] d = new float[3 * n];
        for (int c = 0; c < 3; c++) {
            int plane = img.isGray() ? 0 : c;
            for (int i = 0; i < n; i++) {
                d[c * n + i] = img.data()[plane * n + i] / (float) img.maxValue();
            }
        }
        return m.create(d, new Shape(1, 3, img.height(), img.width()));
    }
}
