package org.adcsr.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * The run options every training tool shares: {@code @Mixin TrainOptions train;}. A run lives in one directory:
 * {@code -o OUT} starts it, {@code --resume OUT} continues it from its newest checkpoint with the settings stored in
 * {@code OUT/run.settings}, where only the length and the checkpointing may change.
 */
public class TrainOptions {
    /** Checkpoint interval and how many are kept when neither the command line nor the run says. */
    public static final int DEFAULT_CHECKPOINT_EVERY = 1000;
    public static final int DEFAULT_KEEP = 3;

    @Option(names = {"-o", "--output"}, paramLabel = "OUT", description = "The run directory (must not exist).")
    Path out;

    @Option(names = "--resume", paramLabel = "OUT", description = "Continue the run in OUT from its newest"
            + " checkpoint, with the settings (and inputs) stored in OUT/run.settings; only --steps (to raise the"
            + " total), --checkpoint-every and --keep may be given with it.")
    Path resume;

    @Option(names = "--steps", paramLabel = "N", converter = Values.PositiveLong.class,
            description = "Total training steps (required for a new run).")
    Long steps;

    @Option(names = "--checkpoint-every", paramLabel = "N", converter = Values.Positive.class,
            description = "Steps between checkpoints (default: 1000, or the resumed run's; one is always written at"
                    + " the end and on Ctrl-C or SIGTERM).")
    Integer checkpointEvery;

    @Option(names = "--keep", paramLabel = "K", converter = Values.Positive.class,
            description = "Checkpoints kept (default: 3, or the resumed run's).")
    Integer keep;

    /** The options {@code --resume} may be given with (and the common ones, which never change a run). */
    static final Set<String> RESUME_OPTIONS = Set.of("--resume", "--steps", "--checkpoint-every", "--keep");

    public Path out() {
        return out;
    }

    public Path resume() {
        return resume;
    }

    /** The run directory: OUT of {@code -o} or of {@code --resume}. */
    public Path run() {
        return resume != null ? resume : out;
    }

    /** {@code --steps}, or null when not given. */
    public Long steps() {
        return steps;
    }

    /** {@code --steps} of a new run, where it is required. */
    public long newRunSteps() {
        if (steps == null) {
            throw new UsageException("--steps N is required for a new run");
        }
        return steps;
    }

    /** {@code --checkpoint-every}, else the stored run's ({@code stored} may be null: a new run), else 1000. */
    public int checkpointEvery(Properties stored) {
        return checkpointEvery != null ? checkpointEvery : storedInt(stored, "checkpoint_every",
                DEFAULT_CHECKPOINT_EVERY);
    }

    /** {@code --keep}, else the stored run's, else 3. */
    public int keep(Properties stored) {
        return keep != null ? keep : storedInt(stored, "keep", DEFAULT_KEEP);
    }

    private static int storedInt(Properties stored, String key, int otherwise) {
        String v = stored == null ? null : stored.getProperty(key);
        return v == null ? otherwise : Integer.parseInt(v.trim());
    }

    /**
     * Refuses a command line that gives neither or both of {@code -o} and {@code --resume}, or that gives with
     * {@code --resume} an option that would change the run (anything but this mixin's, the common options and
     * {@code alsoAllowed}, such as where to find weights that are not part of the run).
     *
     * @param positional a description of positional arguments given, or null (they are a new run's inputs)
     */
    public void check(CommandSpec spec, String positional, String... alsoAllowed) {
        if ((out == null) == (resume == null)) {
            throw new UsageException("give -o OUT for a new run or --resume OUT to continue one");
        }
        if (resume == null) {
            return;
        }
        Set<String> allowed = new HashSet<>(RESUME_OPTIONS);
        allowed.addAll(List.of(alsoAllowed));
        Set<OptionSpec> common = new HashSet<>(spec.mixins().get("common").options());
        List<String> refused = new ArrayList<>();
        for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
            if (!common.contains(o) && !allowed.contains(o.longestName())) {
                refused.add(o.longestName());
            }
        }
        if (positional != null) {
            refused.add(positional);
        }
        if (!refused.isEmpty()) {
            throw new UsageException("--resume continues with the settings in " + resume.resolve("run.settings")
                    + "; " + String.join(", ", refused) + " cannot change them (start a new run with -o)");
        }
    }
}
