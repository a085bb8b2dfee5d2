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
import org.adcsr.core.nets.Maniqa;
import org.adcsr.eval.metrics.Convention;
import org.adcsr.eval.metrics.MetricOptions;
import org.adcsr.eval.metrics.MetricUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MANIQA end to end, PNG file to score, against pyiqa v0.1.13's own MANIQA module in float64
 * ({@code tools/eval/make_maniqa_fixture.py}: pyiqa's unpatched loading path and forward, uniform_crop included, on a
 * MANIQA with the real crop, token and window geometry and small widths, with hash-generated weights in pyiqa's key
 * layout, which GeneratedWeights.maniqa makes here too). Two images are enlarged first (shorter side 192 and 188),
 * one (300×250) is cropped as it is.
 */
class ManiqaMetricTest {
    /** The fixture script's TINY configuration (ManiqaTest.TINY in adcsr-core). */
    static final Maniqa.Config TINY = new Maniqa.Config(32, 2, 12, 1000, 64, 0.13);

    @TempDir Path tmp;

    @Test
    void scoresPngsAsPyiqa() throws Exception {
        Path expected = Path.of(ManiqaMetricTest.class.getResource("/fixtures/maniqa/expected.txt").toURI());
        List<String> rows = Files.readAllLines(expected).stream().filter(l -> !l.startsWith("#")).toList();
        assertEquals(3, rows.size());
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        ManiqaMetric metric = ManiqaMetric.of(engine, GeneratedWeights.maniqa(TINY), TINY, 0);
        double worst = 0;
        for (String row : rows) {
            String[] f = row.split(" ");
            Image img = Images.read(expected.getParent().getParent().resolve(f[0]));
            assertEquals(Integer.parseInt(f[1]), img.width(), f[0]);
            assertEquals(Integer.parseInt(f[2]), img.height(), f[0]);
            double want = Double.parseDouble(f[3]);
            double got = metric.score(img, null);
            assertEquals(want, got, 1e-5 * want, f[0]);
            worst = Math.max(worst, Math.abs(got - want) / want);
        }
        System.out.println("MANIQA largest relative difference to pyiqa (float64): " + worst);
        assertEquals("maniqa_pipal", metric.column());
        assertEquals("maniqa_pipal_crop4", ManiqaMetric.of(engine, GeneratedWeights.maniqa(TINY), TINY, 4).column());
    }

    @Test
    void namesTheMissingOrWrongFileAndWhereItIsPublished() throws Exception {
        MetricOptions none = new MetricOptions(Convention.PYIQA, 0, false, null);
        MetricUnavailableException e = assertThrows(MetricUnavailableException.class, () -> ManiqaMetric.create(none));
        assertTrue(e.getMessage().contains("needs --weights-dir with MANIQA_PIPAL-ae6d356b.pth"), e.getMessage());
        MetricOptions dir = new MetricOptions(Convention.PYIQA, 0, false, tmp);
        MetricUnavailableException missing = assertThrows(MetricUnavailableException.class,
                () -> ManiqaMetric.create(dir));
        assertTrue(missing.getMessage().startsWith("missing " + tmp.resolve("MANIQA_PIPAL-ae6d356b.pth")
                + " (pyiqa's MANIQA trained on PIPAL, published at https://huggingface.co/chaofengc/IQA-PyTorch-Weights"
                + "/resolve/main/MANIQA_PIPAL-ae6d356b.pth)"), missing.getMessage());
        assertTrue(!missing.getMessage().contains("\n"), missing.getMessage());
        Files.writeString(tmp.resolve("MANIQA_PIPAL-ae6d356b.pth"), "not the published file");
        BadInputException wrong = assertThrows(BadInputException.class, () -> ManiqaMetric.create(dir));
        assertTrue(wrong.getMessage().contains("is not the published ae6d356b"), wrong.getMessage());
    }
}
