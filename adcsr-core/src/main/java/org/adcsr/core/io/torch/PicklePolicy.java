package org.adcsr.core.io.torch;

/**
 * What the unpickler does with a global that is neither a whitelisted constructor nor a known data class.
 *
 * <p>Under {@link #STRICT} (the default, as strict as torch's {@code weights_only=True}) every such global refuses the
 * whole file. {@link #allowingUnknownClasses} lets unknown globals stand as inert placeholders for classes that are
 * instantiated (NEWOBJ) and given state (BUILD), but calling one (REDUCE) is still refused, and the globals of modules
 * that can run code ({@code os}, {@code subprocess}, {@code builtins.eval}, …) are refused under every policy.
 *
 * @param allowUnknownClasses whether unknown globals may stand as data-only placeholders
 * @param unknownHint         appended to the refusal of an unknown global (how the user can accept it), or empty
 */
public record PicklePolicy(boolean allowUnknownClasses, String unknownHint) {
    /** Refuse every global outside the whitelist and the known data classes. */
    public static final PicklePolicy STRICT = new PicklePolicy(false, "");

    public PicklePolicy {
        unknownHint = unknownHint == null ? "" : unknownHint;
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
