package org.adcsr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Properties;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

class TrainOptionsTest {
    @Command(name = "t")
    static class Tool implements Callable<Integer> {
        @Mixin
        CommonOptions common;

        @Mixin
        TrainOptions train;

        @Spec
        CommandSpec spec;

        @Option(names = "--lr")
        double lr;

        @Option(names = "--weights-dir")
        String weightsDir;

        @Override
        public Integer call() {
            return 0;
        }
    }

    static Tool parse(String... args) {
        Tool t = new Tool();
        new CommandLine(t).parseArgs(args);
        return t;
    }

    @Test
    void checkpointingComesFromTheCommandLineElseTheRunElseTheDefaults() {
        Properties stored = new Properties();
        stored.setProperty("checkpoint_every", "50");
        stored.setProperty("keep", "5");
        Tool given = parse("--resume", "run", "--checkpoint-every", "7", "--keep", "2");
        assertEquals(7, given.train.checkpointEvery(stored));
        assertEquals(2, given.train.keep(stored));
        Tool resumed = parse("--resume", "run");
        assertEquals(50, resumed.train.checkpointEvery(stored));
        assertEquals(5, resumed.train.keep(stored));
        assertEquals(1000, resumed.train.checkpointEvery(new Properties()), "a run from before they were stored");
        Tool fresh = parse("-o", "run", "--steps", "3");
        assertEquals(1000, fresh.train.checkpointEvery(null));
        assertEquals(3, fresh.train.keep(null));
        assertEquals(3, fresh.train.newRunSteps());
    }

    @Test
    void resumeRefusesWhatWouldChangeTheRun() {
        Tool ok = parse("--resume", "run", "--steps", "9", "--threads", "1", "-q", "--weights-dir", "w");
        ok.train.check(ok.spec, null, "--weights-dir");
        assertEquals(9L, ok.train.steps());
        Tool lr = parse("--resume", "run", "--lr", "1");
        UsageException e = assertThrows(UsageException.class, () -> lr.train.check(lr.spec, null));
        assertTrue(e.getMessage().contains("--lr cannot change them"), e.getMessage());
        Tool images = parse("--resume", "run");
        e = assertThrows(UsageException.class, () -> images.train.check(images.spec, "IMAGES"));
        assertTrue(e.getMessage().contains("IMAGES cannot change them"), e.getMessage());
        Tool neither = parse("--steps", "1");
        assertThrows(UsageException.class, () -> neither.train.check(neither.spec, null));
        Tool both = parse("-o", "a", "--resume", "b");
        assertThrows(UsageException.class, () -> both.train.check(both.spec, null));
        Tool noSteps = parse("-o", "a");
        noSteps.train.check(noSteps.spec, null);
        assertThrows(UsageException.class, noSteps.train::newRunSteps);
    }
}
