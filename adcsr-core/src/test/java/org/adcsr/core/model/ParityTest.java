package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.RenamedTensorSource;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.upscale.ColorCorrection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Java network, loaded from the official file layouts, against the independent plain-PyTorch reference
 * ({@code tools/fixtures/make_parity_fixture.py}, random tiny-config weights, expected values computed in float64
 * and stored as float32). Run in float64 the Java network must match within 1e-4 (it does within about 1e-6);
 * run in float32, within 3e-4, since the reference's own float32 forward differs from its float64 one by up to
 * 1.3e-4 on outputs whose tails reach ±8.
 */
class ParityTest {
    private static final double TOLERANCE = 1e-5;
    private static final double FLOAT32_TOLERANCE = 3e-4;
    private static Path dir;
    private static NDManager manager;
    private static TorchCheckpoint net;
    private static TorchCheckpoint decoder;
    private static TorchCheckpoint expected;
    private static AdcsrModel model;
    private static AdcsrModel model32;

    @BeforeAll
    static void load() throws URISyntaxException {
        dir = Paths.get(ParityTest.class.getResource("/fixtures/parity/config_tiny.json").toURI()).getParent();
        manager = NDManager.newBaseManager();
        net = TorchCheckpoint.open(dir.resolve("net_params_tiny.pkl"));
        decoder = TorchCheckpoint.open(dir.resolve("halfDecoder_tiny.ckpt"), PicklePolicy.allowingUnknownClasses());
        expected = TorchCheckpoint.open(dir.resolve("expected_tiny.pt"));
        RenamedTensorSource view = OfficialLayout.view(net.tensors(), decoder.tensors(), net::sameView);
        model = AdcsrModel.load(AdcsrConfig.tiny(), view, OfficialLayout.IGNORABLE, manager, DataType.FLOAT64);
        model32 = AdcsrModel.load(AdcsrConfig.tiny(), view, OfficialLayout.IGNORABLE, manager, DataType.FLOAT32);
    }

    @AfterAll
    static void close() {
        model.close();
        model32.close();
        net.close();
        decoder.close();
        expected.close();
        manager.close();
    }

    @Test
    void configFilesAreTheJavaConfigs() throws IOException {
        assertEquals(AdcsrConfig.tiny(), AdcsrConfig.fromJson(Files.readString(dir.resolve("config_tiny.json"))));
        assertEquals(AdcsrConfig.paper(), AdcsrConfig.fromJson(Files.readString(dir.resolve("config_full.json"))));
    }

    @Test
    void squareInputMatchesTheReference() {
        check("a");
    }

    @Test
    void nonSquareBatchMatchesTheReference() {
        check("b");
    }

    @Test
    void float32ForwardStaysWithinTheReferenceNoise() {
        TensorSource e = expected.tensors();
        for (String k : new String[] {"a", "b"}) {
            try (NDScope scope = new NDScope()) {
                NDArray lr = array(e, k + ".lr").mul(2).sub(1);
                assertClose(e, k + ".y_raw", model32.forward(lr), FLOAT32_TOLERANCE);
            }
        }
    }

    private void check(String k) {
        TensorSource e = expected.tensors();
        try (NDScope scope = new NDScope()) {
            NDArray lr01 = array(e, k + ".lr").toType(DataType.FLOAT64, false);
            NDArray lr = lr01.mul(2).sub(1);
            DjlOps o = model.ops();
            NDArray connector = AdcsrNetwork.unet(o, model.config(), o.pixelUnshuffle2(lr));
            assertClose(e, k + ".f_student", connector);
            NDArray mid = AdcsrNetwork.decoderMid(o, model.config(), connector);
            assertClose(e, k + ".dec_mid", mid);
            NDArray y = model.forward(lr);
            assertClose(e, k + ".y_raw", y);
            float[] fixed = adain(y, lr);
            assertClose(e, k + ".y_fixed", manager.create(fixed, y.getShape()));

            int[] u8 = toUint8(fixed);
            float[] want = e.readFloats(k + ".y_u8");
            int off = 0;
            for (int i = 0; i < u8.length; i++) {
                int d = Math.abs(u8[i] - (int) want[i]);
                assertTrue(d <= 1, k + ".y_u8 differs by " + d + " at " + i);
                off += d;
            }
            // the reference's own float32-vs-float64 noise flips about 0.05 % of the 8-bit values by one
            assertTrue(off <= u8.length / 500, k + ".y_u8: " + off + " of " + u8.length + " values off by one");
        }
    }

    @Test
    void wrongMidBlockIsDetected() {
        // Taking the decoder mid block from halfDecoder.ckpt instead of net_params must not pass parity.
        RenamedTensorSource view = OfficialLayout.view(net.tensors(), decoder.tensors(), net::sameView);
        TensorSource d = decoder.tensors();
        for (String name : d.names()) {
            if (name.startsWith("state_dict.decoder.mid_block.")) {
                view.put(name.substring("state_dict.".length()), d, name);
            }
        }
        try (AdcsrModel wrong = AdcsrModel.load(AdcsrConfig.tiny(), view, OfficialLayout.IGNORABLE, manager,
                DataType.FLOAT32); NDScope scope = new NDScope()) {
            NDArray lr = array(expected.tensors(), "a.lr").mul(2).sub(1);
            NDArray want = array(expected.tensors(), "a.y_raw");
            assertTrue(wrong.forward(lr).sub(want).abs().max().getFloat() > 100 * TOLERANCE);
        }
    }

    @Test
    void aConfigThatDoesNotFitIsReportedByName() {
        AdcsrConfig other = new AdcsrConfig("other", 12, new int[] {8, 16, 32, 32}, new int[] {2, 2, 4, 4}, 2,
                new boolean[] {true, true, false, false}, 16, new int[] {8, 8, 16, 16}, 2, 4);
        RenamedTensorSource view = OfficialLayout.view(net.tensors(), decoder.tensors(), net::sameView);
        BadInputException x = assertThrows(BadInputException.class,
                () -> AdcsrModel.load(other, view, OfficialLayout.IGNORABLE, manager, DataType.FLOAT32));
        assertTrue(x.getMessage().contains("unexpected keys: unet.down_blocks.2.attentions.0.norm.weight"),
                x.getMessage());
        assertTrue(x.getMessage().startsWith(dir.resolve("net_params_tiny.pkl").toString()), x.getMessage());
    }

    /** The upscaler's colour fix ({@link ColorCorrection#ADAIN}) image by image: {@code [B, 3, H', W']} planes. */
    private static float[] adain(NDArray sr, NDArray lr) {
        long[] s = sr.getShape().getShape();
        long[] l = lr.getShape().getShape();
        int sp = Math.toIntExact(s[2] * s[3]);
        int lp = Math.toIntExact(l[2] * l[3]);
        float[] y = sr.toType(DataType.FLOAT32, false).toFloatArray();
        float[] x = lr.toType(DataType.FLOAT32, false).toFloatArray();
        for (int b = 0; b < s[0]; b++) {
            float[][] srPlanes = new float[3][];
            float[][] lrPlanes = new float[3][];
            for (int c = 0; c < 3; c++) {
                srPlanes[c] = Arrays.copyOfRange(y, (b * 3 + c) * sp, (b * 3 + c + 1) * sp);
                lrPlanes[c] = Arrays.copyOfRange(x, (b * 3 + c) * lp, (b * 3 + c + 1) * lp);
            }
            ColorCorrection.ADAIN.apply(srPlanes, (int) s[3], (int) s[2], lrPlanes, (int) l[3], (int) l[2]);
            for (int c = 0; c < 3; c++) {
                System.arraycopy(srPlanes[c], 0, y, (b * 3 + c) * sp, sp);
            }
        }
        return y;
    }

    /** {@code floor(255 · clamp(y/2 + 0.5, 0, 1))}: torchvision's {@code ToPILImage} truncates. */
    private static int[] toUint8(float[] y) {
        int[] out = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            float u = y[i] * 0.5f + 0.5f;
            out[i] = (int) ((u < 0 ? 0 : (u > 1 ? 1 : u)) * 255f);
        }
        return out;
    }

    private static NDArray array(TensorSource s, String name) {
        TensorInfo i = s.info(name);
        return manager.create(s.readFloats(name), new Shape(i.shape()));
    }

    private static void assertClose(TensorSource s, String name, NDArray actual) {
        assertClose(s, name, actual, TOLERANCE);
    }

    private static void assertClose(TensorSource s, String name, NDArray actual, double tolerance) {
        TensorInfo i = s.info(name);
        assertEquals(new Shape(i.shape()), actual.getShape(), name);
        float[] want = s.readFloats(name);
        float[] got = actual.toType(DataType.FLOAT32, false).toFloatArray();
        double max = 0;
        for (int j = 0; j < want.length; j++) {
            max = Math.max(max, Math.abs(want[j] - got[j]));
        }
        assertTrue(max <= tolerance, name + ": max |Δ| " + max);
        System.err.printf("parity %s: max |Δ| %.3g%n", name, max);
    }
}
