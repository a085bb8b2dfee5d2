package org.adcsr.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EnginesTest {
    @Test
    void startsPyTorchOnCpuOffline() {
        String threads = System.getProperty("ai.djl.pytorch.num_threads"); // surefire sets 1
        Engine engine = Engines.start(Engines.Target.CPU, null);
        assertEquals("PyTorch", engine.getEngineName());
        assertEquals("true", System.getProperty("ai.djl.offline"));
        assertEquals("true", System.getProperty("OPT_OUT_TRACKING"));
        String expected = threads != null ? threads : Integer.toString(Runtime.getRuntime().availableProcessors());
        assertEquals(expected, System.getProperty("ai.djl.pytorch.num_threads"), "a -D given wins over the default");
        assertEquals("1", System.getProperty("ai.djl.pytorch.num_interop_threads"));
        try (NDManager m = engine.newBaseManager(Engines.device(Engines.Target.CPU))) {
            assertEquals(6f, m.create(new float[] {1, 2, 3}).sum().getFloat());
        }
    }

    @Test
    void gpuWithoutCudaLibtorchIsOneClearLine() {
        BadInputException e = assertThrows(BadInputException.class, () -> Engines.start(Engines.Target.GPU, null));
        assertTrue(e.getMessage().startsWith("--device gpu: this build has only the CPU libtorch"), e.getMessage());
        assertTrue(e.getMessage().contains("network"), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void defaultCacheDirIsPerUser() {
        Path dir = Engines.defaultCacheDir();
        assertTrue(dir.endsWith(Path.of("adcsr", "djl")), dir.toString());
        assertTrue(dir.isAbsolute(), dir.toString());
    }
}
