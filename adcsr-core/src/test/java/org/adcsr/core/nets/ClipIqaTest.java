package org.adcsr.core.nets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.engine.Autograd;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.torch.Placeholder;
import org.adcsr.core.io.torch.SafeUnpickler;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.junit.jupiter.api.Test;

/**
 * CLIPIQA's pieces against {@code tools/eval/make_clipiqa_fixture.py} (pyiqa v0.1.13 and openai/CLIP): the prompts'
 * token ids, CLIP's key layout (RN50 and the small test configuration), the TorchScript archive reader on a
 * {@code torch.jit.save} file, and the refusals. The score itself, from PNG files, is {@code ClipIqaMetricTest}
 * (adcsr-eval).
 */
class ClipIqaTest {
    /** The small configuration of the fixture script (TINY): blocks 1, 2, 1, 1, width 8, text width 128, 2 layers. */
    static final ClipIqa.Config TINY = new ClipIqa.Config(new int[] {1, 2, 1, 1}, 8, 32, 224, 77, 49408, 128, 2);

    static Path fixture(String name) throws Exception {
        return Path.of(ClipIqaTest.class.getResource("/fixtures/clipiqa/" + name).toURI());
    }

    private static List<String> lines(String name) throws Exception {
        return Files.readAllLines(fixture(name)).stream().filter(l -> !l.startsWith("#")).toList();
    }

    @Test
    void promptTokensAreClipTokenizers() throws Exception {
        List<String> rows = lines("tokens.txt");
        assertEquals(ClipIqa.PROMPTS.size(), rows.size());
        assertEquals(ClipIqa.TOKENS.length, rows.size());
        for (int i = 0; i < rows.size(); i++) {
            String[] f = rows.get(i).split("\t");
            assertEquals(ClipIqa.PROMPTS.get(i), f[0]);
            int[] ids = Arrays.stream(f[1].split(" ")).mapToInt(Integer::parseInt).toArray();
            assertArrayEquals(ids, ClipIqa.TOKENS[i], f[0]);
        }
    }

    @Test
    void layoutIsPyiqasClipStateDict() throws Exception {
        for (Object[] c : new Object[][] {{"keys_rn50.txt", ClipIqa.Config.RN50}, {"keys_tiny.txt", TINY}}) {
            List<String> expected = lines((String) c[0]);
            List<String> got = new ArrayList<>();
            for (Map.Entry<String, long[]> e : ClipIqa.layout((ClipIqa.Config) c[1]).entrySet()) {
                StringBuilder b = new StringBuilder(e.getKey()).append(' ');
                for (int i = 0; i < e.getValue().length; i++) {
                    b.append(i == 0 ? "" : " ").append(e.getValue()[i]);
                }
                got.add(b.toString());
            }
            assertEquals(expected, got, (String) c[0]);
        }
    }

    @Test
    void readsATorchScriptArchiveAsData() throws Exception {
        Path file = fixture("torchscript_tiny.pt");
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(file.toFile())) {
            // the container as torch.jit.save writes it: compressed code/, constants.pkl, data.pkl, data/ storages
            assertTrue(zip.stream().anyMatch(z -> z.getName().contains("/code/")
                    && z.getMethod() == java.util.zip.ZipEntry.DEFLATED));
            assertTrue(zip.stream().anyMatch(z -> z.getName().endsWith("/constants.pkl")));
        }
        // torch.save readers still refuse it
        BadInputException plain = assertThrows(BadInputException.class, () -> TorchCheckpoint.open(file));
        assertTrue(plain.getMessage().contains("TorchScript archive"), plain.getMessage());
        try (TorchCheckpoint ts = TorchCheckpoint.openTorchScript(file)) {
            TensorSource t = ts.tensors();
            List<String> want = List.of("conv1.weight", "bn1.weight", "bn1.running_var", "conv2.weight",
                    "conv3.weight", "bn3.bias", "downsample.0.weight", "downsample.1.running_mean");
            assertTrue(t.names().containsAll(want), t.names().toString());
            for (String name : t.names()) {
                if (name.endsWith("num_batches_tracked")) {
                    continue;
                }
                assertEquals(DType.F16, t.info(name).dtype(), name);
                float[] expected = GeneratedWeights.hashedHalf(GeneratedWeights.seed(name), t.info(name).shape(), -1);
                assertArrayEquals(expected, t.readFloats(name), name);
            }
            assertArrayEquals(new long[] {16, 8, 1, 1}, t.info("downsample.0.weight").shape());
        }
    }

    @Test
    void torchScriptPolicyStillRefusesCode() throws Exception {
        Path hostile = Path.of(ClipIqaTest.class.getResource("/fixtures/hostile").toURI());
        try (Stream<Path> files = Files.list(hostile)) {
            for (Path f : files.filter(p -> !p.toString().endsWith(".tsv")).toList()) {
                BadInputException e = assertThrows(BadInputException.class, () -> TorchCheckpoint.openTorchScript(f));
                assertTrue(e.getMessage().contains("refused pickle global"), e.getMessage());
            }
        }
        // a TorchScript class may be instantiated and given state (NEWOBJ, BUILD) ...
        Object built = unpickle("\u0080\u0002c__torch__.model\nCLIP\n)\u0081}b.");
        assertTrue(built instanceof Placeholder p && p.qualifiedName().equals("__torch__.model.CLIP"), "" + built);
        // ... but not called
        BadInputException called = assertThrows(BadInputException.class,
                () -> unpickle("\u0080\u0002c__torch__.model\nCLIP\n)R."));
        assertTrue(called.getMessage().contains("refused pickle global __torch__.model.CLIP"), called.getMessage());
        BadInputException system = assertThrows(BadInputException.class,
                () -> unpickle("\u0080\u0002cos\nsystem\nX\u0002\u0000\u0000\u0000ls\u0085R."));
        assertTrue(system.getMessage().contains("refused pickle global os.system"), system.getMessage());
        // the list tags of torch.jit._pickle return their data
        assertEquals(List.of(1L, 2L), unpickle("\u0080\u0002ctorch.jit._pickle\nbuild_intlist\n(](K\u0001K\u0002etR."));
    }

    private static Object unpickle(String latin1) {
        return new SafeUnpickler(Path.of("test.pkl"), SafeUnpickler.Limits.DEFAULT, pid -> {
            throw new IllegalStateException("no storages");
        }, PicklePolicy.torchScript(), "data.pkl").load(latin1.getBytes(StandardCharsets.ISO_8859_1));
    }

    @Test
    void wrongShapesAndMissingTensorsAreRefusedInOneLine() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        try (NDManager m = engine.newBaseManager()) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> ClipIqa.load(m, GeneratedWeights.clip(TINY), ClipIqa.Config.RN50));
            assertTrue(e.getMessage().contains("visual.conv1.weight is [4, 3, 3, 3], expected [32, 3, 3, 3]"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("more)") && !e.getMessage().contains("\n"), e.getMessage());
            BadInputException missing = assertThrows(BadInputException.class,
                    () -> ClipIqa.load(m, LpipsTest.backbone(Lpips.Backbone.ALEX), TINY));
            assertTrue(missing.getMessage().contains("missing positional_embedding"), missing.getMessage());
        }
    }

    @Test
    void scoresAnySizeAndIsDifferentiable() {
        Engine engine = Engines.start(Engines.Target.CPU, 1);
        assertTrue(ClipIqa.fits(31, 31));
        assertFalse(ClipIqa.fits(30, 200));
        try (NDManager m = engine.newBaseManager(); ClipIqa net = ClipIqa.load(m, GeneratedWeights.clip(TINY), TINY)) {
            NDArray x = m.create(LpipsTest.value(500, new long[] {2, 3, 45, 70}, 1.0)).add(0.5).reshape(2, 3, 45, 70);
            x.setRequiresGradient(true);
            try (GradientCollector gc = engine.newGradientCollector()) {
                NDArray s = net.forward(x);
                float[] v = s.toFloatArray();
                assertEquals(2, v.length);
                for (float f : v) {
                    assertTrue(f > 0 && f < 1, "a mean of probabilities: " + f);
                }
                Autograd.backward(gc, s.sum());
            }
            double norm = 0;
            for (float g : x.getGradient().toFloatArray()) {
                norm += g * g;
            }
            assertTrue(norm > 0 && Double.isFinite(norm));
        }
    }
}
