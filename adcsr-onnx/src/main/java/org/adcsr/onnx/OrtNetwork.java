package org.adcsr.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.adcsr.core.BadInputException;
import org.adcsr.core.engine.EngineFaultException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.upscale.Upscaler;

/**
 * The AdcSR network run by ONNX Runtime: the graph {@link OnnxExport#build} writes from the one forward
 * ({@link org.adcsr.core.model.AdcsrNetwork}), built for the shape of the tiles in use and kept in memory, its
 * weights handed to ONNX Runtime as external initializers over direct (off-heap) buffers that every session shares,
 * so the weights are in memory once and never in the Java heap as a whole.
 *
 * <p>Graphs have static shapes: one session per input shape, and only the newest is kept (tiles of one image all
 * have the tile's shape; images that fit one tile and differ in size each pay {@link #sessionSeconds()} again).
 */
public final class OrtNetwork implements Upscaler.Network, AutoCloseable {
    /** Where ONNX Runtime runs. */
    public enum Device { CPU, CUDA }

    /** The ONNX Runtime release this build ships (the Java API's jar). */
    public static final String ORT_VERSION = "1.29.0";

    private final AdcsrConfig config;
    private final int threads;
    private final Device device;
    private final OrtEnvironment env;
    /** Every parameter-derived initializer of the graph (conv weights permuted, linear weights transposed). */
    private final Map<String, OnnxTensor> weights;
    /** The first implausibly large weight ("name holds V at element I"), or null. */
    private final String implausible;
    private OrtSession session;
    private long[] sessionShape;
    private double sessionSeconds;

    private OrtNetwork(AdcsrConfig config, int threads, Device device, Map<String, OnnxTensor> weights,
            String implausible) {
        this.config = config;
        this.threads = threads;
        this.device = device;
        this.env = OrtEnvironment.getEnvironment();
        this.weights = weights;
        this.implausible = implausible;
    }

    /**
     * Reads the parameters of {@code config} from {@code source} (already checked key by key and shape by shape)
     * into direct buffers; weights holding NaN or infinity are refused as {@link AdcsrModel#load} refuses them.
     *
     * @param threads intra-op threads of every session
     */
    public static OrtNetwork load(AdcsrConfig config, TensorSource source, int threads, Device device) {
        checkDevice(device);
        String[] implausible = {null};
        return fromParameters(config, name -> {
            float[] v = AdcsrModel.readFinite(source, name);
            if (implausible[0] == null) {
                implausible[0] = AdcsrModel.implausible(name, v);
            }
            return v;
        }, threads, device, () -> implausible[0]);
    }

    /** An network over parameter values by checkpoint key (tests: the parameters of a DJL model). */
    public static OrtNetwork fromParameters(AdcsrConfig config, Function<String, float[]> params, int threads,
            Device device) {
        return fromParameters(config, params, threads, device, () -> null);
    }

    private static OrtNetwork fromParameters(AdcsrConfig config, Function<String, float[]> params, int threads,
            Device device, java.util.function.Supplier<String> implausible) {
        java.util.Set<String> names = new java.util.HashSet<>();
        for (TensorInfo t : AdcsrModel.parameterList(config)) {
            names.add(t.name());
        }
        // the smallest graph: the initializers' values do not depend on the input size
        int m = config.sizeMultiple();
        Graph g = OnnxExport.build(config, m, m, params);
        Map<String, OnnxTensor> w = new LinkedHashMap<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try {
            for (Graph.Init init : g.inits.values()) {
                if (!names.contains(init.name())) {
                    continue;
                }
                byte[] bytes = Graph.bytesOf(init);
                ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).order(ByteOrder.nativeOrder());
                direct.asFloatBuffer().put(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
                w.put(init.name(), OnnxTensor.createTensor(env, direct.asFloatBuffer(), init.shape()));
            }
        } catch (OrtException e) {
            w.values().forEach(OnnxTensor::close);
            throw new IllegalStateException("ONNX Runtime refused a weight tensor: " + e.getMessage(), e);
        }
        return new OrtNetwork(config, threads, device, w, implausible.get());
    }

    /**
     * Starts the CUDA execution provider once, so that a GPU build without a usable CUDA fails before any weight is
     * read, with one line.
     */
    static void checkDevice(Device device) {
        if (device != Device.CUDA) {
            return;
        }
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.addCUDA(0);
        } catch (OrtException | RuntimeException | LinkageError e) {
            throw new BadInputException("--device gpu: ONNX Runtime's CUDA execution provider did not start ("
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + "); " + EngineChoice.GPU_HINT);
        }
    }

    @Override
    public float[] run(float[] chw, int height, int width) {
        long[] shape = {1, 3, height, width};
        OrtSession s = session(height, width);
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(chw), shape);
                OrtSession.Result r = s.run(Map.of(OnnxExport.INPUT, in))) {
            FloatBuffer fb = ((OnnxTensor) r.get(OnnxExport.OUTPUT).orElseThrow()).getFloatBuffer();
            float[] out = new float[fb.remaining()];
            fb.get(out);
            for (float v : out) {
                if (!Float.isFinite(v)) {
                    throw nonFinite();
                }
            }
            return out;
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a " + width + "x" + height + " tile: "
                    + e.getMessage(), e);
        }
    }

    /** As the DJL network tells them apart: implausible weights are a bad file, else the engine is at fault. */
    private RuntimeException nonFinite() {
        if (implausible != null) {
            return new BadInputException("the model's weights are finite but " + implausible + ", beyond any trained"
                    + " weight (float16's 65504): a bad weights file, not an engine fault");
        }
        return new EngineFaultException("the network produced NaN or infinity (float32, ONNX Runtime) from finite"
                + " inputs and weights: an engine fault, not a bad input");
    }

    /** The session for this input shape, built (and the previous one closed) when the shape changes. */
    private OrtSession session(int height, int width) {
        long[] shape = {height, width};
        if (session != null && Arrays.equals(shape, sessionShape)) {
            return session;
        }
        closeSession();
        long t0 = System.nanoTime();
        Graph g = OnnxExport.build(config, height, width, name -> {
            throw new IllegalStateException("parameter " + name + " is supplied as an external initializer");
        });
        try (OrtSession.SessionOptions o = options()) {
            byte[] model = g.inMemory(OnnxExport.FLOAT, init -> weights.containsKey(init.name())).toByteArray();
            session = env.createSession(model, o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not build the " + width + "x" + height
                    + " session: " + e.getMessage(), e);
        }
        sessionShape = shape;
        sessionSeconds += (System.nanoTime() - t0) / 1e9;
        return session;
    }

    private OrtSession.SessionOptions options() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        o.addExternalInitializers(new LinkedHashMap<String, OnnxTensorLike>(weights));
        if (device == Device.CUDA) {
            o.addCUDA(0);
        }
        return o;
    }

    /** Seconds spent building sessions so far (graph, ONNX Runtime's optimisation and weight pre-packing). */
    public double sessionSeconds() {
        return sessionSeconds;
    }

    public Device device() {
        return device;
    }

    @Override
    public int scale() {
        return config.scale();
    }

    @Override
    public int sizeMultiple() {
        return config.sizeMultiple();
    }

    public AdcsrConfig config() {
        return config;
    }

    private void closeSession() {
        if (session != null) {
            try {
                session.close();
            } catch (OrtException e) {
                // closing frees native memory; nothing to recover
            }
            session = null;
            sessionShape = null;
        }
    }

    @Override
    public void close() {
        closeSession();
        weights.values().forEach(OnnxTensor::close);
    }
}
