package org.adcsr.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import org.adcsr.cli.Cli;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class EvalCommandTest {
    @TempDir Path tmp;

    record Run(int code, String out, String err) {
        List<String> lines() {
            return Arrays.asList(out.split("\n"));
        }

        List<String> errLines() {
            return err.isEmpty() ? List.of() : Arrays.asList(err.split("\n"));
        }
    }

    static Run run(String... args) {
        CommandLine cl = Cli.commandLine(new EvalCommand());
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = Cli.execute(cl, args);
        return new Run(code, out.toString(), err.toString());
    }

    static Path fixtures() {
        return ReferenceParityTest.fixtures();
    }

    /** A copy of a few fixture pairs in a temp folder, to break on purpose. */
    private Path[] copyPairs(String... names) throws IOException {
        Path sr = Files.createDirectories(tmp.resolve("sr")), gt = Files.createDirectories(tmp.resolve("gt"));
        for (String n : names) {
            Files.copy(fixtures().resolve("sr").resolve(n), sr.resolve(n), StandardCopyOption.REPLACE_EXISTING);
            Files.copy(fixtures().resolve("gt").resolve(n), gt.resolve(n), StandardCopyOption.REPLACE_EXISTING);
        }
        return new Path[] {sr, gt};
    }

    @Test
    void scoresFolderPairsWithTheReferenceFigures() throws IOException {
        Run r = run("-q", "--sr", fixtures().resolve("sr").toString(), "--gt", fixtures().resolve("gt").toString());
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.lines();
        assertEquals("row,image,count,psnr_y_bt601_pyiqa,ssim_y_bt601_pyiqa,niqe_yiq_pyiqa", lines.get(0));
        assertEquals(6 + 2, lines.size());
        assertTrue(lines.get(lines.size() - 1).startsWith("mean,,6,"));
        // bliznaca.png, pyiqa PSNR as pyiqa prints it (reference_figures.csv, 30.601253509521484)
        String[] bliz = lines.get(1).split(",");
        assertEquals("bliznaca.png", bliz[1]);
        assertEquals(30.601253509521484, Double.parseDouble(bliz[3]), 1e-6);
        assertEquals(0.9332500846741288, Double.parseDouble(bliz[4]), 1e-4);
        assertEquals(11.169672104108095, Double.parseDouble(bliz[5]), 1e-4);
        assertEquals("", r.err(), "-q: nothing on stderr");
    }

    @Test
    void basicsrConventionCropAndRgbNameTheirColumns() {
        Run r = run("-q", "--sr", fixtures().resolve("sr/ria.png").toString(), "--gt", fixtures().resolve("gt").toString(),
                "--convention", "basicsr", "--crop-border", "4", "--rgb", "-m", "psnr,ssim,niqe");
        assertEquals(0, r.code(), r.err());
        assertEquals("row,image,count,psnr_rgb_basicsr_crop4,ssim_rgb_basicsr_crop4,niqe_y_bt601_basicsr_crop4",
                r.lines().get(0));
        String[] v = r.lines().get(1).split(",");
        assertEquals(31.558435748176006, Double.parseDouble(v[3]), 1e-6);   // reference_figures.csv
        assertEquals(0.8475222217541983, Double.parseDouble(v[4]), 1e-4);
        assertEquals(Double.parseDouble(v[3]), Double.parseDouble(r.lines().get(2).split(",")[3]), 0, "mean of one");
    }

    @Test
    void tableOnStderrAndCsvToAFile() throws IOException {
        Path csv = tmp.resolve("scores.csv");
        Run r = run("--sr", fixtures().resolve("sr/macan.png").toString(), "--gt", fixtures().resolve("gt").toString(),
                "-o", csv.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(Files.readString(csv).startsWith("row,image,count,"));
        assertTrue(r.err().contains("psnr_y_bt601_pyiqa"), r.err());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("metric")), r.err());
    }

    @Test
    void noReferenceOnlyWithoutGt() {
        Run r = run("-q", "--sr", fixtures().resolve("sr/ria.png").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("row,image,count,niqe_yiq_pyiqa", r.lines().get(0));
    }

    @Test
    void badInputsAreOneLineEachAndTheRestIsScored() throws IOException {
        Path[] d = copyPairs("ria.png", "macan.png", "gray.png", "bliznaca.png");
        Path sr = d[0], gt = d[1];
        Files.delete(gt.resolve("macan.png"));                                 // missing partner
        Files.copy(fixtures().resolve("gt/flower.png"), gt.resolve("extra.png"));   // GT without SR
        Files.copy(fixtures().resolve("gt/macan.png"), gt.resolve("gray.png"),      // gray SR vs colour GT
                StandardCopyOption.REPLACE_EXISTING);
        Image small = Images.read(sr.resolve("bliznaca.png"));                // size mismatch
        Images.write(new Image(small.width() / 2, small.height(), 3, 255,
                Arrays.copyOf(small.data(), small.data().length / 2)), sr.resolve("bliznaca.png"), 95);
        Files.writeString(sr.resolve("corrupt.png"), "not a png");             // corrupt
        Files.copy(fixtures().resolve("gt/ria.png"), gt.resolve("corrupt.png"));

        Run r = run("-q", "--sr", sr.toString(), "--gt", gt.toString(), "-m", "psnr,ssim");
        assertEquals(3, r.code());
        List<String> err = r.errLines();
        assertEquals(5, err.size(), r.err());
        assertTrue(err.stream().allMatch(l -> l.startsWith("adcsr-eval: ")), r.err());
        assertTrue(r.err().contains("macan.png: no ground truth"), r.err());
        assertTrue(r.err().contains("extra.png: ground truth without an SR image"), r.err());
        assertTrue(r.err().contains("gray but"), r.err());
        assertTrue(r.err().contains("differs from"), r.err());
        assertTrue(r.err().contains("corrupt.png"), r.err());
        assertEquals(3, r.lines().size(), r.out());                          // header, ria, mean
        assertTrue(r.lines().get(1).startsWith("image,ria.png,1,"));
        assertTrue(r.lines().get(2).startsWith("mean,,1,"));
    }

    @Test
    void unavailableMetricIsOneLineAndNoNumber() {
        Run r = run("-q", "--sr", fixtures().resolve("sr/ria.png").toString(), "--gt", fixtures().resolve("gt").toString(),
                "-m", "psnr,lpips");
        assertEquals(3, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("adcsr-eval: lpips: unavailable: "), r.err());
        assertEquals("row,image,count,psnr_y_bt601_pyiqa", r.lines().get(0));
        assertFalse(r.out().contains("lpips"));
    }

    @Test
    void lpipsNamesTheMissingWeightFileOrTheWrongOne() throws IOException {
        String sr = fixtures().resolve("sr/ria.png").toString(), gt = fixtures().resolve("gt").toString();
        Path dir = Files.createDirectories(tmp.resolve("weights"));
        Run none = run("-q", "--sr", sr, "--gt", gt, "-m", "lpips", "--weights-dir", dir.toString());
        assertEquals(3, none.code());
        assertEquals(1, none.errLines().size(), none.err());
        assertTrue(none.err().contains("missing " + dir.resolve("LPIPS_v0.1_alex-df73285e.pth")), none.err());
        assertFalse(none.out().contains("lpips"), "no column, no number");

        Files.writeString(dir.resolve("LPIPS_v0.1_alex-df73285e.pth"), "some other file"); // not the published one
        Run wrong = run("-q", "--sr", sr, "--gt", gt, "-m", "psnr,lpips", "--weights-dir", dir.toString());
        assertEquals(3, wrong.code());
        assertEquals(1, wrong.errLines().size(), wrong.err());
        assertTrue(wrong.err().contains("is not the published df73285e"), wrong.err());
        assertEquals("row,image,count,psnr_y_bt601_pyiqa", wrong.lines().get(0), "the other metrics still run");

        Run dists = run("-q", "--sr", sr, "--gt", gt, "-m", "dists", "--weights-dir", dir.toString());
        assertEquals(3, dists.code());
        assertTrue(dists.err().contains("dists: unavailable: missing " + dir.resolve("DISTS_weights-f5e65c96.pth")),
                dists.err());
    }

    @Test
    void fidWithoutItsWeightsIsUnavailableAndNoNumber() throws IOException {
        String sr = fixtures().resolve("sr").toString(), gt = fixtures().resolve("gt").toString();
        Run none = run("-q", "--sr", sr, "--gt", gt, "-m", "psnr,fid");
        assertEquals(3, none.code());
        assertTrue(none.err().startsWith("adcsr-eval: fid: unavailable: needs --weights-dir"), none.err());
        assertEquals("row,image,count,psnr_y_bt601_pyiqa", none.lines().get(0));
        assertFalse(none.out().contains("fid"));
        Path dir = Files.createDirectories(tmp.resolve("weights-fid"));
        Run missing = run("-q", "--sr", sr, "--gt", gt, "-m", "fid", "--weights-dir", dir.toString());
        assertEquals(3, missing.code());
        assertTrue(missing.err().contains("fid: unavailable: missing "
                + dir.resolve("pt_inception-2015-12-05-6726825d.pth")), missing.err());
        assertFalse(missing.out().contains("fid"));
    }

    @Test
    void resizeSrScoresTheSrResizedAsPilResizesIt() throws IOException {
        Path small = fixtures().resolve("resize/small"), gt = tmp.resolve("gt");
        Files.createDirectories(gt);
        for (String n : List.of("macan.png", "gray.png")) {
            Files.copy(fixtures().resolve("gt").resolve(n), gt.resolve(n));
        }
        Run refused = run("-q", "--sr", small.toString(), "--gt", gt.toString(), "-m", "psnr,ssim");
        assertEquals(3, refused.code());
        assertEquals(3, refused.errLines().size(), refused.err());   // two refusals, then: nothing scored
        assertEquals("adcsr-eval: no image could be scored; nothing written", refused.errLines().get(2));
        assertEquals("", refused.out(), "no CSV with a mean of nothing");
        assertTrue(refused.err().contains("284x188 differs from") && refused.err().contains("--resize-sr"),
                refused.err());
        for (String filter : List.of("bicubic", "lanczos")) {
            Run resized = run("-q", "--sr", small.toString(), "--gt", gt.toString(), "-m", "psnr,ssim,niqe",
                    "--resize-sr", filter);
            Run byPil = run("-q", "--sr", fixtures().resolve("resize").resolve(filter).toString(),
                    "--gt", gt.toString(), "-m", "psnr,ssim,niqe");
            assertEquals(0, resized.code(), resized.err());
            // the same numbers, under column names that say the SR images were resized and how
            String[] pil = byPil.out().split("\n", 2);
            String header = String.join(",", java.util.Arrays.stream(pil[0].split(","))
                    .map(c -> List.of("row", "image", "count").contains(c) ? c : c + "_resized_" + filter).toList());
            assertTrue(header.startsWith("row,image,count,psnr_y_bt601_pyiqa_resized_" + filter + ",ssim_"), header);
            assertEquals(header + "\n" + pil[1], resized.out());
            assertEquals("adcsr-eval: 2 SR images were resized to the GT size (" + filter + ")", resized.err().strip());
        }
        assertEquals(2, run("--sr", small.toString(), "--gt", gt.toString(), "--resize-sr", "area").code());
    }

    @Test
    void usageErrors() {
        assertEquals(2, run("--sr", fixtures().resolve("sr").toString(), "-m", "nosuch").code());
        assertEquals(2, run("--sr", fixtures().resolve("sr").toString(), "-m", "psnr").code(), "psnr needs --gt");
        assertEquals(2, run("--sr", fixtures().resolve("sr").toString(), "--convention", "matlab").code());
        assertEquals(2, run("-m", "niqe").code(), "no input");
        assertEquals(3, run("--sr", tmp.resolve("nothing-here").toString()).code());
    }

    @Test
    void niqeTooSmallIsReported() throws IOException {
        Path sr = Files.createDirectories(tmp.resolve("small"));
        Images.write(Image.blank(64, 64, 3, 255), sr.resolve("tiny.png"), 95);
        Run r = run("-q", "--sr", sr.toString(), "-m", "niqe");
        assertEquals(3, r.code());
        assertTrue(r.err().contains("tiny.png: niqe: NIQE needs at least 96x96 pixels"), r.err());
    }

    @Test
    void pairsCsvWithHrColumn() throws IOException {
        Path[] d = copyPairs("ria.png");
        Path csv = tmp.resolve("pairs.csv");
        Files.writeString(csv, "lr,hr,sr\nx.png,gt/ria.png,sr/ria.png\n");
        Run r = run("-q", "--pairs", csv.toString(), "-m", "psnr");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.lines().get(1).startsWith("image,ria.png,1,"));
    }

    @Test
    void degradePairsCsvWithAnSrFolder() throws IOException {
        Path[] d = copyPairs("ria.png", "bliznaca.png");
        Files.move(d[0].resolve("ria.png"), d[0].resolve("000001_x4.png")); // named as adcsr-upscale names it
        Files.move(d[0].resolve("bliznaca.png"), d[0].resolve("000002.png"));
        Path csv = tmp.resolve("pairs.csv");
        Files.writeString(csv, "id,hr_path,lr_path,seed\n000001,gt/ria.png,lr/000001.png,1\n"
                + "000002,gt/bliznaca.png,lr/000002.png,2\n000003,gt/ria.png,lr/000003.png,3\n");
        Run r = run("-q", "--pairs", csv.toString(), "--sr-dir", d[0].toString(), "-m", "psnr");
        assertEquals(3, r.code(), "000003 has no SR image");
        assertTrue(r.err().contains("no SR image for lr/000003.png"), r.err());
        assertTrue(r.lines().get(1).startsWith("image,000001_x4.png,1,"), r.out());
        assertTrue(r.lines().get(2).startsWith("image,000002.png,1,"), r.out());
        Run noDir = run("-q", "--pairs", csv.toString(), "-m", "psnr");
        assertEquals(3, noDir.code());
        assertTrue(noDir.err().contains("--sr-dir"), noDir.err());
    }

    @Test
    void identicalImagesGiveInfInBasicsrAndEightyDbInPyiqa() {
        String gt = fixtures().resolve("gt").toString(), same = fixtures().resolve("gt/ria.png").toString();
        Run b = run("-q", "--sr", same, "--gt", gt, "-m", "psnr,ssim", "--convention", "basicsr");
        assertEquals("image,ria.png,1,inf,1.0", b.lines().get(1));
        Run p = run("-q", "--sr", same, "--gt", gt, "-m", "psnr", "--convention", "pyiqa");
        assertEquals(80.0, Double.parseDouble(p.lines().get(1).split(",")[3]), 1e-5);   // 10·log10(1/1e-8)
    }

    @Test
    void listsMetrics() {
        Run r = run("--list-metrics");
        assertEquals(0, r.code());
        for (String m : List.of("psnr", "ssim", "niqe", "lpips", "dists", "fid", "musiq", "maniqa", "clipiqa")) {
            assertTrue(r.out().lines().anyMatch(l -> l.startsWith(m + " ")), m);
        }
        // one column of descriptions
        int col = r.out().lines().mapToInt(l -> l.indexOf(' ')).max().orElseThrow() + 2;
        for (String l : r.out().lines().toList()) {
            assertTrue(l.substring(l.indexOf(' '), col).isBlank() && l.charAt(col) != ' ', l);
        }
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("maniqa ") && l.contains("MANIQA_PIPAL-ae6d356b.pth")
                && !l.contains("not implemented")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("clipiqa ") && l.contains("RN50.pt")
                && !l.contains("not implemented")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("musiq ") && l.contains("musiq_koniq_ckpt-e95806b9.pth")
                && !l.contains("not implemented")), r.out());
    }

    @Test
    void musiqWithoutItsCheckpointIsUnavailableAndTheOthersStillRun() throws IOException {
        String sr = fixtures().resolve("sr/ria.png").toString();
        Path dir = Files.createDirectories(tmp.resolve("weights-musiq"));
        Run r = run("-q", "--sr", sr, "-m", "niqe,musiq", "--weights-dir", dir.toString());
        assertEquals(3, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertEquals("adcsr-eval: musiq: unavailable: missing " + dir.resolve("musiq_koniq_ckpt-e95806b9.pth")
                + " (pyiqa's MUSIQ KonIQ-10k checkpoint, published at https://huggingface.co/chaofengc/"
                + "IQA-PyTorch-Weights/resolve/main/musiq_koniq_ckpt-e95806b9.pth); no score is written",
                r.errLines().get(0));
        assertEquals("row,image,count,niqe_yiq_pyiqa", r.lines().get(0));
        assertFalse(r.out().contains("musiq"));
    }

    @Test
    void clipiqaWithoutRn50IsUnavailableAndTheOthersStillRun() throws IOException {
        String sr = fixtures().resolve("sr/ria.png").toString();
        Path dir = Files.createDirectories(tmp.resolve("weights-clip"));
        Run r = run("-q", "--sr", sr, "-m", "niqe,clipiqa", "--weights-dir", dir.toString());
        assertEquals(3, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("adcsr-eval: clipiqa: unavailable: missing " + dir.resolve("RN50.pt")
                + " (OpenAI CLIP RN50, published at https://openaipublic.azureedge.net/clip/models/"), r.err());
        assertEquals("row,image,count,niqe_yiq_pyiqa", r.lines().get(0));
        assertFalse(r.out().contains("clipiqa"));
    }

    @Test
    void maniqaWithoutItsWeightsIsUnavailableAndTheOthersStillRun() throws IOException {
        String sr = fixtures().resolve("sr/ria.png").toString();
        Path dir = Files.createDirectories(tmp.resolve("weights-maniqa"));
        Run r = run("-q", "--sr", sr, "-m", "maniqa,niqe", "--weights-dir", dir.toString());
        assertEquals(3, r.code());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("adcsr-eval: maniqa: unavailable: missing "
                + dir.resolve("MANIQA_PIPAL-ae6d356b.pth") + " (pyiqa's MANIQA trained on PIPAL, published at "
                + "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/"), r.err());
        assertEquals("row,image,count,niqe_yiq_pyiqa", r.lines().get(0));
        assertFalse(r.out().contains("maniqa"));
    }

    @Test
    void allIsEveryListedMetric() {
        String sr = fixtures().resolve("sr/ria.png").toString(), gt = fixtures().resolve("gt").toString();
        Run r = run("-q", "--sr", sr, "--gt", gt, "-m", "all");
        assertEquals(3, r.code());
        // psnr, ssim and niqe score; every learned metric is one "unavailable" line (no --weights-dir), clipiqa too
        // (other tests may register metrics of their own, which then follow)
        assertTrue(r.lines().get(0).startsWith("row,image,count,psnr_y_bt601_pyiqa,ssim_y_bt601_pyiqa,niqe_yiq_pyiqa"),
                r.lines().get(0));
        for (String m : List.of("lpips", "lpips-vgg", "dists", "fid", "musiq", "maniqa", "clipiqa")) {
            assertTrue(r.errLines().stream().anyMatch(l -> l.startsWith("adcsr-eval: " + m + ": unavailable: ")),
                    m + ": " + r.err());
        }
    }
}
