package org.adcsr.core.io.torch;

/**
 * What the unpickler does with a global that is neither a whitelisted constructor nor a known data class.
 *
 * <p>Under {@link #STRICT} (the default, as strict as torch's {@code weights_only=True}) every such global refuses the
 * whole file. {@link #allowingUnknownClasses} lets unknown globals stand as inert placeholders for classes that are
 * instantiated (NEWOBJ) and given state (BUILD), but calling one (REDUCE) is still refused, and the globals of modules
 * that can run code ({@code os}, {@code subprocess}, {@code builtins.eval}, …) are refused under every policy.
 *
 * <p>{@link #torchScript} reads the {@code data.pkl} of a TorchScript archive ({@code torch.jit.save}, OpenAI's CLIP
 * files): its module objects are globals of the compiled classes, {@code __torch__.<module path> <Class>}, which stand
 * as inert placeholders that may be instantiated and given state but not called, and the list tags of
 * {@code torch.jit._pickle} ({@code build_intlist}, {@code build_tensorlist}, {@code build_doublelist},
 * {@code build_boollist}, {@code restore_type_tag}) return their data argument. The archive's {@code code/} is never
 * read; every other global is treated as under {@link #STRICT}.
 *
 * @param allowUnknownClasses whether unknown globals may stand as data-only placeholders
 * @param unknownHint         appended to the refusal of an unknown global (how the user can accept it), or empty
 * @param torchScriptClasses  whether TorchScript's {@code __torch__.*} classes and {@code torch.jit._pickle} list tags
 *                            are accepted as data
 */
public record PicklePolicy(boolean allowUnknownClasses, String unknownHint, boolean torchScriptClasses) {
    /** Refuse every global outside the whitelist and the known data classes. */
    public static final PicklePolicy STRICT = new PicklePolicy(false, "");

    public PicklePolicy {
        unknownHint = unknownHint == null ? "" : unknownHint;
    }

    /** A policy for ordinary {@code torch.save} pickles. */
    public PicklePolicy(boolean allowUnknownClasses, String unknownHint) {
        this(allowUnknownClasses, unknownHint, false);
    }

    /** {@link #STRICT} plus TorchScript's module classes and list tags, for the {@code data.pkl} of a TorchScript archive. */
    public static PicklePolicy torchScript() {
        return new PicklePolicy(false, "", true);
    }

    /** Unknown globals may be data-only classes; callables and code-running modules are still refused. */
    public static PicklePolicy allowingUnknownClasses() {
        return new PicklePolicy(true, "");
    }

    /** {@link #STRICT}, with a hint saying how to accept an unknown data class (an option of the tool). */
    public static PicklePolicy strictWithHint(String hint) {
        return new PicklePolicy(false, hint);
    }
}
