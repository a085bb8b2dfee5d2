package org.adcsr.qnn;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model with ONNX Runtime (CPU, graph optimisations off so the graph runs as exported) and keeps the min and
 * max of chosen tensors over every run. Tensors are requested in groups of bounded size, so the calibration of a
 * full-size model never holds all activations at once.
 */
final class Calibration implements AutoCloseable {
    /** Most bytes of requested tensors per run. */
    static long maxBytesPerRun = 256L << 20;

    record Range(double min, double max) {
        Range merge(double lo, double hi) {
            return new Range(Math.min(min, lo), Math.max(max, hi));
        }

        double absMax() {
            return Math.max(Math.abs(min), Math.abs(max));
        }
    }

    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final List<List<String>> groups = new ArrayList<>();
    final Map<String, Range> ranges = new LinkedHashMap<>();

    /**
     * @param model an ONNX file whose graph outputs include {@code tensors}
     * @param shapes shapes of the tensors (for grouping)
     */
    Calibration(Path model, List<String> tensors, Map<String, long[]> shapes, int threads) throws OrtException {
        session = open(env, model, threads);
        List<String> cur = new ArrayList<>();
        long bytes = 0;
        for (String t : tensors) {
            long b = 4;
            for (long d : shapes.get(t)) {
                b *= d;
            }
            if (!cur.isEmpty() && bytes + b > maxBytesPerRun) {
                groups.add(cur);
                cur = new ArrayList<>();
                bytes = 0;
            }
            cur.add(t);
            bytes += b;
        }
        if (!cur.isEmpty()) {
            groups.add(cur);
        }
    }

    static OrtSession open(OrtEnvironment env, Path model, int threads) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        // no arena and no memory pattern: ORT then frees each buffer when done instead of keeping a high-water pool
        o.setCPUArenaAllocator(false);
        o.setMemoryPatternOptimization(false);
        return env.createSession(model.toString(), o); // by path: the weights are external data
    }

    /** Runs one input and folds the tensors' ranges in; returns the requested tensors in {@code keep}. */
    Map<String, float[]> run(String input, float[] x, long[] shape, Set<String> keep) throws OrtException {
        Map<String, float[]> kept = new LinkedHashMap<>();
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape)) {
            for (List<String> group : groups) {
                Set<String> req = new LinkedHashSet<>(group);
                try (OrtSession.Result r = session.run(Map.of(input, in), req)) {
                    for (String t : group) {
                        FloatBuffer fb = ((OnnxTensor) r.get(t).orElseThrow()).getFloatBuffer();
                        double lo = Double.POSITIVE_INFINITY;
                        double hi = Double.NEGATIVE_INFINITY;
                        while (fb.hasRemaining()) {
                            float v = fb.get();
                            lo = Math.min(lo, v);
                            hi = Math.max(hi, v);
                        }
                        Range old = ranges.get(t);
                        ranges.put(t, old == null ? new Range(lo, hi) : old.merge(lo, hi));
                        if (keep.contains(t)) {
                            fb.rewind();
                            float[] a = new float[fb.remaining()];
                            fb.get(a);
                            kept.put(t, a);
                        }
                    }
                }
            }
        }
        return kept;
    }

    /** Runs a model once and returns one output. */
    static float[] runOnce(OrtSession s, String input, float[] x, long[] shape, String output) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
             OrtSession.Result r = s.run(Map.of(input, in), Set.of(output))) {
            FloatBuffer fb = ((OnnxTensor) r.get(output).orElseThrow()).getFloatBuffer();
            float[] a = new float[fb.remaining()];
            fb.get(a);
            return a;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
