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
import org.adcsr.core.nets.Lpips;

/**
 * The {@code lpips} (AlexNet) and {@code lpips-vgg} metrics: {@link Lpips} on RGB/255 float32 images (as pyiqa feeds
 * it), crop applied first. Weights from {@code --weights-dir}, under pyiqa's and torchvision's file names: the LPIPS
 * file, and torchvision's backbone unless the LPIPS file also holds it (LPIPS's own keys {@code net.sliceK.N.*}).
 * File names end in the first eight hex digits of their sha256, which is checked.
 */
public final class LpipsMetric implements Metric {
    public static final String HEADS = Lpips.HEADS_ALEX;
    public static final String BACKBONE = Lpips.BACKBONE_ALEX;
    public static final String HEADS_VGG = Lpips.HEADS_VGG;
    public static final String BACKBONE_VGG = Lpips.BACKBONE_VGG;

    private final Engine engine;
    private final Lpips net;
    private final int crop;
    private final String name;

    private LpipsMetric(Engine engine, Lpips net, int crop, String name) {
        this.engine = engine;
        this.net = net;
        this.crop = crop;
        this.name = name;
    }

    /** {@code lpips}: AlexNet. */
    public static Metric create(MetricOptions o) throws MetricUnavailableException {
        return create(o, Lpips.Backbone.ALEX, HEADS, BACKBONE, "lpips");
    }

    /** {@code lpips-vgg}: VGG16. */
    public static Metric createVgg(MetricOptions o) throws MetricUnavailableException {
        return create(o, Lpips.Backbone.VGG, HEADS_VGG, BACKBONE_VGG, "lpips-vgg");
    }

    /** The file name's sha256 prefix: {@code name-<8 hex>.pth}. */
    static String hashPrefix(String file) {
        return file.substring(file.lastIndexOf('-') + 1, file.lastIndexOf('.'));
    }

    /** Loads the weights, or says in one line which file is missing. */
    static Metric create(MetricOptions o, Lpips.Backbone kind, String headsName, String backboneName, String name)
            throws MetricUnavailableException {
        Path dir = o.weightsDir();
        if (dir == null) {
            throw new MetricUnavailableException("needs --weights-dir with " + headsName + " and " + backboneName
                    + " (they cannot be downloaded here); no score is written");
        }
        Path headsFile = dir.resolve(headsName), backboneFile = dir.resolve(backboneName);
        if (!Files.isRegularFile(headsFile)) {
            throw new MetricUnavailableException("missing " + headsFile + "; no score is written");
        }
        checkHashPrefix(headsFile, hashPrefix(headsName));
        Engine engine = Engines.start(Engines.Target.CPU, null);
        try (TorchCheckpoint heads = TorchCheckpoint.open(headsFile)) {
            TensorSource h = heads.tensors();
            if (Files.isRegularFile(backboneFile)) {
                checkHashPrefix(backboneFile, hashPrefix(backboneName));
                try (TorchCheckpoint tv = TorchCheckpoint.open(backboneFile)) {
                    return new LpipsMetric(engine, Lpips.load(kind, engine.newBaseManager(), tv.tensors(), h),
                            o.cropBorder(), name);
                }
            }
            if (h.contains("net.slice1.0.weight")) {
                // LPIPS's own module keeps torchvision's indices inside its slices: features.N -> net.slice<k>.N
                RenamedTensorSource renamed = new RenamedTensorSource(headsFile);
                int slice = 1;
                for (int[] l : kind.layers()) {
                    if (l[0] == Lpips.TAP) {
                        slice++;
                    } else if (l[0] >= 0) {
                        for (String p : new String[] {".weight", ".bias"}) {
                            renamed.put("features." + l[0] + p, h, "net.slice" + slice + "." + l[0] + p);
                        }
                    }
                }
                return new LpipsMetric(engine, Lpips.load(kind, engine.newBaseManager(), renamed, h),
                        o.cropBorder(), name);
            }
            throw new MetricUnavailableException("missing " + backboneFile + " (torchvision's backbone; " + headsName
                    + " has none); no score is written");
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
        return name;
    }

    @Override
    public String column() {
        return (name.equals("lpips") ? "lpips_alex_v0.1" : "lpips_vgg_v0.1") + (crop == 0 ? "" : "_crop" + crop);
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
        return m.create(rgb(img), new Shape(1, 3, img.height(), img.width()));
    }

    /** {@link #tensor}'s values: {@code [3, H, W]} of RGB/maxValue, gray replicated, alpha dropped. */
    static float[] rgb(Image img) {
        int n = img.width() * img.height();
        float[] d = new float[3 * n];
        for (int c = 0; c < 3; c++) {
            int plane = img.isGray() ? 0 : c;
            for (int i = 0; i < n; i++) {
                d[c * n + i] = img.data()[plane * n + i] / (float) img.maxValue();
            }
        }
        return d;
    }
}
