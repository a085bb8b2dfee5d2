package org.adcsr.qnn;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import onnx.Onnx.ModelProto;
import org.adcsr.onnx.Graph;

/**
 * Activation ranges with ONNX Runtime (CPU, graph optimisations off, so the graph runs as exported). ONNX Runtime
 * returns any declared graph output but keeps every declared output alive for the whole run, so the tensors are
 * split into groups of bounded size, and each group gets its own variant of the model (sharing the external data
 * file) that declares only that group as outputs; every tile runs once per group.
 */
final class Calibration {
    /** Most bytes of declared outputs per variant. */
    static long maxBytesPerGroup = 1L << 30;

    record Range(double min, double max) {
        Range merge(double lo, double hi) {
            return new Range(Math.min(min, lo), Math.max(max, hi));
        }

        double absMax() {
            return Math.max(Math.abs(min), Math.abs(max));
        }
    }

    private Calibration() {
    }

    static OrtSession open(OrtEnvironment env, Path model, int threads) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        // no arena and no memory pattern: ORT frees each buffer when done instead of keeping a high-water pool
        o.setCPUArenaAllocator(false);
        o.setMemoryPatternOptimization(false);
        return env.createSession(model.toString(), o); // by path: the weights are external data
    }

    static List<List<String>> groups(List<String> tensors, Map<String, long[]> shapes) {
        List<List<String>> groups = new ArrayList<>();
        List<String> cur = new ArrayList<>();
        long bytes = 0;
        for (String t : tensors) {
            long b = 4;
            for (long d : shapes.get(t)) {
                b *= d;
            }
            if (!cur.isEmpty() && bytes + b > maxBytesPerGroup) {
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
        return groups;
    }

    /**
     * The min and max of {@code tensors} over all tiles.
     *
     * @param base the written float model (in {@code dir}, with its external data there)
     * @param kept called with (tile index, values) for the tensor {@code keep} (the goldens)
     * @param progress called with (runs done, runs in all)
     */
    static Map<String, Range> ranges(Graph g, ModelProto base, Path dir, List<String> tensors, String input,
            List<float[]> tiles, long[] shape, int threads, String keep, BiConsumer<Integer, float[]> kept,
            BiConsumer<Long, Long> progress) throws IOException, OrtException {
        Map<String, Range> ranges = new LinkedHashMap<>();
        List<List<String>> groups = groups(tensors, g.shapes);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Path variant = dir.resolve("calibration.onnx");
        long done = 0;
        long total = (long) groups.size() * tiles.size();
        for (List<String> group : groups) {
            try (OutputStream os = Files.newOutputStream(variant)) {
                g.withOutputs(base, group, true).writeTo(os);
            }
            try (OrtSession s = open(env, variant, threads)) {
                for (int i = 0; i < tiles.size(); i++) {
                    try (OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(tiles.get(i)), shape);
                         OrtSession.Result r = s.run(Map.of(input, in), Set.copyOf(group))) {
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
                            if (t.equals(keep)) {
                                fb.rewind();
                                float[] a = new float[fb.remaining()];
                                fb.get(a);
                                kept.accept(i, a);
                            }
                        }
                    }
                    progress.accept(++done, total);
                }
            }
        }
        Files.deleteIfExists(variant);
        return ranges;
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
}
