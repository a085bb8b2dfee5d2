package org.adcsr.degrade;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.adcsr.cli.Cli;
import org.adcsr.core.degrade.Degrader;
import org.adcsr.core.degrade.Settings;
import org.adcsr.core.image.Image;
import org.adcsr.core.image.Images;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DegradeCommandTest {
    @TempDir
    Path dir;
    Path photo;
    String out;
    String err;

    @BeforeEach
    void copyPhoto() throws IOException {
        photo = dir.resolve("photo.png");
        try (InputStream in = getClass().getResourceAsStream("/fixtures/degrade/photo.png")) {
            Files.copy(in, photo);
        }
    }

    int run(String... args) {
        CommandLine cl = Cli.commandLine(new DegradeCommand());
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        cl.setOut(new PrintWriter(o, true));
        cl.setErr(new PrintWriter(e, true));
        int code = Cli.execute(cl, args);
        out = o.toString();
        err = e.toString();
        return code;
    }

    /** Small pairs (96 px HR, 24 px LR) so the tests stay fast. */
    int small(Path output, String... more) {
        List<String> a = new ArrayList<>(List.of("--gt-size", "96", "--seed", "7", "--pairs-per-image", "4",
                "--threads", "1", "-o", output.toString()));
        a.addAll(List.of(more));
        if (!a.contains("--replay")) {
            a.add(photo.toString());
        }
        return run(a.toArray(String[]::new));
    }

    static List<String> files(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted()
                    .collect(Collectors.toList());
        }
    }

    static void assertSameFiles(Path a, Path b, String... names) throws IOException {
        for (String n : names) {
            assertArrayEquals(Files.readAllBytes(a.resolve(n)), Files.readAllBytes(b.resolve(n)), n);
        }
    }

    static List<String> pairFiles(Path root) throws IOException {
        return files(root).stream().filter(n -> n.startsWith("hr/") || n.startsWith("lr/")).toList();
    }

    @Test
    void makesPairsAndCsv() throws IOException {
        Path o = dir.resolve("a");
        assertEquals(0, small(o, "--save-kernels"), err);
        assertEquals("", out);
        assertEquals(List.of("hr/000000.png", "hr/000001.png", "hr/000002.png", "hr/000003.png", "lr/000000.png",
                "lr/000001.png", "lr/000002.png", "lr/000003.png"), pairFiles(o));
        Image hr = Images.read(o.resolve("hr/000002.png"));
        Image lr = Images.read(o.resolve("lr/000002.png"));
        assertEquals(96, hr.width());
        assertEquals(96, hr.height());
        assertEquals(24, lr.width());
        assertEquals(3, lr.channels());
        List<String> csv = Files.readAllLines(o.resolve("pairs.csv"));
        assertEquals(5, csv.size());
        assertTrue(csv.get(0).startsWith("id,hr_path,lr_path,source,"));
        assertTrue(csv.get(0).contains("kernel1_sigma_x") && csv.get(0).contains("final_order")
                && csv.get(0).contains("jpeg2_quality") && csv.get(0).contains("noise2_gray"));
        assertTrue(csv.get(1).startsWith("000000,hr/000000.png,lr/000000.png," + photo + ",160,140,"));
        assertEquals(12, files(o.resolve("kernels")).size());
        assertTrue(Files.readString(o.resolve("pairs.settings")).contains("jpeg_range2: [60, 100]"));
        assertFalse(Files.exists(o.resolve(".pairs.csv.partial")));
        // the HR crop is the source's pixels (possibly flipped): every HR value is an 8-bit source value
        assertTrue(err.contains("4 pairs made"), err);
    }

    @Test
    void sameBytesWhateverTheThreadCount() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertEquals(0, small(a));
        assertEquals(0, run("--gt-size", "96", "--seed", "7", "--pairs-per-image", "4", "--threads", "3", "-o",
                b.toString(), photo.toString()));
        assertEquals(files(a), files(b));
        assertSameFiles(a, b, files(a).toArray(String[]::new));
    }

    @Test
    void largeSourcesDecodeOnlyEachPairsRegionWithTheSameBytes() throws IOException {
        // a crop smaller than the 160x140 photo, so crops (flipped and not) sit anywhere in it; a JPEG with EXIF
        // orientation 6 (shown rotated) as a second source
        Path jpeg = dir.resolve("rotated.jpg");
        Images.write(Images.read(photo), jpeg, 92);
        byte[] b = Files.readAllBytes(jpeg);
        java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(26);
        tiff.put((byte) 'M').put((byte) 'M').putShort((short) 42).putInt(8).putShort((short) 1)
                .putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) 6).putShort((short) 0)
                .putInt(0);
        java.io.ByteArrayOutputStream tagged = new java.io.ByteArrayOutputStream();
        tagged.write(b, 0, 2);
        tagged.write(new byte[] {(byte) 0xFF, (byte) 0xE1, 0, (byte) (2 + 6 + 26)});
        tagged.write("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        tagged.write(tiff.array());
        tagged.write(b, 2, b.length - 2);
        Files.write(jpeg, tagged.toByteArray());
        assertEquals(List.of(140, 160), java.util.Arrays.stream(Images.size(jpeg)).boxed().toList());
        Settings settings = Settings.preset("adcsr").set("crop_pad_size=100", "test").set("gt_size=96", "test")
                .set("use_hflip=true", "test").validate();
        List<Path> outs = new ArrayList<>();
        for (long limit : new long[] {Long.MAX_VALUE, 0}) {
            Path o = dir.resolve("limit" + (limit == 0 ? 0 : 1));
            DegradeRun.Options opts = new DegradeRun.Options(List.of(photo, jpeg), o, settings, "adcsr", 6, 11, 1, 1,
                    Degrader.IMAGEIO, 1, false, false, null, 1);
            DegradeRun.Summary s = new DegradeRun(opts, new DegradeRun.Listener() {
                @Override
                public void warn(String message) {
                }

                @Override
                public void progress(long done, long total) {
                }
            }).wholeDecodePixels(limit).run();
            assertEquals(12, s.made(), s.errors().toString());
            outs.add(o);
        }
        List<String> csv = Files.readAllLines(outs.get(0).resolve("pairs.csv"));
        int hflip = List.of(csv.get(0).split(",")).indexOf("hflip");
        java.util.Set<String> flips = csv.stream().skip(1).map(l -> l.split(",")[hflip]).collect(Collectors.toSet());
        assertEquals(2, flips.size(), "flipped and unflipped crops: " + flips);
        assertEquals(files(outs.get(0)), files(outs.get(1)));
        assertSameFiles(outs.get(0), outs.get(1), files(outs.get(0)).toArray(String[]::new));
    }

    @Test
    void shardsSplitTheSamePairs() throws IOException {
        Path full = dir.resolve("full");
        Path shards = dir.resolve("shards");
        assertEquals(0, small(full));
        assertEquals(0, small(shards, "--shard", "1/3"));
        assertEquals(0, small(shards, "--shard", "2/3"));
        assertEquals(0, small(shards, "--shard", "3/3"));
        assertEquals(pairFiles(full), pairFiles(shards));
        assertSameFiles(full, shards, pairFiles(full).toArray(String[]::new));
        List<String> rows = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            List<String> l = Files.readAllLines(shards.resolve("pairs." + i + "-of-3.csv"));
            rows.addAll(l.subList(1, l.size()));
        }
        rows.sort(null);
        List<String> all = Files.readAllLines(full.resolve("pairs.csv"));
        assertEquals(all.subList(1, all.size()), rows);
    }

    @Test
    void replayRegeneratesExactly() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertEquals(0, small(a, "--jpeg", "imageio"));
        assertEquals(0, run("--replay", a.resolve("pairs.csv").toString(), "-o", b.toString()), err);
        assertEquals(pairFiles(a), pairFiles(b));
        assertSameFiles(a, b, pairFiles(a).toArray(String[]::new));
        assertSameFiles(a, b, "pairs.csv");
    }

    @Test
    void resumesWithoutRedoingFinishedPairs() throws IOException {
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertEquals(0, small(a));
        assertEquals(0, small(b));
        // simulate an interruption after two pairs: the CSV is not there yet, the journal lists pairs 0 and 2
        List<String> csv = Files.readAllLines(b.resolve("pairs.csv"));
        Files.delete(b.resolve("pairs.csv"));
        Files.write(b.resolve(".pairs.csv.partial"), List.of(csv.get(1), csv.get(3), csv.get(4).substring(0, 40)));
        Files.delete(b.resolve("lr/000003.png"));
        Files.delete(b.resolve("hr/000001.png"));
        Files.writeString(b.resolve("lr/.000001.png.0123abcd.tmp"), "partial");
        long before = Files.getLastModifiedTime(b.resolve("hr/000000.png")).toMillis();
        assertEquals(0, small(b));
        assertTrue(err.contains("2 pairs made, 2 already done"), err);
        assertEquals(before, Files.getLastModifiedTime(b.resolve("hr/000000.png")).toMillis());
        assertEquals(files(a), files(b));
        assertSameFiles(a, b, files(a).toArray(String[]::new));
        // a finished run: nothing to do
        assertEquals(0, small(b));
        assertTrue(err.contains("0 pairs made, 4 already done"), err);
    }

    @Test
    void refusesADirectoryOfAnotherRun() throws IOException {
        Path a = dir.resolve("a");
        assertEquals(0, small(a));
        assertEquals(3, small(a, "--set", "sinc_prob=0.5"));
        assertTrue(err.startsWith("adcsr-degrade: " + a + ": holds pairs made with other settings"), err);
        assertEquals(1, err.lines().count(), err);
        assertEquals(0, small(a, "--set", "sinc_prob=0.5", "--force"));
    }

    @Test
    void badRangesAreOneLineErrorsAndWriteNothing() {
        Path o = dir.resolve("never");
        assertEquals(3, small(o, "--set", "blur_sigma=[2, 1]"));
        assertEquals("adcsr-degrade: blur_sigma: low end 2 is above high end 1\n", err);
        assertEquals(3, small(o, "--set", "kernel_prob=[0.5,0.5,0.5,0,0,0]"));
        assertTrue(err.startsWith("adcsr-degrade: kernel_prob: probabilities must sum to 1"), err);
        assertEquals(3, small(o, "--set", "resize_prob2=0.3,0.4"));
        assertTrue(err.contains("resize_prob2 takes 3 values"), err);
        assertEquals(3, small(o, "--set", "no_such=1"));
        assertTrue(err.contains("unknown parameter 'no_such'"), err);
        assertEquals(3, run("--gt-size", "30", "-o", o.toString(), photo.toString()));
        assertEquals("adcsr-degrade: gt_size must be a multiple of 4 from 44 to 16384, got 30\n", err);
        assertEquals(2, small(o, "--shard", "4/3"));
        assertEquals(2, small(o, "--jpeg", "gif"));
        assertFalse(Files.exists(o));
    }

    @Test
    void unreadableImagesAreReportedAndTheRestIsMade() throws IOException {
        Path bad = dir.resolve("bad.png");
        Files.writeString(bad, "not an image");
        Path o = dir.resolve("o");
        assertEquals(3, small(o, bad.toString()));
        assertTrue(err.contains("adcsr-degrade: " + bad + ": "), err);
        assertEquals(8, pairFiles(o).size());
        assertEquals(5, Files.readAllLines(o.resolve("pairs.csv")).size());
        assertEquals(3, run("-o", o.toString(), dir.resolve("missing.png").toString()));
        assertEquals("adcsr-degrade: " + dir.resolve("missing.png") + ": no such file\n", err);
    }

    @Test
    void smallImagesArePaddedWithAWarning() throws IOException {
        Path o = dir.resolve("o");
        assertEquals(0, run("--preset", "realesrgan", "-o", o.toString(), photo.toString()), err);
        assertTrue(err.contains("160x140 is smaller than the 400 px crop; padded bottom/right by reflection"), err);
        assertEquals(256, Images.read(o.resolve("hr/000000.png")).width());
        assertEquals(64, Images.read(o.resolve("lr/000000.png")).width());
    }

    @Test
    void printConfigIsTheConfigFileForm() throws IOException {
        assertEquals(0, run("--preset", "realesrgan", "--set", "jpeg_range=[40,90]", "--print-config"));
        assertTrue(out.contains("crop_pad_size: 400\n") && out.contains("jpeg_range: [40, 90]\n"), out);
        Path cfg = dir.resolve("cfg.yml");
        Files.writeString(cfg, out);
        assertEquals(0, run("--config", cfg.toString(), "--print-config"));
        assertTrue(out.contains("crop_pad_size: 400\n") && out.contains("jpeg_range: [40, 90]\n"), out);
    }

    @Test
    void batchSizeSharesThePerBatchDraws() throws IOException {
        Path o = dir.resolve("o");
        assertEquals(0, run("--gt-size", "96", "--pairs-per-image", "8", "--batch-size", "4", "-o", o.toString(),
                photo.toString()), err);
        List<String> rows = Files.readAllLines(o.resolve("pairs.csv"));
        List<String> header = List.of(rows.get(0).split(","));
        String[] shared = {"resize1_type", "resize1_scale", "resize1_mode", "noise1_kind", "second_blur",
            "resize2_type", "resize2_scale", "resize2_mode", "noise2_kind", "final_order", "final_resize_mode"};
        for (String col : shared) {
            int c = header.indexOf(col);
            for (int i = 2; i <= 8; i++) {
                String want = rows.get(i <= 4 ? 1 : 5).split(",")[c];
                assertEquals(want, rows.get(i).split(",")[c], col + " of pair " + (i - 1));
            }
        }
        int q = header.indexOf("jpeg1_quality");
        assertFalse(rows.get(1).split(",")[q].equals(rows.get(2).split(",")[q]));
        assertTrue(Files.readString(o.resolve("pairs.settings")).contains("# batch size: 4"));
    }

    @Test
    void listFilesAndBadReplayCsv() throws IOException {
        Path list = dir.resolve("list.txt");
        Files.write(list, List.of("# sources", photo.toString(), "", photo.toString()));
        Path o = dir.resolve("o");
        assertEquals(0, run("--gt-size", "96", "--list", list.toString(), "-o", o.toString()), err);
        assertEquals(4, pairFiles(o).size());
        List<String> rows = Files.readAllLines(o.resolve("pairs.csv"));
        Path bad = dir.resolve("bad.csv");
        Files.write(bad, List.of(rows.get(0), rows.get(1).replace(",bicubic,", ",nearest,").replace(",area,",
                ",nearest,").replace(",bilinear,", ",nearest,")));
        assertEquals(3, run("--replay", bad.toString(), "-o", dir.resolve("r").toString()));
        assertTrue(err.startsWith("adcsr-degrade: " + bad + ": line 2: resize1_mode: unknown resize mode 'nearest'"),
                err);
        Files.write(bad, List.of("id,hr_path", "x,hr/x.png"));
        assertEquals(3, run("--replay", bad.toString(), "-o", dir.resolve("r").toString()));
        assertTrue(err.contains("missing column lr_path"), err);
        assertEquals(2, run("--replay", bad.toString(), "-o", dir.resolve("r").toString(), photo.toString()));
    }
}
