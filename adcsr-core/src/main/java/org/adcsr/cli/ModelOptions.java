package org.adcsr.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.ModelFiles;
import picocli.CommandLine.Option;

/** Options naming a trained model: {@code @Mixin ModelOptions model;}. */
public class ModelOptions {
    @Option(names = "--weights", paramLabel = "FILE",
            description = "Model weights: our .safetensors file, or the official net_params_*.pkl (then give "
                    + "--decoder too). Read as data; nothing in the file is executed.")
    Path weights;

    @Option(names = "--decoder", paramLabel = "FILE",
            description = "The Stage-1 half decoder (the official halfDecoder.ckpt, or a .safetensors with "
                    + "decoder.* keys) for weights that lack it.")
    Path decoder;

    @Option(names = "--allow-unknown-globals",
            description = "Accept pickle globals of unknown classes in a PyTorch checkpoint as inert data. Calls of "
                    + "them, and globals of modules that can run code (os, subprocess, builtins.eval, ...), are "
                    + "still refused.")
    boolean allowUnknownGlobals;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Architecture as JSON (default: from the weights file's metadata, else the paper's).")
    Path config;

    /** The architecture given by --config, or null. */
    public AdcsrConfig config() {
        if (config == null) {
            return null;
        }
        return AdcsrConfig.read(config);
    }

    public boolean hasWeights() {
        return weights != null;
    }

    public Path weights() {
        return weights;
    }

    public Path decoder() {
        return decoder;
    }

    /** How pickle globals outside the whitelist are treated, as --allow-unknown-globals says. */
    public PicklePolicy picklePolicy() {
        return allowUnknownGlobals ? PicklePolicy.allowingUnknownClasses()
                : PicklePolicy.strictWithHint(" (if it is a data-only class, --allow-unknown-globals accepts it)");
    }

    /** Loads the model; a missing --weights is a one-line error saying where the official weights are. */
    public AdcsrModel load(NDManager manager, DataType type) {
        if (weights == null) {
            throw new BadInputException("no model weights: give --weights (" + ModelFiles.OFFICIAL_WEIGHTS + ")");
        }
        AdcsrConfig c = config();
        try {
            return ModelFiles.load(weights, decoder, c, manager, type, picklePolicy());
        } catch (BadInputException e) {
            throw withConfigHint(e, c);
        }
    }

    /**
     * Opens the model's files as one checked view and hands it with the architecture to {@code user}
     * ({@link ModelFiles#read}); a missing --weights is the same one-line error as {@link #load}.
     */
    public <T> T read(java.util.function.BiFunction<org.adcsr.core.io.TensorSource, AdcsrConfig, T> user) {
        if (weights == null) {
            throw new BadInputException("no model weights: give --weights (" + ModelFiles.OFFICIAL_WEIGHTS + ")");
        }
        AdcsrConfig c = config();
        try {
            return ModelFiles.read(weights, decoder, c, picklePolicy(), user);
        } catch (BadInputException e) {
            throw withConfigHint(e, c);
        }
    }

    /** Checks the weights' keys and shapes against the architecture (no tensor data read); returns the architecture. */
    public AdcsrConfig check() {
        AdcsrConfig c = config();
        try {
            return ModelFiles.check(weights, decoder, c, picklePolicy());
        } catch (BadInputException e) {
            throw withConfigHint(e, c);
        }
    }

    /** Shape mismatches without --config most often mean weights of another architecture: say so. */
    private static BadInputException withConfigHint(BadInputException e, AdcsrConfig given) {
        String m = e.getMessage();
        if (given != null || m == null || !m.contains("shape mismatch")) {
            return e;
        }
        return new BadInputException(m + " (weights of another architecture? give it with --config FILE)", e);
    }
}
