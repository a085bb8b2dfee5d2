package org.adcsr.eval.learned;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.Engines;
import org.adcsr.eval.Evaluator;
import org.adcsr.eval.Pair;
import org.junit.jupiter.api.Test;
import org.adcsr.core.nets.GeneratedWeights;

/**
 * FID end to end (PIL float bicubic to 299, InceptionV3 on generated weights, folder statistics, Fréchet distance)
 * against {@code tools/eval/make_fid_folder_fixture.py}, which runs pyiqa 0.1.13's clean-mode pieces on four SR/GT
 * pairs. pyiqa's own scipy sqrtm fails on such a small set (singular covariances), so the expectations are the same
 * formula in float64 torch: 'eigh' (2048×2048 eigen-decompositions) and 'gram' (the small Gram matrix, as here).
 */
class FidMetricTest {

    private static Map<String, String> fixture() throws Exception {
        Path p = Path.of(FidMetricTest.class.getResource("/fixtures/fid/folder.txt").toURI());
        Map<String, String> m = new HashMap<>();
        for (String l : Files.readAllLines(p)) {
            if (!l.startsWith("#")) {
                int sp = l.indexOf(' ');
                m.put(l.substring(0, sp), l.substring(sp + 1));
            }
        }
        return m;
    }

    private static Path fixtures() throws Exception {
        return Path.of(FidMetricTest.class.getResource("/fixtures/fid/folder.txt").toURI()).getParent().getParent();
    }

    @Test
    void folderFidMatchesTheReference() throws Exception {
        Map<String, String> f = fixture();
        List<Pair> pairs = new ArrayList<>();
        for (String n : f.get("images").split(" ")) {
            pairs.add(new Pair(n + ".png", fixtures().resolve("sr/" + n + ".png"), fixtures().resolve("gt/" + n + ".png")));
        }
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        FidMetric fid = FidMetric.of(engine, GeneratedWeights.inception(5.0));
        Evaluator.Report r = new Evaluator(List.of(fid), 2).run(pairs, done -> { });
        assertTrue(r.problems().isEmpty(), r.problems().toString());
        assertEquals(4, r.count());
        for (Evaluator.Row row : r.rows()) {
            assertTrue(Double.isNaN(row.values()[0]), "no per-image FID");
        }
        double got = r.means()[0];
        double gram = Double.parseDouble(f.get("gram")), eigh = Double.parseDouble(f.get("eigh"));
        assertEquals(gram, got, 1e-5 * gram, "gram reference");
        assertEquals(eigh, got, 1e-4 * eigh, "eigh reference");
        assertEquals("fid_clean", fid.column());
    }

    @Test
    void oneImageIsAProblemNotANumber() throws Exception {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        FidMetric fid = FidMetric.of(engine, GeneratedWeights.inception(5.0));
        Pair p = new Pair("flower.png", fixtures().resolve("sr/flower.png"), fixtures().resolve("gt/flower.png"));
        Evaluator.Report r = new Evaluator(List.of(fid), 1).run(List.of(p), done -> { });
        assertTrue(Double.isNaN(r.means()[0]));
        assertEquals(1, r.problems().size(), r.problems().toString());
        assertTrue(r.problems().get(0).startsWith("fid: FID needs at least 2 images"), r.problems().get(0));
    }
}
