package org.adcsr.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import onnx.Onnx.ModelProto;
import onnx.Onnx.StringStringEntryProto;
import onnx.Onnx.TensorProto;
import org.adcsr.core.BadInputException;
import org.adcsr.core.engine.EngineFaultException;
import org.adcsr.core.io.AtomicFiles;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.upscale.Upscaler;

/**
 * The AdcSR network run by ONNX Runtime: the graph {@link OnnxExport#build} writes from the one forward
 * ({@link org.adcsr.core.model.AdcsrNetwork}), built for the shape of the tiles in use.
 *
 * <p>The weights go to ONNX Runtime as external data, the way it loads them with the least memory: once per weights
 * file and architecture, {@code weights.data} (every parameter as the graph stores it: the first conv's input
 * channels permuted, linear weights transposed) and {@code weights.onnx} (the index: a graph whose initializers point
 * into it) are written to a cache directory named by the SHA-256 of the weights files and the architecture; then
 * each input shape's graph, {@code HxW.onnx} (a few hundred kB), refers to the same data. Every file is written
 * under a temporary name and renamed. ONNX Runtime reads the data itself, re-lays the convolution weights and drops
 * what it no longer needs, so the Java heap never holds more than one tensor and the weights are not held twice.
 *
 * <p>Graphs have static shapes: one session per input shape, and only the newest is kept (the tiles of an image all
 * have the tile's shape; images that fit one tile and differ in size each pay {@link #sessionSeconds()} again).
 * These graphs carry {@link OnnxOps.Rewrites} (by default {@link #REWRITES}), which name their files.
 */
public final class OrtNetwork implements Upscaler.Network, AutoCloseable {
    /** Where ONNX Runtime runs. */
    public enum Device { CPU, CUDA }

    /** The ONNX Runtime release this build ships (the Java API's jar). */
    public static final String ORT_VERSION = "1.29.0";

    /** Bumped whenever the graph or the data layout written to the cache changes. */
    static final String CACHE_FORMAT = "adcsr-onnx-cache/1";
    /** The rewrites of the graphs adcsr-upscale runs (chosen by measurement, README). */
    public static final OnnxOps.Rewrites REWRITES = new OnnxOps.Rewrites(true, true);
    static final String INDEX = "weights.onnx";
    static final String DATA = "weights.data";
    /** Metadata of caches from before implausible weights were refused at load (such caches are refused). */
    private static final String IMPLAUSIBLE_KEY = "adcsr.implausible_weight";

    private final AdcsrConfig config;
    private final Path dir;
    private final int threads;
    private final Device device;
    private final OnnxOps.Rewrites rewrites;
    private final OrtEnvironment env;
    /** Parameter initializers by name, as the index stores them (external references into {@link #DATA}). */
    private final Map<String, TensorProto> weights;
    /** The first implausibly large weight ("name holds V at element I"), or null. */
    private final boolean written;
    private OrtSession session;
    private long[] sessionShape;
    private double sessionSeconds;

    private OrtNetwork(AdcsrConfig config, Path dir, int threads, Device device, OnnxOps.Rewrites rewrites,
            boolean written) throws IOException {
        this.config = config;
        this.rewrites = rewrites;
        this.dir = dir;
        this.threads = threads;
        this.device = device;
        this.written = written;
        this.env = OrtEnvironment.getEnvironment();
        ModelProto index;
        try (InputStream in = Files.newInputStream(dir.resolve(INDEX))) {
            index = ModelProto.parseFrom(in);
        }
        Set<String> names = parameterNames(config);
        this.weights = index.getGraph().getInitializerList().stream().filter(t -> names.contains(t.getName()))
                .collect(Collectors.toMap(TensorProto::getName, t -> t, (a, b) -> a, LinkedHashMap::new));
        if (!weights.keySet().equals(names)) {
            throw new IllegalStateException(dir.resolve(INDEX) + " lacks parameters of " + config.name());
        }
        // caches written before weights beyond float16's range were refused at load carry the first such weight
        String implausible = index.getMetadataPropsList().stream().filter(e -> e.getKey().equals(IMPLAUSIBLE_KEY))
                .map(StringStringEntryProto::getValue).findFirst().orElse(null);
        if (implausible != null) {
            throw BadInputException.of(dir, "cached from a corrupt weights file: " + implausible + ", beyond"
                    + " float16's 65504 (delete this directory)");
        }
    }

    private static Set<String> parameterNames(AdcsrConfig config) {
        return AdcsrModel.parameterList(config).stream().map(TensorInfo::name).collect(Collectors.toSet());
    }

    /**
     * The network over {@code source} (already checked key by key and shape by shape), its weights cached under
     * {@code cacheRoot}/{@code key}: written from {@code source} unless there already, with weights holding NaN,
     * infinity or values beyond float16's range refused as {@link AdcsrModel#load} refuses them.
     *
     * @param key {@link #cacheKey} of the files behind {@code source} and {@code config}
     * @param threads intra-op threads of every session
     */
    public static OrtNetwork open(AdcsrConfig config, TensorSource source, Path cacheRoot, String key, int threads,
            Device device) {
        checkDevice(device);
        return open(config, name -> AdcsrModel.readFinite(source, name), cacheRoot.resolve(key), threads, device,
                REWRITES);
    }

    /**
     * A network over parameter values by checkpoint key, cached in {@code dir} (tests and benchmarks: a DJL model's
     * values), its graphs with {@code rewrites}.
     */
    public static OrtNetwork fromParameters(AdcsrConfig config, Function<String, float[]> params, Path dir,
            int threads, Device device, OnnxOps.Rewrites rewrites) {
        return open(config, params, dir, threads, device, rewrites);
    }

    private static OrtNetwork open(AdcsrConfig config, Function<String, float[]> params, Path dir, int threads,
            Device device, OnnxOps.Rewrites rewrites) {
        try {
            boolean write = !Files.isRegularFile(dir.resolve(INDEX));
            if (write) {
                writeWeights(config, params, dir);
            }
            return new OrtNetwork(config, dir, threads, device, rewrites, write);
        } catch (IOException e) {
            throw BadInputException.of(dir, "cannot write or read ONNX Runtime's cached weights (" + e.getMessage()
                    + ")", e);
        }
    }

    /** Writes the index and data into a fresh directory beside {@code dir}, then renames it to {@code dir}. */
    private static void writeWeights(AdcsrConfig config, Function<String, float[]> params, Path dir)
            throws IOException {
        Files.createDirectories(dir.toAbsolutePath().getParent());
        Path tmp = Files.createTempDirectory(dir.toAbsolutePath().getParent(), "." + dir.getFileName() + ".");
        try {
            Set<String> names = parameterNames(config);
            // the smallest graph: the parameters' values do not depend on the input size
            int m = config.sizeMultiple();
            Graph g = OnnxExport.build(config, m, m, params);
            g.inits.keySet().retainAll(names);
            Path index = tmp.resolve(INDEX);
            g.write(index, DATA, OnnxExport.FLOAT, List.of(), Map.of());
            try {
                Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                // another process wrote the same weights meanwhile: theirs are as good
            }
        } finally {
            if (Files.exists(tmp)) {
                try (Stream<Path> files = Files.walk(tmp)) {
                    for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    /**
     * The cache key of a model: SHA-256 over the cache format, the architecture and the bytes of every file the
     * weights come from (in order), as hex.
     */
    public static String cacheKey(AdcsrConfig config, List<Path> files) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((CACHE_FORMAT + "\n" + config.toJson() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            byte[] buf = new byte[1 << 20];
            for (Path f : files) {
                try (InputStream in = Files.newInputStream(f)) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        sha.update(buf, 0, n);
                    }
                } catch (IOException e) {
                    throw BadInputException.of(f, "cannot read (" + e.getMessage() + ")", e);
                }
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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

    /** Loaded weights are finite and plausible ({@link AdcsrModel#readFinite}), so the engine is at fault. */
    private RuntimeException nonFinite() {
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
        Path model = dir.resolve(height + "x" + width + rewrites.tag() + ".onnx");
        try {
            if (!Files.isRegularFile(model)) {
                Graph g = OnnxExport.build(config, height, width, name -> {
                    throw new IllegalStateException("parameter " + name + " is in " + DATA);
                }, rewrites);
                ModelProto p = g.withInitializers("adcsr-upscale", OnnxExport.FLOAT, Map.of(),
                        init -> weights.get(init.name()));
                AtomicFiles.writeStream(model, p::writeTo);
            }
            try (OrtSession.SessionOptions o = options()) {
                session = env.createSession(model.toString(), o);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not build the " + width + "x" + height
                    + " session from " + model + ": " + e.getMessage(), e);
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
        if (device == Device.CUDA) {
            o.addCUDA(0);
        }
        return o;
    }

    /** Seconds spent building sessions so far (graph, ONNX Runtime's optimisation and weight re-layout). */
    public double sessionSeconds() {
        return sessionSeconds;
    }

    /** Whether this run wrote the cached weights (else it found them). */
    public boolean wroteCache() {
        return written;
    }

    /** The cache directory of these weights. */
    public Path cacheDir() {
        return dir;
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
    }
}
