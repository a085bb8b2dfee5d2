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
}
