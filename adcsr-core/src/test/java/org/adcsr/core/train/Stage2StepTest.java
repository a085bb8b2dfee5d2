package org.adcsr.core.train;

import static org.adcsr.core.FixtureMath.doubles;
import static org.adcsr.core.FixtureMath.of;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.engine.GcStorm;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrNetwork;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.LoraOps;
import org.adcsr.core.model.ShapeOps;
import org.adcsr.core.model.VaeEncoder;
import org.adcsr.core.sd.SdConfig;
import org.junit.jupiter.api.Test;

/**
 * One Stage-2 iteration ({@link Stage2#iteration}: the student's G step, then D's step) equals train.py's, written
 * independently in PyTorch ({@code tools/fixtures/make_stage2_step_fixture.py}), in float64: the loss terms, every
 * student gradient, every D gradient (LoRA and conv_in), and every trainable parameter after both Adam steps.
 */
class Stage2StepTest {
    static final AdcsrConfig MINI = AdcsrConfig.fromJson("{\"name\":\"mini\",\"unet_in_channels\":12,"
            + "\"unet_block_out_channels\":[8,8,8,8],\"unet_heads\":[2,2,2,2],\"unet_layers_per_block\":1,"
            + "\"unet_down_attention\":[true,true,true,false],\"connector_out_channels\":8,"
            + "\"decoder_block_out_channels\":[8,8,8,8],\"decoder_layers_per_block\":1,\"decoder_norm_groups\":4}");
    static final VaeEncoder.Config ENCODER = new VaeEncoder.Config(new int[] {8, 8, 16, 16}, 1, 4, 4);
    static final SdConfig DISC = new SdConfig("tiny", new int[] {8, 16, 16}, new int[] {2, 2, 4}, 2,
            new boolean[] {true, true, false}, 12, 4, new int[] {8, 16, 16}, 2, 4, 4);

    private static NDArray f64(NDManager m, SafetensorsReader r, String key) {
        return m.create(r.readFloats(key), new Shape(r.info(key).shape())).toType(DataType.FLOAT64, false);
    }


    /** max |want − got| ≤ tol · max(largest |want|, floor). */
    private static void assertClose(double[] want, double[] got, double tol, double floor, String what) {
        assertEquals(want.length, got.length, what);
        double scale = floor;
        for (double v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tol * scale,
                    what + "[" + i + "]: " + got[i] + " vs PyTorch " + want[i] + " (scale " + scale + ")");
        }
    }


    @Test
    void oneIterationEqualsTrainPy() {
        oneIteration(false);
    }

    /** The same with a garbage collection before each backward pass, as a long run meets them now and then. */
    @Test
    void oneIterationEqualsTrainPyThroughGarbageCollections() {
        oneIteration(true);
    }

    private static void oneIteration(boolean storms) {
        try (SafetensorsReader r = SafetensorsReader.open(
                Paths.get("src/test/resources/fixtures/train/stage2_step.safetensors"));
                NDManager m = NDManager.newBaseManager();
                ParameterStore store = new ParameterStore(m)) {
            ShapeOps s = new ShapeOps();
            AdcsrNetwork.student(s, MINI, new long[] {1, 3, 16, 16});
            for (TensorInfo t : s.parameters()) {
                store.add(t.name(), f64(m, r, t.name()), true);
            }
            List<String> student = new ArrayList<>(store.trainable());
            Map<String, NDArray> frozen = new HashMap<>();
            Map<String, NDArray> discBase = new HashMap<>();
            for (String k : r.names()) {
                if (k.startsWith("encoder.") || k.startsWith("quant_conv.") || k.startsWith("post_quant_conv.")) {
                    frozen.put(k, f64(m, r, k));
                } else if (k.startsWith("frozen.decoder.")) {
                    frozen.put(k.substring("frozen.".length()), f64(m, r, k));
                } else if (k.startsWith("disc.")) {
                    String name = k.substring("disc.".length());
                    if (name.contains("lora") || name.contains("conv_in")) {
                        store.add(k, f64(m, r, k), true);
                    } else {
                        discBase.put(name, f64(m, r, k));
                    }
                }
            }
            List<String> disc = new ArrayList<>(store.trainable());
            disc.removeAll(student);
            DjlOps discEngine = new DjlOps(name -> store.all().containsKey("disc." + name)
                    ? store.get("disc." + name) : discBase.get(name));
            Stage2.Nets nets = new Stage2.Nets(MINI, ENCODER, new DjlOps(frozen), new DjlOps(store.all()), DISC,
                    new LoraOps<>(discEngine, LoraOps.officialAdapters(2, 8), true));
            Adam.Settings torch = new Adam.Settings(0.9, 0.999, 1e-8, 0, false);
            Adam optG = new Adam("student", torch, store, student);
            Adam optD = new Adam("disc", torch, store, disc);

            NDArray hr = f64(m, r, "hr");
            NDArray fGt = Stage2.groundTruthFeatures(nets, hr);
            Stage2.Terms t;
            Autograd.beforeBackward(storms ? () -> GcStorm.between(m) : null);
            try {
                t = Stage2.iteration(nets, store, optG, optD, 1e-3, 1e-3, f64(m, r, "lr"), fGt, fGt,
                        f64(m, r, "context"), 1.0, null, 0, 0, 1, (step, names, values, params) -> true);
            } finally {
                Autograd.beforeBackward(null);
            }

            double[] want = doubles(r, "terms");
            double[] got = {t.distil(), t.adv(), t.loss(), t.d(), t.logitsReal(), t.logitsFake()};
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-9 * Math.max(1, Math.abs(want[i])), "term " + i);
            }
            double global = 0;
            for (String name : store.trainable()) {
                for (double v : doubles(r, "grad." + name)) {
                    global = Math.max(global, Math.abs(v));
                }
            }
            for (String name : store.trainable()) {
                double[] g = doubles(r, "grad." + name);
                assertClose(g, store.gradient(name).toDoubleArray(), 1e-7, 1e-6 * global, "grad " + name);
                double[] after = of(r.readFloats("step." + name));
                double[] gotAfter = store.get(name).toDoubleArray();
                for (int i = 0; i < g.length; i++) {
                    if (Math.abs(g[i]) < 1e-9 * global) {
                        // zero in exact arithmetic (a bias before a one-channel GroupNorm): Adam's first step is
                        // ±lr by the sign of rounding noise, in PyTorch as here
                        after[i] = gotAfter[i];
                    }
                }
                assertClose(after, gotAfter, 1e-6, 0, "after " + name);
            }
            assertEquals(student.size() + disc.size(), store.trainable().size());
            assertTrue(disc.size() > 50, "D trains LoRA and conv_in: " + disc.size());
        }
    }
}
