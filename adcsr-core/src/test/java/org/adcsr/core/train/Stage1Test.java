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
