package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import org.adcsr.core.Rng;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.engine.GcStorm;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.DjlOps;
import org.adcsr.core.model.VaeEncoder;
import org.junit.jupiter.api.Test;

/**
 * The Stage-1 pieces put together on a tiny config, batch 2, encoder trained jointly: the parameter list is the
 * encoder's, post_quant_conv and the whole decoder's; training steps on a fixed batch lower the reconstruction error
 * (the whole chain — posterior, decoder features, loss, adaptive weight, backward, Adam — learns).
 */
class Stage1Test {
    static final VaeEncoder.Config ENCODER = new VaeEncoder.Config(new int[] {8, 8, 16, 16}, 1, 4, 4);

    @Test
    void parametersAreTheEncoderPostQuantConvAndTheDecoder() {
        List<TensorInfo> p = Stage1.parameters(ENCODER, AdcsrConfig.tiny());
        assertEquals("encoder.conv_in.weight", p.get(0).name());
        assertTrue(p.stream().anyMatch(t -> t.name().equals("quant_conv.weight")));
        assertTrue(p.stream().anyMatch(t -> t.name().equals("post_quant_conv.weight")));
        assertTrue(p.stream().anyMatch(t -> t.name().equals("decoder.conv_in.weight")
                && t.shapeString().equals("[16, 4, 3, 3]")));
        assertEquals("decoder.conv_out.bias", p.get(p.size() - 1).name());
    }

    /**
     * One whole step of adcsr-train-vae's Stage 1 on the tiny config (KL encoder, post_quant_conv, the tiny AdcSR
     * decoder from conv_in, LDM's loss on the posterior mean with the adversarial term on, both Adam steps) equals
     * PyTorch 1.13 ({@code tools/fixtures/make_stage1_step_fixture.py}): terms, every gradient, every parameter after
     * the steps and the running statistics. Gradients are compared relative to their tensor's largest, with a floor
     * of 1e-3 of the model's largest (to_k's bias has a zero gradient in exact arithmetic).
     */
    @Test
    void oneWholeStepEqualsPyTorch() {
        oneWholeStep(false);
    }

    /** The same with a garbage collection before each backward pass, as a long run meets them now and then. */
    @Test
    void oneWholeStepEqualsPyTorchThroughGarbageCollections() {
        oneWholeStep(true);
    }

    private static void oneWholeStep(boolean storms) {
        try (SafetensorsReader ref = SafetensorsReader.open(
                java.nio.file.Paths.get("src/test/resources/fixtures/train/stage1_step.safetensors"));
                NDManager m = NDManager.newBaseManager();
                ParameterStore store = new ParameterStore(m)) {
            AdcsrConfig decoder = AdcsrConfig.tiny();
            for (TensorInfo t : Stage1.parameters(ENCODER, decoder)) {
                store.add(t.name(), m.create(ref.readFloats(t.name()), new Shape(t.shape())), true);
            }
            List<String> ae = new ArrayList<>(store.trainable());
            PatchDiscriminator disc = new PatchDiscriminator("disc", 4, 2, store, new Rng(1));
            for (String name : store.all().keySet()) {
                if (name.startsWith("disc.")) {
                    store.get(name).set(ref.readFloats(name));
                }
            }
            AutoencoderLoss loss = new AutoencoderLoss(new AutoencoderLoss.Settings(0, 1e-3, 0.5, 1.0, 0), null,
                    disc);
            Autograd.beforeBackward(storms ? () -> GcStorm.between(m) : null);
            Adam optAe = new Adam("ae", Adam.Settings.ldm(), store, ae);
            Adam optD = new Adam("disc", Adam.Settings.ldm(), store, disc.parameters());
            NDArray x = m.create(ref.readFloats("x"), new Shape(2, 3, 32, 32));
            DjlOps o = new DjlOps(store.all());
            NDArray[] xhat = new NDArray[1];
            AutoencoderLoss.Terms t;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Stage1.Posterior post = Stage1.posterior(VaeEncoder.forward(o, ENCODER, x), false, null);
                NDArray h = Stage1.decoderFeatures(o, decoder, ENCODER.latentChannels(), post.z());
                t = loss.generatorStep(x, h, store.get("decoder.conv_out.weight"), store.get("decoder.conv_out.bias"),
                        post.kl(), 0, xhat);
            }
            float[] terms = ref.readFloats("terms.g");
            double[] got = {t.rec(), t.nll(), t.kl(), t.g(), t.discWeight(), t.discFactor(), t.total()};
            for (int i = 0; i < got.length; i++) {
                assertEquals(terms[i], got[i], 1e-4 * Math.max(1, Math.abs(terms[i])), "term " + i);
            }
            double global = 0;
            for (String name : ae) {
                for (float v : ref.readFloats("grad." + name)) {
                    global = Math.max(global, Math.abs(v));
                }
            }
            for (String name : ae) {
                AutoencoderLossTest.assertClose(ref.readFloats("grad." + name), store.gradient(name).toFloatArray(),
                        1e-4, 1e-3 * global, "grad " + name);
            }
            optAe.step(1e-3);
            for (String name : disc.parameters()) {
                Gradients.zero(store.get(name));
            }
            double[] d;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                d = loss.discriminatorStep(x, xhat[0], 0);
            }
            float[] dTerms = ref.readFloats("terms.d");
            for (int i = 0; i < 3; i++) {
                assertEquals(dTerms[i], d[i], 1e-4 * Math.max(1, Math.abs(dTerms[i])), "d term " + i);
            }
            for (String name : disc.parameters()) {
                AutoencoderLossTest.assertClose(ref.readFloats("grad." + name), store.gradient(name).toFloatArray(),
                        1e-4, 0, "grad " + name);
            }
            optD.step(1e-3);
            for (String name : store.all().keySet()) {
                if (name.endsWith("attentions.0.to_k.bias")) {
                    // its gradient is zero in exact arithmetic (softmax ignores a constant added to every key), so
                    // Adam's first step is ±lr by the sign of rounding noise, in PyTorch as here
                    continue;
                }
                AutoencoderLossTest.assertClose(ref.readFloats("step." + name), store.get(name).toFloatArray(),
                        1e-4, 0, "after: " + name);
            }
        } finally {
            Autograd.beforeBackward(null);
        }
    }

    @Test
    void trainingStepsLowerTheReconstructionError() {
        AdcsrConfig decoder = AdcsrConfig.tiny();
        try (NDManager m = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(m)) {
            Rng rng = new Rng(3);
            Stage1.initialise(store, Stage1.parameters(ENCODER, decoder), rng, true);
            List<String> ae = new ArrayList<>(store.trainable());
            PatchDiscriminator disc = new PatchDiscriminator("disc", 4, 2, store, rng);
            AutoencoderLoss loss = new AutoencoderLoss(new AutoencoderLoss.Settings(0, 1e-6, 0.5, 1.0, 1_000_000),
                    null, disc);
            Adam opt = new Adam("ae", new Adam.Settings(0.5, 0.9, 1e-8, 0, false), store, ae);
            float[] img = new float[2 * 3 * 32 * 32];
            for (int i = 0; i < img.length; i++) {
                int x = i % 32;
                int y = (i / 32) % 32;
                int c = (i / 1024) % 3;
                img[i] = (float) (0.6 * Math.sin(0.2 * x + c) * Math.cos(0.15 * y - (i / 3072)));
            }
            NDArray x = m.create(img, new Shape(2, 3, 32, 32));
            DjlOps o = new DjlOps(store.all());
            double first = 0;
            double last = 0;
            for (int step = 0; step < 30; step++) {
                if (step > 0) {
                    store.zeroGradients();
                }
                AutoencoderLoss.Terms t;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray moments = VaeEncoder.forward(o, ENCODER, x);
                    Stage1.Posterior post = Stage1.posterior(moments, true, rng);
                    NDArray h = Stage1.decoderFeatures(o, decoder, ENCODER.latentChannels(), post.z());
                    t = loss.generatorStep(x, h, store.get("decoder.conv_out.weight"),
                            store.get("decoder.conv_out.bias"), post.kl(), step, new NDArray[1]);
                }
                TrainingDivergedException.check(step + 1, new String[] {"rec", "kl"}, new double[] {t.rec(), t.kl()},
                        store);
                opt.step(3e-3);
                first = step == 0 ? t.rec() : first;
                last = t.rec();
            }
            assertTrue(last < 0.7 * first, "L1 " + first + " -> " + last);
        }
    }
}
