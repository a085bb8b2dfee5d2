package org.adcsr.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.adcsr.core.BadInputException;
import org.junit.jupiter.api.Test;

class EngineChoiceTest {
    private static final EngineChoice.OrtStatus CPU_ONLY = new EngineChoice.OrtStatus(null, false);
    private static final EngineChoice.OrtStatus WITH_CUDA = new EngineChoice.OrtStatus(null, true);
    private static final EngineChoice.OrtStatus ABSENT = new EngineChoice.OrtStatus("no libonnxruntime.so", false);

    @Test
    void autoTakesOnnxRuntimeWhereItCanServeTheDeviceElseDjl() {
        assertEquals(EngineChoice.ONNXRUNTIME, EngineChoice.AUTO.resolve(false, CPU_ONLY));
        assertEquals(EngineChoice.ONNXRUNTIME, EngineChoice.AUTO.resolve(true, WITH_CUDA));
        assertEquals(EngineChoice.DJL, EngineChoice.AUTO.resolve(true, CPU_ONLY));
        assertEquals(EngineChoice.DJL, EngineChoice.AUTO.resolve(false, ABSENT));
        assertEquals(EngineChoice.DJL, EngineChoice.AUTO.resolve(true, ABSENT));
    }

    @Test
    void namedEnginesAreTakenOrRefusedWithOneLine() {
        assertEquals(EngineChoice.DJL, EngineChoice.DJL.resolve(true, null));
        assertEquals(EngineChoice.ONNXRUNTIME, EngineChoice.ONNXRUNTIME.resolve(true, WITH_CUDA));
        String noCuda = assertThrows(BadInputException.class, () -> EngineChoice.ONNXRUNTIME.resolve(true, CPU_ONLY))
                .getMessage();
        assertTrue(noCuda.startsWith("--device gpu: this ONNX Runtime is the CPU build")
                && noCuda.contains("onnxruntime_gpu-" + OrtNetwork.ORT_VERSION + ".jar") && !noCuda.contains("\n"),
                noCuda);
        String absent = assertThrows(BadInputException.class, () -> EngineChoice.ONNXRUNTIME.resolve(false, ABSENT))
                .getMessage();
        assertTrue(absent.contains("ONNX Runtime does not load here (no libonnxruntime.so)"), absent);
    }

    @Test
    void thisBuildLoadsTheCpuOnnxRuntime() {
        EngineChoice.OrtStatus here = EngineChoice.probe();
        assertTrue(here.loads(), here.loadFailure());
        assertEquals(false, here.cuda());
        String v = ai.onnxruntime.OrtEnvironment.getEnvironment().getVersion();
        assertEquals(OrtNetwork.ORT_VERSION, v);
    }
}
