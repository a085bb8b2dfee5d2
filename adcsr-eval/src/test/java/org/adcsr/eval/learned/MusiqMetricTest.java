package org.adcsr.eval.learned;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.adcsr.core.nets.GeneratedWeights;
import org.adcsr.core.nets.Musiq;
import org.adcsr.eval.metrics.Convention;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.adcsr.onnx.EngineChoice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * MUSIQ end to end, PNG file to score, against pyiqa v0.1.13's own MUSIQ module in float64
 * ({@code tools/eval/make_musiq_fixture.py}: pyiqa's unpatched loading path, preprocessing and forward, on a MUSIQ of
 * the default patch size, stem, grid and scales but a narrow 2-layer transformer, with hash-generated weights in
 * pyiqa's key layout, which GeneratedWeights.musiq makes here too). The four PNGs exercise the rules: a resized side
 * that rounds half to even (64×47 → 224×164), a longer side over 224 (a bicubic downscale), portrait and gray,
 * patches padded at every scale and padding tokens in the sequences. One of them also goes through the full-size
 * default configuration (hidden 384, 6 heads, 14 layers) with weights generated the same way. Both engines that can
 * run the network (DJL and ONNX Runtime) are held to the same bound.
 */
class MusiqMetricTest {
    /** The fixture script's TINY configuration (MusiqTest.TINY in adcsr-core). */
    static final Musiq.Config TINY = new Musiq.Config(32, 64, 96, 2, 2, 10, new int[] {224, 384}, 1);

    @TempDir Path tmp;

    @ParameterizedTest
    @EnumSource(value = EngineChoice.class, names = {"DJL", "ONNXRUNTIME"})
    void scoresPngsAsPyiqa(EngineChoice choice) throws Exception {
        Path expected = Path.of(MusiqMetricTest.class.getResource("/fixtures/musiq/expected.txt").toURI());
        List<String> rows = Files.readAllLines(expected).stream().filter(l -> !l.startsWith("#")).toList();
        assertEquals(4, rows.size());
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        MusiqMetric metric = MusiqMetric.of(engine, GeneratedWeights.musiq(TINY), TINY, 0, choice);
        assertEquals(choice.label(), metric.engineLabel());
        double worst = 0, worstAbs = 0;
        for (String row : rows) {
            String[] f = row.split(" ");
            Image img = Images.read(expected.getParent().getParent().resolve(f[0]));
            double want = Double.parseDouble(f[1]);
            double got = metric.score(img, null);
            assertEquals(want, got, 1e-5 * Math.abs(want), f[0]);
            worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
            worstAbs = Math.max(worstAbs, Math.abs(got - want));
        }
        System.out.println("MUSIQ (" + choice.label() + ") largest difference to pyiqa (float64): " + worst + " relative, " + worstAbs
                + " absolute");
        assertEquals("musiq_koniq", metric.column());
    }

    @ParameterizedTest
    @EnumSource(value = EngineChoice.class, names = {"DJL", "ONNXRUNTIME"})
    void fullSizeDefaultConfigurationScoresAsPyiqa(EngineChoice choice) throws Exception {
        Path expected = Path.of(MusiqMetricTest.class.getResource("/fixtures/musiq/expected_koniq.txt").toURI());
        List<String> rows = Files.readAllLines(expected).stream().filter(l -> !l.startsWith("#")).toList();
        assertEquals(1, rows.size());
        String[] f = rows.get(0).split(" ");
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        MusiqMetric metric = MusiqMetric.of(engine, GeneratedWeights.musiq(Musiq.Config.KONIQ), Musiq.Config.KONIQ, 0,
                choice);
        double want = Double.parseDouble(f[1]);
        double got = metric.score(Images.read(expected.getParent().getParent().resolve(f[0])), null);
        assertEquals(want, got, 1e-5 * Math.abs(want), f[0]);
        System.out.println("MUSIQ (full size, " + choice.label() + ") relative difference to pyiqa (float64): " + Math.abs(got - want) / want);
    }

    /** adcsr-eval scores --threads images at once through one metric: ONNX Runtime's one session is shared. */
    @Test
    void concurrentScoresEqualSequentialOnes() throws Exception {
        Path expected = Path.of(MusiqMetricTest.class.getResource("/fixtures/musiq/expected.txt").toURI());
        List<Image> images = new java.util.ArrayList<>();
        for (String row : Files.readAllLines(expected)) {
            if (!row.startsWith("#")) {
                images.add(Images.read(expected.getParent().getParent().resolve(row.split(" ")[0])));
            }
        }
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        MusiqMetric metric = MusiqMetric.of(engine, GeneratedWeights.musiq(TINY), TINY, 0, EngineChoice.ONNXRUNTIME);
        List<Double> sequential = images.stream().map(i -> metric.score(i, null)).toList();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 3; round++) {
                List<java.util.concurrent.Future<Double>> f = new java.util.ArrayList<>();
                for (Image i : images) {
                    f.add(pool.submit(() -> metric.score(i, null)));
                }
                for (int k = 0; k < images.size(); k++) {
                    assertEquals(sequential.get(k), f.get(k).get(), 0.0, "image " + k + ", round " + round);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @EnumSource(value = EngineChoice.class, names = {"DJL", "ONNXRUNTIME"})
    void cropIsInTheColumnName(EngineChoice choice) {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        MusiqMetric metric = MusiqMetric.of(engine, GeneratedWeights.musiq(TINY), TINY, 4, choice);
        assertEquals("musiq_koniq_crop4", metric.column());
        double s = metric.score(Image.blank(12, 9, 3, 255), null);    // any size: one patch at the original scale
        assertTrue(Double.isFinite(s), "" + s);
        // 1x449: 224/449 rounds to 0 (as pyiqa's F.interpolate refuses a size of 0); 1x448: 0.5 ties to even, 0 too
        for (int w : new int[] {457, 456}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> metric.score(Image.blank(w, 9, 3, 255), null));
            assertTrue(e.getMessage().startsWith((w - 8) + "x1 after the crop is too elongated for MUSIQ"),
                    e.getMessage());
        }
        assertTrue(Double.isFinite(metric.score(Image.blank(455, 9, 3, 255), null)));   // 1x447: 0.501 rounds to 1
    }

    @Test
    void namesTheMissingOrWrongFileAndWhereItIsPublished() throws Exception {
        MetricOptions none = new MetricOptions(Convention.PYIQA, 0, false, null);
        MetricUnavailableException e = assertThrows(MetricUnavailableException.class, () -> MusiqMetric.create(none));
        assertTrue(e.getMessage().contains("needs --weights-dir with musiq_koniq_ckpt-e95806b9.pth"), e.getMessage());
        MetricOptions dir = new MetricOptions(Convention.PYIQA, 0, false, tmp);
        MetricUnavailableException missing = assertThrows(MetricUnavailableException.class,
                () -> MusiqMetric.create(dir));
        assertTrue(missing.getMessage().startsWith("missing " + tmp.resolve("musiq_koniq_ckpt-e95806b9.pth")
                + " (pyiqa's MUSIQ KonIQ-10k checkpoint, published at https://huggingface.co/chaofengc/"
                + "IQA-PyTorch-Weights/resolve/main/musiq_koniq_ckpt-e95806b9.pth)"), missing.getMessage());
        assertTrue(!missing.getMessage().contains("\n"));
        Files.writeString(tmp.resolve("musiq_koniq_ckpt-e95806b9.pth"), "not the published file");
        BadInputException wrong = assertThrows(BadInputException.class, () -> MusiqMetric.create(dir));
        assertTrue(wrong.getMessage().contains("is not the published e95806b9"), wrong.getMessage());
    }
}
