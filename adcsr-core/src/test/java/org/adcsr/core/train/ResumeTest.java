package org.adcsr.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Rng;
import org.adcsr.core.engine.Autograd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run stopped after a checkpoint and resumed from it ends with the same bytes as one that never stopped: weights,
 * optimizer moments, step counts, random state and train.csv; bad checkpoints are refused naming the file.
 */
class ResumeTest {
    @TempDir
    Path tmp;

    /** A toy regression trained with Adam, its batches drawn from a seeded Rng; logs every step. */
    static final class Toy implements AutoCloseable {
        final NDManager m = NDManager.newBaseManager();
        final ParameterStore store = new ParameterStore(m);
        final Adam opt;
        Rng rng;
        long step;

        Toy() {
            Rng init = new Rng(5);
            store.add("layer.weight", m.create(values(init, 12), new Shape(4, 3)), true);
            store.add("layer.bias", m.create(values(init, 4), new Shape(4)), true);
            store.add("frozen.scale", m.create(values(init, 4), new Shape(4)), false);
            opt = new Adam("main", Adam.Settings.ldm(), store, store.trainable());
            rng = new Rng(99);
        }

        static float[] values(Rng r, int n) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) r.nextGaussian();
            }
            return v;
        }

        /** One step; returns the loss. */
        double step(LrSchedule lr) {
            step++;
            NDArray x = m.create(values(rng, 8 * 3), new Shape(8, 3));
            NDArray y = m.create(values(rng, 8 * 4), new Shape(8, 4));
            if (step > 1) {
                store.zeroGradients();
            }
            double loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray pred = x.matMul(store.get("layer.weight").transpose()).add(store.get("layer.bias"))
                        .mul(store.get("frozen.scale"));
                NDArray l = pred.sub(y).square().mean();
                loss = l.getFloat();
                Autograd.backward(gc, l);
            }
            Gradients.clipGlobalNorm(store, 1.0);
            opt.step(lr.lr(step));
            return loss;
        }

        Path checkpoint(Path run) throws IOException {
            return Checkpoints.save(run, step, store, List.of(opt), Map.of("data", rng.state()),
                    Map.of("note", "toy"), 2);
        }

        void resume(Path file) {
            Checkpoints.State s = Checkpoints.load(file, store, List.of(opt));
            step = s.step();
            rng = Rng.restore(s.rngs().get("data"));
            assertEquals("toy", s.metadata().get("note"));
        }

        @Override
        public void close() {
            store.close();
            m.close();
        }
    }

    static void train(Toy toy, Path run, long to, long checkpointAt) throws IOException {
        LrSchedule lr = LrSchedule.warmup(LrSchedule.constant(0.05), 2);
        try (MetricsLog log = MetricsLog.open(run.resolve("train.csv"), List.of("step", "loss", "lr"), toy.step)) {
            while (toy.step < to) {
                double loss = toy.step(lr);
                log.append(toy.step, loss, lr.lr(toy.step));
                if (toy.step == checkpointAt) {
                    toy.checkpoint(run);
                }
            }
        }
    }

    @Test
    void stoppedAndResumedEqualsUninterrupted() throws IOException {
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        Files.createDirectories(straight);
        Files.createDirectories(resumed);
        float[] w;
        float[] m;
        try (Toy toy = new Toy()) {
            train(toy, straight, 8, 4);
            w = toy.store.get("layer.weight").toFloatArray();
            m = toy.opt.expAvgSq().get("layer.bias").toFloatArray();
        }
        try (Toy first = new Toy()) {
            train(first, resumed, 6, 4); // killed after step 6: steps 5 and 6 are lost, their log rows too
        }
        try (Toy second = new Toy()) {
            second.resume(Checkpoints.latest(resumed));
            assertEquals(4, second.step);
            train(second, resumed, 8, -1);
            assertArrayEquals(w, second.store.get("layer.weight").toFloatArray());
            assertArrayEquals(m, second.opt.expAvgSq().get("layer.bias").toFloatArray());
            assertEquals(8, second.opt.steps());
        }
        assertEquals(Files.readString(straight.resolve("train.csv")), Files.readString(resumed.resolve("train.csv")));
        assertEquals(9, Files.readAllLines(resumed.resolve("train.csv")).size());
    }

    @Test
    void theNewestCheckpointsAreKeptAndNoTemporariesRemain() throws IOException {
        try (Toy toy = new Toy()) {
            for (int i = 0; i < 5; i++) {
                toy.step(LrSchedule.constant(0.01));
                toy.checkpoint(tmp);
            }
        }
        assertEquals(List.of(4L, 5L), List.copyOf(Checkpoints.list(tmp).keySet()));
        try (Stream<Path> files = Files.list(Checkpoints.directory(tmp))) {
            assertEquals(List.of("step-00000004.safetensors", "step-00000005.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList()));
        }
    }

    @Test
    void aCheckpointOfAnotherModelIsRefusedNamingTheFileAndKey() throws IOException {
        Path file;
        try (Toy toy = new Toy()) {
            toy.step(LrSchedule.constant(0.01));
            file = toy.checkpoint(tmp);
        }
        try (NDManager m = NDManager.newBaseManager(); ParameterStore other = new ParameterStore(m)) {
            other.add("layer.weight", m.zeros(new Shape(4, 5)), true);
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Checkpoints.load(file, other, List.of()));
            assertEquals(file + ": layer.weight has shape [4, 3], the run needs [4, 5]", e.getMessage());
            other.add("extra.bias", m.zeros(new Shape(2)), true);
        }
        try (NDManager m = NDManager.newBaseManager(); ParameterStore other = new ParameterStore(m)) {
            other.add("layer.weight", m.zeros(new Shape(4, 3)), true);
            other.add("extra.bias", m.zeros(new Shape(2)), true);
            BadInputException e = assertThrows(BadInputException.class,
                    () -> Checkpoints.load(file, other, List.of()));
            assertEquals(file + ": checkpoint lacks extra.bias", e.getMessage());
        }
    }

    @Test
    void aTruncatedCheckpointIsABadInput() throws IOException {
        Path file;
        try (Toy toy = new Toy()) {
            toy.step(LrSchedule.constant(0.01));
            file = toy.checkpoint(tmp);
            byte[] bytes = Files.readAllBytes(file);
            Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 20));
            assertThrows(BadInputException.class, () -> toy.resume(file));
        }
    }

    @Test
    void aLogWithOtherColumnsIsRefusedAndACutRowIsDropped() throws IOException {
        Path csv = tmp.resolve("train.csv");
        Files.writeString(csv, "step,loss\n1,0.5\n2,0.25\n3,0.1", StandardCharsets.UTF_8);
        assertThrows(BadInputException.class, () -> MetricsLog.open(csv, List.of("step", "loss", "lr"), 2));
        Files.writeString(csv, "step,loss\n1,0.5\n2,0.25\n3,0.\n", StandardCharsets.UTF_8);
        try (MetricsLog log = MetricsLog.open(csv, List.of("step", "loss"), 2)) {
            log.append(3, 0.125);
        }
        assertEquals("step,loss\n1,0.5\n2,0.25\n3,0.125\n", Files.readString(csv));
        try (MetricsLog log = MetricsLog.open(csv, List.of("step", "loss"), 0)) {
            assertFalse(Files.readString(csv).contains("0.5"));
        }
        assertTrue(Files.readString(csv).startsWith("step,loss\n"));
    }

    @Test
    void schedules() {
        LrSchedule multi = LrSchedule.multiStep(1.0, new long[] {3, 5}, 0.1);
        assertEquals(1.0, multi.lr(1));
        assertEquals(1.0, multi.lr(3));
        assertEquals(0.1, multi.lr(4), 1e-15);
        assertEquals(0.01, multi.lr(6), 1e-15);
        LrSchedule warm = LrSchedule.warmup(LrSchedule.constant(2.0), 4);
        assertEquals(0.5, warm.lr(1));
        assertEquals(2.0, warm.lr(4));
        assertEquals(2.0, warm.lr(100));
        assertEquals(1.3e-6, LrSchedule.constant(1.3e-6).lr(123456));
    }
}
