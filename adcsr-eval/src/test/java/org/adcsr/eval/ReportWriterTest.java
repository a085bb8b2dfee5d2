package org.adcsr.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.adcsr.core.image.Image;
import org.adcsr.eval.metrics.FolderMetric;
import org.adcsr.eval.metrics.Metric;
import org.junit.jupiter.api.Test;

/** The CSV layout of a folder-level metric next to a per-image one. */
class ReportWriterTest {

    /** Per image: the mean sample; per set: the SR total minus the GT total of those means. */
    private static final FolderMetric SET = new FolderMetric() {
        public double[] features(Image img) {
            double s = 0;
            for (float v : img.data()) {
                s += v;
            }
            return new double[] {s / img.data().length};
        }

        public double folder(List<double[]> sr, List<double[]> gt) {
            if (sr.size() < 2) {
                throw new IllegalArgumentException("needs at least 2 images");
            }
            double d = 0;
            for (int i = 0; i < sr.size(); i++) {
                d += sr.get(i)[0] - gt.get(i)[0];
            }
            return d;
        }

        public String name() {
            return "set";
        }

        public String column() {
            return "set_value";
        }

        public boolean fullReference() {
            return true;
        }
    };

    private static final Metric ONE = new Metric() {
        public String name() {
            return "one";
        }

        public String column() {
            return "one";
        }

        public boolean fullReference() {
            return false;
        }

        public double score(Image sr, Image gt) {
            return 1;
        }
    };

    private static Pair pair(String n) {
        Path f = EvalCommandTest.fixtures();
        return new Pair(n, f.resolve("sr/" + n), f.resolve("gt/" + n));
    }

    private static String[] csv(Evaluator.Report r) throws Exception {
        StringWriter w = new StringWriter();
        ReportWriter.csv(r, w);
        return w.toString().split("\n");
    }

    @Test
    void folderMetricIsEmptyInImageRowsAndItsValueIsInTheMeanRow() throws Exception {
        Evaluator.Report r = new Evaluator(List.of(ONE, SET), 2).run(List.of(pair("ria.png"), pair("macan.png")),
                d -> { });
        String[] lines = csv(r);
        assertEquals("row,image,count,one,set_value", lines[0]);
        assertEquals("image,ria.png,1,1.0,", lines[1]);
        assertEquals("image,macan.png,1,1.0,", lines[2]);
        assertEquals("mean,,2,1.0," + r.means()[1], lines[3]);
        StringWriter table = new StringWriter();
        ReportWriter.table(r, new PrintWriter(table));
        assertEquals(3, table.toString().lines().count());
    }

    @Test
    void anUndefinedFolderValueIsAProblemAndEmpty() throws Exception {
        Evaluator.Report r = new Evaluator(List.of(ONE, SET), 1).run(List.of(pair("ria.png")), d -> { });
        assertEquals(List.of("set: needs at least 2 images (1 scored); no score is written"), r.problems());
        assertEquals("mean,,1,1.0,", csv(r)[2]);
    }
}
