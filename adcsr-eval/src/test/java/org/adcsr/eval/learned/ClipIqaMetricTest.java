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
import org.adcsr.core.nets.ClipIqa;
import org.adcsr.core.nets.GeneratedWeights;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.adcsr.eval.metrics.Convention;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CLIPIQA end to end, PNG file to score, against pyiqa v0.1.13's own CLIPIQA module in float64
 * ({@code tools/eval/make_clipiqa_fixture.py}: pyiqa's unpatched loading path, build_model and forward, on a small CLIP
 * with hash-generated weights in CLIP's key layout, which GeneratedWeights.clip makes here too).
 */
class ClipIqaMetricTest {
    /** The fixture script's TINY configuration (ClipIqaTest.TINY in adcsr-core). */
    static final ClipIqa.Config TINY = new ClipIqa.Config(new int[] {1, 2, 1, 1}, 8, 32, 224, 77, 49408, 128, 2);

    @TempDir Path tmp;

    @Test
    void scoresPngsAsPyiqa() throws Exception {
        Path expected = Path.of(ClipIqaMetricTest.class.getResource("/fixtures/clipiqa/expected.txt").toURI());
        List<String> rows = Files.readAllLines(expected).stream().filter(l -> !l.startsWith("#")).toList();
        assertEquals(3, rows.size());
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        ClipIqaMetric metric = ClipIqaMetric.of(engine, GeneratedWeights.clip(TINY), TINY, 0);
        double worst = 0;
        for (String row : rows) {
            String[] f = row.split(" ");
            Image img = Images.read(expected.getParent().getParent().resolve(f[0]));
            double want = Double.parseDouble(f[1]);
            double got = metric.score(img, null);
            assertEquals(want, got, 1e-5 * want, f[0]);
            worst = Math.max(worst, Math.abs(got - want) / want);
        }
        System.out.println("CLIPIQA largest relative difference to pyiqa (float64): " + worst);
        assertEquals("clipiqa_rn50", metric.column());
    }

    @Test
    void tooSmallImagesAreRefusedOneByOne() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        ClipIqaMetric metric = ClipIqaMetric.of(engine, GeneratedWeights.clip(TINY), TINY, 4);
        assertEquals("clipiqa_rn50_crop4", metric.column());
        Image small = Image.blank(38, 40, 3, 255);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> metric.score(small, null));
        assertTrue(e.getMessage().contains("smaller than 31x31 after the crop"), e.getMessage());
    }

    @Test
    void namesTheMissingOrWrongFileAndWhereItIsPublished() throws Exception {
        MetricOptions none = new MetricOptions(Convention.PYIQA, 0, false, null);
        MetricUnavailableException e = assertThrows(MetricUnavailableException.class, () -> ClipIqaMetric.create(none));
        assertTrue(e.getMessage().contains("needs --weights-dir with RN50.pt"), e.getMessage());
        MetricOptions dir = new MetricOptions(Convention.PYIQA, 0, false, tmp);
        MetricUnavailableException missing = assertThrows(MetricUnavailableException.class,
                () -> ClipIqaMetric.create(dir));
        assertTrue(missing.getMessage().startsWith("missing " + tmp.resolve("RN50.pt") + " (OpenAI CLIP RN50, published "
                + "at https://openaipublic.azureedge.net/clip/models/afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a"
                + "7b63bc04b6762/RN50.pt)"), missing.getMessage());
        Files.writeString(tmp.resolve("RN50.pt"), "not the published file");
        BadInputException wrong = assertThrows(BadInputException.class, () -> ClipIqaMetric.create(dir));
        assertTrue(wrong.getMessage().contains("is not the published afeb0e10f9e5a86d"), wrong.getMessage());
    }
}
