package org.adcsr.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import java.util.Locale;
import org.adcsr.core.BadInputException;

/**
 * Which engine runs the network: DJL (libtorch) or ONNX Runtime, as asked, or {@code auto}: ONNX Runtime where it
 * loads (and, for {@code --device gpu}, has its CUDA execution provider), else DJL.
 */
public enum EngineChoice {
    DJL, ONNXRUNTIME, AUTO;

    /** The name on the command line and in reports. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** What ONNX Runtime offers in this process: whether it loads (else why not) and whether it has CUDA. */
    public record OrtStatus(String loadFailure, boolean cuda) {
        public boolean loads() {
            return loadFailure == null;
        }
    }

    /** Where to find the GPU build of ONNX Runtime: said wherever CUDA is asked for and missing. */
    public static final String GPU_HINT = "put onnxruntime_gpu-" + OrtNetwork.ORT_VERSION + ".jar in"
            + " CLASSPATH_PREFIX, with CUDA 12 and cuDNN 9 (README: adcsr-upscale, GPU)";

    /** Loads ONNX Runtime's native library (once per process) and lists its execution providers. */
    public static OrtStatus probe() {
        try {
            OrtEnvironment.getEnvironment();
            return new OrtStatus(null, OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA));
        } catch (RuntimeException | LinkageError e) {
            String why = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
            return new OrtStatus(why.lines().findFirst().orElse(why), false);
        }
    }

    /**
     * The engine that runs: {@link #DJL} or {@link #ONNXRUNTIME}. {@code auto} takes ONNX Runtime when it loads and
     * can serve the device, else DJL (which then refuses a GPU it lacks itself).
     *
     * @param ort what {@link #probe()} found; not read (and may be null) for {@link #DJL}
     * @throws BadInputException when ONNX Runtime is asked for by name and does not load, or lacks CUDA for a GPU
     */
    public EngineChoice resolve(boolean gpu, OrtStatus ort) {
        switch (this) {
            case DJL:
                return DJL;
            case ONNXRUNTIME:
                if (!ort.loads()) {
                    throw new BadInputException("--engine onnxruntime: ONNX Runtime does not load here ("
                            + ort.loadFailure() + "); --engine djl runs libtorch instead");
                }
                if (gpu && !ort.cuda()) {
                    throw new BadInputException("--device gpu: this ONNX Runtime is the CPU build; " + GPU_HINT);
                }
                return ONNXRUNTIME;
            default:
                return ort.loads() && (!gpu || ort.cuda()) ? ONNXRUNTIME : DJL;
        }
    }

    /** picocli's converter of {@code --engine}: {@code auto}, {@code onnxruntime} or {@code djl}, any case. */
    public static final class Converter implements picocli.CommandLine.ITypeConverter<EngineChoice> {
        @Override
        public EngineChoice convert(String value) {
            try {
                return EngineChoice.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(
                        "expected auto, onnxruntime or djl, got '" + value + "'");
            }
        }
    }
}
