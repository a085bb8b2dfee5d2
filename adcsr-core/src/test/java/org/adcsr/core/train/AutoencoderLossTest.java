package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.adcsr.core.Rng;
import org.adcsr.core.engine.Convolution;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.nets.GeneratedWeights;
import org.adcsr.core.nets.Lpips;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One Stage-1 training step equals LDM's (fixture: {@code tools/fixtures/make_ldm_loss_fixture.py}, PyTorch 1.13),
 * without a perceptual term and with LDM's LPIPS-VGG (generated weights):
 * every loss term, the adaptive weight, all gradients of the autoencoder and the discriminator, BatchNorm's running
 * statistics after each step, and the parameters after one Adam step of each optimizer.
 */
class AutoencoderLossTest {
    static final Path HEADS = Paths.get("src/test/resources/fixtures/lpips/lin_heads_vgg.pth");
    static final String[] AE = {"encoder.conv.weight", "encoder.conv.bias", "decoder.conv_in.weight",
        "decoder.conv_in.bias", "decoder.conv_out.weight", "decoder.conv_out.bias"};

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void oneStepEqualsLdm(boolean withLpips) {
        Path fixture = Paths.get("src/test/resources/fixtures/train/ldm_step" + (withLpips ? "_lpips" : "")
                + ".safetensors");
        try (SafetensorsReader ref = SafetensorsReader.open(fixture);
                NDManager m = NDManager.newBaseManager();
                TorchCheckpoint heads = TorchCheckpoint.open(HEADS);
                Lpips lpips = Lpips.load(Lpips.Backbone.VGG, m, GeneratedWeights.lpipsBackbone(Lpips.Backbone.VGG),
                        heads.tensors());
                ParameterStore store = new ParameterStore(m)) {
            for (String name : AE) {
                store.add(name, m.create(ref.readFloats(name), new Shape(ref.info(name).shape())), true);
            }
            PatchDiscriminator disc = new PatchDiscriminator("disc", 4, 3, store, new Rng(1));
            for (String name : store.all().keySet()) {
                if (name.startsWith("disc.")) {
                    store.get(name).set(ref.readFloats(name)); // the fixture's initialisation
                }
            }
            // LDM's LPIPS takes images in [−1, 1]; ours takes [0, 1] and maps them back to [−1, 1] first
            AutoencoderLoss.Perceptual perceptual = (a, b) -> lpips.forward(a.add(1).div(2), b.add(1).div(2));
            AutoencoderLoss loss = new AutoencoderLoss(new AutoencoderLoss.Settings(withLpips ? 1 : 0, 1e-3, 0.5, 1.0,
                    0), withLpips ? perceptual : null, disc);
            List<String> aeParams = List.of(AE);
            Adam optAe = new Adam("ae", Adam.Settings.ldm(), store, aeParams);
            Adam optD = new Adam("disc", Adam.Settings.ldm(), store, disc.parameters());
            NDArray x = m.create(ref.readFloats("x"), new Shape(2, 3, 32, 32));

            NDArray[] xhat = new NDArray[1];
            AutoencoderLoss.Terms t;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray moments = Convolution.conv2d(x, store.get(AE[0]), store.get(AE[1]), 1, 1);
                NDList halves = moments.split(2, 1);
                NDArray mean = halves.get(0);
                NDArray logvar = halves.get(1).clip(-30, 20);
                NDArray kl = mean.square().add(logvar.exp()).sub(1).sub(logvar).sum(new int[] {1, 2, 3}).mul(0.5);
                NDArray h = Convolution.conv2d(mean, store.get(AE[2]), store.get(AE[3]), 1, 1);
                h = h.mul(Activation.sigmoid(h));
                t = loss.generatorStep(x, h, store.get(AE[4]), store.get(AE[5]), kl, 0, xhat);
            }
            float[] terms = ref.readFloats("terms.g");
            double[] got = {t.rec(), t.nll(), t.kl(), t.g(), t.discWeight(), t.discFactor(), t.total()};
            String[] names = {"rec", "nll", "kl", "g", "d_weight", "disc_factor", "loss"};
            for (int i = 0; i < names.length; i++) {
                assertEquals(terms[i], got[i], 1e-5 * Math.max(1, Math.abs(terms[i])), names[i]);
            }
            for (String name : AE) {
                assertClose(ref.readFloats("grad." + name), store.gradient(name).toFloatArray(), "grad " + name);
            }
            for (String name : store.buffers()) {
                assertClose(ref.readFloats("after_g." + name), store.get(name).toFloatArray(), name + " after G");
            }
            optAe.step(1e-3);
            for (String name : AE) {
                assertAfterFirstStep(ref.readFloats("grad." + name), ref.readFloats("step." + name),
                        store.get(name).toFloatArray(), 1e-3, "Adam step " + name);
            }

            for (String name : disc.parameters()) { // Lightning's toggle: the generator's step leaves D no gradient
                Gradients.zero(store.get(name));
            }
            double[] d;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                d = loss.discriminatorStep(x, xhat[0], 0);
            }
            float[] dTerms = ref.readFloats("terms.d");
            for (int i = 0; i < 3; i++) {
                assertEquals(dTerms[i], d[i], 1e-5 * Math.max(1, Math.abs(dTerms[i])), "d term " + i);
            }
            for (String name : disc.parameters()) {
                assertClose(ref.readFloats("grad." + name), store.gradient(name).toFloatArray(), "grad " + name);
            }
            optD.step(1e-3);
            for (String name : store.all().keySet()) {
                if (name.startsWith("disc.") && disc.parameters().contains(name)) {
                    assertAfterFirstStep(ref.readFloats("grad." + name), ref.readFloats("step." + name),
                            store.get(name).toFloatArray(), 1e-3, "after D " + name);
                } else if (name.startsWith("disc.")) {
                    assertClose(ref.readFloats("step." + name), store.get(name).toFloatArray(), "after D " + name);
                }
            }
            assertTrue(t.discWeight() > 0 && t.g() != 0, "the adversarial term is active");
        }
    }

    /**
     * Parameters after a first Adam step ({@code p − lr·g/(|g| + eps)} with both moments bias-corrected) within 1e-5 of
     * the largest magnitude, widened by what the gradients' own 1e-5 agreement allows through that step: its
     * derivative {@code lr·eps/(|g| + eps)²} is about 7e4·lr where |g| ≈ 4e-7, so two float32 sums of one near-zero
     * gradient element (one of them PyTorch's, in another summation order) may differ there by a visible amount
     * while every gradient agrees to 1e-5 of its scale.
     */
    static void assertAfterFirstStep(float[] gradient, float[] want, float[] got, double lr, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 1e-12;
        double gScale = 1e-12;
        for (int i = 0; i < want.length; i++) {
            scale = Math.max(scale, Math.abs(want[i]));
            gScale = Math.max(gScale, Math.abs(gradient[i]));
        }
        double eps = Adam.Settings.ldm().eps();
        for (int i = 0; i < want.length; i++) {
            double a = Math.abs(gradient[i]) + eps;
            double allowed = 1e-5 * scale + Math.min(2 * lr, lr * 1e-5 * gScale * eps / (a * a));
            assertTrue(Math.abs(want[i] - got[i]) <= allowed,
                    what + "[" + i + "]: " + got[i] + " vs PyTorch " + want[i] + " (gradient " + gradient[i]
                            + ", allowed " + allowed + ")");
        }
    }

    /** Within 1e-5 of the largest magnitude of the reference (gradients mix signs, so per-element relative is meaningless). */
    static void assertClose(float[] want, float[] got, String what) {
        assertClose(want, got, 1e-5, 1e-12, what);
    }

    /** max |want − got| ≤ tol · max(largest |want|, floor). */
    static void assertClose(float[] want, float[] got, double tol, double floor, String what) {
        assertEquals(want.length, got.length, what);
        double scale = floor;
        for (float v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(want[i] - got[i]) <= tol * scale,
                    what + "[" + i + "]: " + got[i] + " vs PyTorch " + want[i] + " (scale " + scale + ")");
        }
    }
}
