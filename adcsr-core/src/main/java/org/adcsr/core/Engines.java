package org.adcsr.core;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.nio.file.Path;
import org.adcsr.core.engine.EngineCheck;
import org.adcsr.core.engine.EngineFaultException;
import org.slf4j.LoggerFactory;
import java.nio.file.Paths;

/**
 * The one place that starts DJL. {@link #configure} sets the system properties DJL reads; it must run before any DJL
 * class initialises, so tools call {@link #start} (which calls it) before touching DJL, and this class keeps DJL
 * types out of its static state.
 *
 * <p>What is set: {@code ai.djl.offline=true} and {@code OPT_OUT_TRACKING=true} (DJL would otherwise call an EC2
 * metadata address and download natives), {@code ai.djl.default_engine=PyTorch}, {@code DJL_CACHE_DIR} (where DJL
 * extracts libtorch; default {@code $XDG_CACHE_HOME/adcsr/djl} or {@code ~/.cache/adcsr/djl} unless set as a property
 * or environment variable), the slf4j level that hides DJL's harmless CUDA-probe warning, and the libtorch thread
 * counts (intra-op from {@code --threads}, inter-op 1).
 */
public final class Engines {
    public static final String ENGINE = "PyTorch";

    /** What {@code --device} asks for. */
    public enum Target { CPU, GPU }

    private Engines() {}

    /**
     * Sets DJL's system properties. Idempotent; only effective before the engine starts.
     *
     * @param threads intra-op threads, or {@code null} to keep {@code -Dai.djl.pytorch.num_threads} if given, else use
     *     all available processors
     */
    public static synchronized void configure(Integer threads) {
        String envOffline = System.getenv("DJL_OFFLINE"); // DJL lets this variable override the property
        if (envOffline != null && !Boolean.parseBoolean(envOffline)) {
            throw new BadInputException("DJL_OFFLINE=" + envOffline + " in the environment would let DJL use the"
                    + " network; unset it");
        }
        System.setProperty("ai.djl.offline", "true");
        System.setProperty("OPT_OUT_TRACKING", "true");
        System.setProperty("ai.djl.default_engine", ENGINE);
        System.setProperty("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
        if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
            System.setProperty("DJL_CACHE_DIR", defaultCacheDir().toString());
        }
        if (threads != null) {
            if (threads < 1) {
                throw new BadInputException("--threads must be at least 1, got " + threads);
            }
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        } else if (System.getProperty("ai.djl.pytorch.num_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_threads",
                    Integer.toString(Runtime.getRuntime().availableProcessors()));
        }
        if (System.getProperty("ai.djl.pytorch.num_interop_threads") == null) {
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        }
    }

    /** {@code $XDG_CACHE_HOME/adcsr/djl} if that variable is an absolute path, else {@code ~/.cache/adcsr/djl}. */
    static Path defaultCacheDir() {
        return cacheHome().resolve("djl");
    }

    /**
     * The suite's cache directory: {@code -Dadcsr.cache.dir} if set, else {@code $XDG_CACHE_HOME/adcsr} if that
     * variable is an absolute path, else {@code ~/.cache/adcsr}.
     */
    public static Path cacheHome() {
        String dir = System.getProperty("adcsr.cache.dir");
        if (dir != null && !dir.isEmpty()) {
            return Paths.get(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isEmpty() && Paths.get(xdg).isAbsolute()
                ? Paths.get(xdg)
                : Paths.get(System.getProperty("user.home"), ".cache");
        return base.resolve("adcsr");
    }

    /**
     * Configures DJL, starts the PyTorch engine, checks that it can serve {@code target}, and runs the engine
     * self-check ({@link EngineCheck}: float32 convolutions and the other ops against float64, which picks the
     * convolution work-around on machines where libtorch gets them wrong; its one-line summary is logged at info,
     * {@code -v}).
     *
     * @throws BadInputException for {@link Target#GPU} without a CUDA build of libtorch or without a GPU
     * @throws EngineFaultException if the self-check finds a fault with no work-around
     */
    public static Engine start(Target target, Integer threads) {
        configure(threads);
        Engine engine = Engine.getEngine(ENGINE);
        if (target == Target.GPU) {
            if (!engine.hasCapability(StandardCapabilities.CUDA)) {
                throw new BadInputException("--device gpu: this build has only the CPU libtorch (Maven Central has"
                        + " no CUDA libtorch, and DJL would need the network to download one); use --device cpu");
            }
            if (engine.getGpuCount() < 1) {
                throw new BadInputException("--device gpu: libtorch has CUDA but no GPU is visible");
            }
        }
        LoggerFactory.getLogger(Engines.class).info(EngineCheck.ensure().summary());
        return engine;
    }

    /** The DJL device for {@code target}; call after {@link #start}. */
    public static Device device(Target target) {
        return target == Target.GPU ? Device.gpu() : Device.cpu();
    }
}
