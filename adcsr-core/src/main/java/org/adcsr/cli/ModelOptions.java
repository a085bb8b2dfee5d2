package org.adcsr.cli;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.torch.PicklePolicy;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.DefaultModel;
import org.adcsr.core.model.ModelFiles;
import picocli.CommandLine.Option;

/** Options naming a trained model: {@code @Mixin ModelOptions model;}. */
public class ModelOptions {
    @Option(names = "--weights", paramLabel = "FILE",
            description = "Model weights: our .safetensors file, or the official net_params_*.pkl (then give "
                    + "--decoder too). Read as data; nothing in the file is executed. Default: the embedded default "
                    + "model, a small AdcSR network trained by this suite (--version names it).")
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
            description = "Architecture as JSON, or paper for the paper's (default: from the weights file's "
                    + "metadata, else the paper's; a file named paper: give ./paper).")
    Path config;

    /** The architecture given by --config, or null. */
    public AdcsrConfig config() {
        if (config == null) {
            return null;
        }
        if (config.toString().equals("paper")) {
            return AdcsrConfig.paper();
        }
        return AdcsrConfig.read(config);
    }

    /** Whether --weights was given (else the default model is used). */
    public boolean hasWeights() {
        return weights != null;
    }

    /** The weights file: --weights, else the embedded default model's file. */
    public Path weights() {
        if (weights != null) {
            return weights;
        }
        if (decoder != null) {
            throw new UsageException("--decoder needs --weights (the default model has its decoder)");
        }
        return DefaultModel.path();
    }

    /** How reports and messages name the weights: the --weights file, or the default model by its name. */
    public String label() {
        if (weights != null) {
            return weights.toString();
        }
        return "default model " + DefaultModel.card(weights()).getOrDefault("name", "(unnamed)");
    }

    /**
     * The model card of the weights ({@code adcsr.card.*} metadata, as {@link DefaultModel#pack} writes it); empty
     * for weights that are not a safetensors file or have none.
     */
    public java.util.Map<String, String> card() {
        Path w = weights();
        return w.getFileName().toString().endsWith(".safetensors") && java.nio.file.Files.isRegularFile(w)
                ? DefaultModel.card(w) : java.util.Map.of();
    }

    public Path decoder() {
        return decoder;
    }

    /** How pickle globals outside the whitelist are treated, as --allow-unknown-globals says. */
    public PicklePolicy picklePolicy() {
        return allowUnknownGlobals ? PicklePolicy.allowingUnknownClasses()
                : PicklePolicy.strictWithHint(" (if it is a data-only class, --allow-unknown-globals accepts it)");
    }

    /** Loads the model (--weights, else the default model). */
    public AdcsrModel load(NDManager manager, DataType type) {
        Path file = weights();
        AdcsrConfig c = config();
        try {
            return ModelFiles.load(file, decoder, c, manager, type, picklePolicy());
        } catch (BadInputException e) {
            throw withConfigHint(e, c);
        }
    }

    /**
     * Opens the model's files as one checked view and hands it with the architecture to {@code user}
     * ({@link ModelFiles#read}).
     */
    public <T> T read(java.util.function.BiFunction<org.adcsr.core.io.TensorSource, AdcsrConfig, T> user) {
        Path file = weights();
        AdcsrConfig c = config();
        try {
            return ModelFiles.read(file, decoder, c, picklePolicy(), user);
        } catch (BadInputException e) {
            throw withConfigHint(e, c);
        }
    }

    /** Checks the weights' keys and shapes against the architecture (no tensor data read); returns the architecture. */
    public AdcsrConfig check() {
        AdcsrConfig c = config();
        try {
            return ModelFiles.check(weights(), decoder, c, picklePolicy());
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
