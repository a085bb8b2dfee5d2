package org.adcsr.core.train;

import static org.adcsr.core.FixtureMath.doubles;
import static org.adcsr.core.FixtureMath.relative;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.upscale.Resample;
import org.junit.jupiter.api.Test;

/**
 * The OSEDiff teacher's features equal train.py's, written independently in PyTorch
 * ({@code tools/fixtures/make_osediff_teacher_fixture.py}: bicubic ×4, the VAE's posterior mean scaled, the UNet at
 * t = 999, x0 from ε, post_quant_conv, the frozen decoder's conv_in and mid block), read from an osediff.pkl-shaped
 * pickle; torch's bicubic and ᾱ₉₉₉ on their own.
 */
class OsediffTeacherTest {
    static final Path DIR = Paths.get("src/test/resources/fixtures/stage2");
    /** The fixture's teacher: make_sd_unet_fixture.py's TINY UNet with a 4-level VAE (8, 8, 16, 16; 1 layer). */
    static final SdConfig TEACHER = new SdConfig("tiny teacher", new int[] {8, 16, 16}, new int[] {2, 2, 4}, 2,
            new boolean[] {true, true, false}, 12, 4, new int[] {8, 8, 16, 16}, 1, 4, 4);



    @Test
    void alphaBar999IsSdsSchedule() {
        assertEquals(0.004660098513077241, OsediffTeacher.ALPHA_BAR_999, 1e-15);
    }

    @Test
    void bicubicIsTorchs() {
        try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("bicubic_torch.safetensors"))) {
            float[] x = r.readFloats("x");
            double[] y = doubles(r, "y");
            float[] got = new float[y.length];
            for (int p = 0; p < 6; p++) {
                float[] plane = java.util.Arrays.copyOfRange(x, p * 35, (p + 1) * 35);
                System.arraycopy(Resample.bicubicTorch(plane, 7, 5, 28, 20), 0, got, p * 560, 560);
            }
            assertTrue(relative(y, got) < 1e-6, "bicubic: " + relative(y, got));
        }
    }

    @Test
    void featuresEqualTrainPy() {
        try (SafetensorsReader r = SafetensorsReader.open(DIR.resolve("teacher_mini.safetensors"));
                NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> frozen = new HashMap<>();
            for (String k : r.names()) {
                if (k.startsWith("decoder.")) {
                    frozen.put(k, m.create(r.readFloats(k), new Shape(r.info(k).shape())));
                }
            }
            Stage2.Nets nets = new Stage2.Nets(Stage2StepTest.MINI, null, new DjlOps(frozen::get), null, TEACHER,
                    null);
            OsediffTeacher teacher = OsediffTeacher.open(DIR.resolve("osediff_mini.pkl"), TEACHER, m);
            NDArray ctx = m.create(r.readFloats("context"), new Shape(2, 7, 12));
            float[] f = teacher.features(nets, r.readFloats("lr"), new Shape(2, 3, 16, 16), ctx).toFloatArray();
            double err = relative(doubles(r, "features"), f);
            assertTrue(err < 1e-4, "teacher features: " + err);
        }
    }
}
