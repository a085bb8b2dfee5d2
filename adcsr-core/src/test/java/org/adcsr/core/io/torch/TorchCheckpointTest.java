package org.adcsr.core.io.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class TorchCheckpointTest {
    private static final JsonObject EXPECTED = Fixtures.expected();

    static Stream<String> positiveFixtures() {
        return EXPECTED.keySet().stream();
    }

    @ParameterizedTest
    @MethodSource("positiveFixtures")
    void tensorsMatchTorchExactly(String fixture) {
        JsonObject expected = EXPECTED.getAsJsonObject(fixture).getAsJsonObject("tensors");
        try (TensorSource source = openFixture(fixture).tensors()) {
            assertEquals(new ArrayList<>(expected.keySet()), source.names(), fixture);
            for (String name : expected.keySet()) {
                JsonObject e = expected.getAsJsonObject(name);
                TensorInfo info = source.info(name);
                assertEquals(dtype(e.get("dtype").getAsString()), info.dtype(), name);
                assertArrayEquals(longs(e.getAsJsonArray("shape")), info.shape(), name);
                assertArrayEquals(floats(e.getAsJsonArray("values")), source.readFloats(name), fixture + " " + name);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("positiveFixtures")
    void aliasesAreTheSameView(String fixture) {
        try (TorchCheckpoint ckpt = openFixture(fixture)) {
            for (JsonElement pair : EXPECTED.getAsJsonObject(fixture).getAsJsonArray("aliases")) {
                JsonArray p = pair.getAsJsonArray();
                assertTrue(ckpt.sameView(p.get(0).getAsString(), p.get(1).getAsString()), pair.toString());
            }
        }
    }

    @Test
    void viewsShareStorageButOnlyIdenticalLayoutsAreAliases() {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(Fixtures.path("views.pt"))) {
            assertSame(ckpt.tensorRef("base"), ckpt.tensorRef("same_object"), "one pickled tensor, memoised");
            assertTrue(ckpt.sameView("base", "same_view"));
            assertFalse(ckpt.sameView("base", "transposed"));
            assertFalse(ckpt.sameView("base", "flat_view"));
            TorchTensorRef sliced = ckpt.tensorRef("sliced");
            assertEquals(ckpt.tensorRef("base").storage(), sliced.storage());
            assertEquals(8, sliced.storageOffset());
            assertArrayEquals(new long[] {6, 1}, sliced.stride());
            assertArrayEquals(new long[] {0, 1}, ckpt.tensorRef("expanded").stride(), "torch saves stride 0");
            assertThrows(IllegalArgumentException.class, () -> ckpt.sameView("base", "nope"));
        }
    }

    @Test
    void prefixIsReadFromTheEntries() {
        try (TorchCheckpoint a = TorchCheckpoint.open(Fixtures.path("archive_prefix.pt"));
             TorchCheckpoint b = TorchCheckpoint.open(Fixtures.path("plain.pt"))) {
            assertEquals("archive", a.prefix());
            assertEquals("plain", b.prefix());
        }
    }

    @Test
    void cudaLocationIsIgnored() {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(Fixtures.path("cuda_location.pt"))) {
            assertEquals(List.of("weight"), ckpt.tensors().names());
        }
    }

    /** The fixtures; lightning.ckpt holds a user class ({@code adcsr_fake.config.Hparams}), accepted as data. */
    private static TorchCheckpoint openFixture(String name) {
        return name.equals("lightning.ckpt")
                ? TorchCheckpoint.open(Fixtures.path(name), PicklePolicy.allowingUnknownClasses())
                : TorchCheckpoint.open(Fixtures.path(name));
    }

    @Test
    void strictPolicyRefusesTheUserClassOfALightningCheckpoint() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> TorchCheckpoint.open(Fixtures.path("lightning.ckpt")));
        assertTrue(e.getMessage().endsWith("lightning.ckpt: refused pickle global adcsr_fake.config.Hparams in "
                + "entry 'config' of lightning/data.pkl: not a tensor, storage, container or known data class; "
                + "nothing was run"), e.getMessage());
    }

    @Test
    @SuppressWarnings("unchecked")
    void lightningCheckpointLoadsWithPlaceholders() {
        try (TorchCheckpoint ckpt = openFixture("lightning.ckpt")) {
            Map<Object, Object> root = (Map<Object, Object>) ckpt.root();
            assertEquals(3L, root.get("epoch"));
            assertEquals("1.9.0", root.get("pytorch-lightning_version"));

            Map<Object, Object> callbacks = (Map<Object, Object>) root.get("callbacks");
            Placeholder key = (Placeholder) callbacks.keySet().iterator().next();
            assertEquals("pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint", key.qualifiedName());
            assertFalse(key.isInstance());
            assertTrue(((Map<Object, Object>) callbacks.get(key)).containsKey("dirpath"));

            Placeholder callback = (Placeholder) root.get("checkpoint_callback");
            assertTrue(callback.isInstance());
            assertSame(key.module(), callback.module(), "the class global is memoised and reused");
            assertEquals("val/loss", ((Map<Object, Object>) callback.state()).get("monitor"));

            Placeholder hp = (Placeholder) root.get("hyper_parameters");
            assertEquals("AttributeDict", hp.name());
            assertEquals(1e-4, hp.dictItems().get("lr"));
            Placeholder scale = (Placeholder) hp.dictItems().get("scale");
            assertEquals("numpy.core.multiarray.scalar", scale.qualifiedName());
            assertEquals(8, ((byte[]) scale.args().get(1)).length, "float64 bytes via _codecs.encode");

            assertArrayEquals(new byte[] {0, (byte) 0xff, 'a', 'b', 'c'}, (byte[]) root.get("raw_bytes"));
            assertEquals("numpy.dtype", ((Placeholder) ((List<Object>) root.get("numpy_values")).get(2)).qualifiedName());

            TensorSource decoder = ckpt.tensors().withPrefix("state_dict.decoder.");
            assertEquals(List.of("conv_in.weight", "conv_in.bias"), decoder.names());
            assertEquals(new TensorInfo("conv_in.weight", DType.F32, new long[] {4, 2, 3, 3}),
                    decoder.info("conv_in.weight"));
            assertTrue(ckpt.tensors().contains("optimizer_states.0.state.0.exp_avg"));
        }
    }

    @Test
    void osediffLayoutGivesVaeAndUnetPrefixes() {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(Fixtures.path("osediff_like.pkl"))) {
            assertEquals(List.of("encoder.conv_in.bias"), ckpt.tensors().withPrefix("vae.").names());
            assertEquals(List.of("conv_in.weight"), ckpt.tensors().withPrefix("unet.").names());
        }
    }

    @Test
    void absentNameIsAnIllegalArgument() {
        try (TensorSource source = TorchCheckpoint.open(Fixtures.path("plain.pt")).tensors()) {
            assertNull(source.info("nope"));
            assertThrows(IllegalArgumentException.class, () -> source.readFloats("nope"));
        }
    }

    @Test
    void rejectsLegacyFiles() {
        assertProblem("legacy.pt", "legacy PyTorch checkpoint");
    }

    @Test
    void rejectsTorchScript() {
        assertProblem("torchscript.pt", "TorchScript archive");
    }

    @Test
    void rejectsCompressedEntries() {
        assertProblem("deflated.pt", "is compressed");
    }

    @Test
    void rejectsMissingAndNonZipFiles(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.pt");
        BadInputException e = assertThrows(BadInputException.class, () -> TorchCheckpoint.open(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        Path text = Files.writeString(dir.resolve("text.pt"), "hello");
        assertTrue(assertThrows(BadInputException.class, () -> TorchCheckpoint.open(text)).getMessage()
                .contains("not a ZIP archive"));
        Path empty = Files.write(dir.resolve("empty.pt"), new byte[0]);
        assertThrows(BadInputException.class, () -> TorchCheckpoint.open(empty));
    }

    @Test
    void rejectsMissingDataPkl(@TempDir Path dir) throws Exception {
        Path file = TorchZips.write(dir.resolve("nopkl.pt"), Map.of("nopkl/version", "3\n".getBytes()));
        BadInputException e = assertThrows(BadInputException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().contains("no nopkl/data.pkl"), e.getMessage());
    }

    private static void assertProblem(String fixture, String problem) {
        Path file = Fixtures.path(fixture);
        BadInputException e = assertThrows(BadInputException.class, () -> TorchCheckpoint.open(file));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    static DType dtype(String torchName) {
        return switch (torchName) {
            case "float32" -> DType.F32;
            case "float16" -> DType.F16;
            case "bfloat16" -> DType.BF16;
            case "float64" -> DType.F64;
            case "int64" -> DType.I64;
            case "int32" -> DType.I32;
            case "int16" -> DType.I16;
            case "int8" -> DType.I8;
            case "uint8" -> DType.U8;
            case "bool" -> DType.BOOL;
            default -> throw new IllegalArgumentException(torchName);
        };
    }

    private static long[] longs(JsonArray a) {
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }

    private static float[] floats(JsonArray a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.get(i).getAsDouble();
        }
        return out;
    }
}
