package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {
    @TempDir
    Path tmp;

    private static Path parity(String name) throws URISyntaxException {
        return Paths.get(ModelFilesTest.class.getResource("/fixtures/parity/" + name).toURI());
    }

    @Test
    void officialFilesAndOurSafetensorsGiveTheSameModel() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel official = ModelFiles.load(parity("net_params_tiny.pkl"),
                        parity("halfDecoder_tiny.ckpt"), AdcsrConfig.tiny(), m, DataType.FLOAT32,
                        PicklePolicy.allowingUnknownClasses())) {
            Path ours = tmp.resolve("tiny.safetensors");
            ModelFiles.save(official, ours, Map.of("source", "parity fixture"), DType.F32);
            try (SafetensorsReader r = SafetensorsReader.open(ours)) {
                assertEquals(ModelFiles.FORMAT, r.metadata().get(ModelFiles.FORMAT_KEY));
                assertEquals("parity fixture", r.metadata().get("source"));
            }
            // the architecture comes from the file's metadata
            try (AdcsrModel back = ModelFiles.load(ours, null, null, m, DataType.FLOAT32)) {
                assertEquals(AdcsrConfig.tiny(), back.config());
                for (Map.Entry<String, NDArray> p : official.parameters().entrySet()) {
                    assertTrue(p.getValue().contentEquals(back.parameters().get(p.getKey())), p.getKey());
                }
            }
        }
    }

    @Test
    void clearErrorsForMissingDecoderGarbageAndWrongArchitecture() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            BadInputException noDecoder = assertThrows(BadInputException.class,
                    () -> ModelFiles.load(parity("net_params_tiny.pkl"), null, AdcsrConfig.tiny(), m,
                            DataType.FLOAT32));
            assertTrue(noDecoder.getMessage().contains("--decoder"), noDecoder.getMessage());

            Path garbage = Files.writeString(tmp.resolve("weights.safetensors"), "not weights at all");
            BadInputException bad = assertThrows(BadInputException.class,
                    () -> ModelFiles.load(garbage, null, null, m, DataType.FLOAT32));
            assertTrue(bad.getMessage().startsWith(garbage.toString()), bad.getMessage());

            // the fixture's hyper_parameters hold an object of an unknown class: refused unless allowed
            BadInputException unknown = assertThrows(BadInputException.class,
                    () -> ModelFiles.load(parity("net_params_tiny.pkl"), parity("halfDecoder_tiny.ckpt"),
                            AdcsrConfig.tiny(), m, DataType.FLOAT32));
            assertTrue(unknown.getMessage().endsWith("halfDecoder_tiny.ckpt: refused pickle global "
                    + "adcsr_fixture_unknown.config.UnknownHParams in entry 'hyper_parameters.config' of "
                    + "archive/data.pkl: not a tensor, storage, container or known data class; nothing was run"),
                    unknown.getMessage());

            // the paper architecture asked of tiny weights: every difference named at once
            BadInputException wrong = assertThrows(BadInputException.class,
                    () -> ModelFiles.load(parity("net_params_tiny.pkl"), parity("halfDecoder_tiny.ckpt"),
                            AdcsrConfig.paper(), m, DataType.FLOAT32, PicklePolicy.allowingUnknownClasses()));
            assertTrue(wrong.getMessage().contains("shape mismatches: unet.conv_in.weight [8, 12, 3, 3] (model: "
                    + "[240, 12, 3, 3])"), wrong.getMessage());
            assertThrows(BadInputException.class,
                    () -> ModelFiles.load(tmp.resolve("absent.safetensors"), null, null, m, DataType.FLOAT32));
        }
    }

    @Test
    void keyCheckListsMissingUnexpectedAndMismatchedTogether() throws IOException {
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 1, m, DataType.FLOAT32)) {
            Path f = tmp.resolve("x.safetensors");
            ModelFiles.save(model, f, Map.of(), DType.F16);
            try (SafetensorsReader r = SafetensorsReader.open(f)) {
                var view = new org.adcsr.core.io.RenamedTensorSource(f);
                for (String n : r.names()) {
                    if (!n.equals("unet.conv_in.bias")) {
                        view.put(n.equals("decoder.conv_out.weight") ? "decoder.conv_out.weightx" : n, r, n);
                    }
                }
                view.put("unet.conv_out.bias", r, "unet.conv_in.bias"); // wrong shape
                BadInputException e = assertThrows(BadInputException.class, () -> KeyCheck.check(view,
                        ShapeOps.inferenceParameters(AdcsrConfig.tiny()), n -> false));
                String msg = e.getMessage();
                assertTrue(msg.contains("2 missing keys: unet.conv_in.bias, decoder.conv_out.weight"), msg);
                assertTrue(msg.contains("1 unexpected key: decoder.conv_out.weightx"), msg);
                assertTrue(msg.contains("1 shape mismatch: unet.conv_out.bias [8] (model: [16])"), msg);
                assertTrue(!msg.contains("\n"));
            }
        }
    }

    /** Our file of a random tiny model, with {@code change} applied to the named tensor's values. */
    private Path tinyFile(String name, String tensor, java.util.function.Consumer<float[]> change) throws IOException {
        Path f = tmp.resolve(name);
        try (NDManager m = NDManager.newBaseManager();
                AdcsrModel model = AdcsrModel.random(AdcsrConfig.tiny(), 1, m, DataType.FLOAT32)) {
            java.util.List<SafetensorsWriter.Entry> entries = new java.util.ArrayList<>();
            for (Map.Entry<String, ai.djl.ndarray.NDArray> p : model.parameters().entrySet()) {
                float[] v = p.getValue().toFloatArray();
                if (p.getKey().equals(tensor)) {
                    change.accept(v);
                }
                entries.add(new SafetensorsWriter.Entry(p.getKey(), p.getValue().getShape().getShape(), () -> v));
            }
            SafetensorsWriter.write(f, Map.of(ModelFiles.FORMAT_KEY, ModelFiles.FORMAT, ModelFiles.CONFIG_KEY,
                    model.config().toJson()), entries, DType.F32);
        }
        return f;
    }

    @Test
    void nonFiniteAndHugeWeightsAreRefusedAtLoadNamingFileAndTensor() throws IOException {
        // -6.1e36: bench/fuzz.sh's safetensors mutant 20, one flipped exponent bit; finite, it overflowed DJL's
        // output to infinity but left ONNX Runtime's finite and wrong
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -6.1e36f}) {
            Path f = tinyFile("nan.safetensors", "unet.conv_out.weight", v -> v[5] = bad);
            String shown = Float.isFinite(bad) ? "-6.10e+36" : String.valueOf(bad);
            try (NDManager m = NDManager.newBaseManager()) {
                BadInputException e = assertThrows(BadInputException.class,
                        () -> ModelFiles.load(f, null, null, m, DataType.FLOAT32));
                assertTrue(e.getMessage().startsWith(f + ": tensor unet.conv_out.weight holds " + shown
                        + " at element 5 "), e.getMessage());
            }
        }
        assertEquals(-1, AdcsrModel.firstImplausible(new float[] {65504f, -65504f, 32768f, 0, -0f,
                Float.MIN_VALUE}));
        float[] big = new float[10_000];
        big[9_999] = Float.NaN;
        assertEquals(9_999, AdcsrModel.firstImplausible(big));
        for (float v : new float[] {65504.004f, -6.1e36f, Float.MAX_VALUE, Float.NEGATIVE_INFINITY}) {
            big[5_000] = v;
            assertEquals(5_000, AdcsrModel.firstImplausible(big), "value " + v);
        }
    }

    @Test
    void aBadKeyOfTheDecoderFileIsBlamedOnTheDecoderFile() throws IOException {
        Path weights = tinyFile("weights.safetensors", "", v -> { });
        Path decoder = tmp.resolve("decoder.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            java.util.List<SafetensorsWriter.Entry> entries = new java.util.ArrayList<>();
            for (String n : r.names()) {
                if (n.startsWith("decoder.")) {
                    long[] shape = n.equals("decoder.conv_out.bias") ? new long[] {7} : r.info(n).shape();
                    entries.add(new SafetensorsWriter.Entry(n, shape, () -> new float[(int) java.util.Arrays
                            .stream(shape).reduce(1, (a, b) -> a * b)]));
                }
            }
            SafetensorsWriter.write(decoder, Map.of(), entries, DType.F32);
        }
        // a student-only weights file: its decoder.* keys dropped, so the decoder file supplies them
        Path student = tmp.resolve("student.safetensors");
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            java.util.List<SafetensorsWriter.Entry> entries = new java.util.ArrayList<>();
            for (String n : r.names()) {
                if (!n.startsWith("decoder.")) {
                    entries.add(new SafetensorsWriter.Entry(n, r.info(n).shape(), () -> r.readFloats(n)));
                }
            }
            SafetensorsWriter.write(student, r.metadata(), entries, DType.F32);
        }
        BadInputException e = assertThrows(BadInputException.class,
                () -> ModelFiles.check(student, decoder, null));
        assertTrue(e.getMessage().startsWith(decoder + ": does not fit the model: 1 shape mismatch: "
                + "decoder.conv_out.bias [7]"), e.getMessage());
    }
}
