package org.adcsr.core.io.torch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An inert stand-in for a pickled global that is not on the whitelist (a class or function of some module), or for
 * the result of "calling" one. It records the module and name, and for a call its arguments and any state given by
 * BUILD, all as plain data; nothing is imported or run. Instances of unknown {@code dict} or {@code list} subclasses
 * (Lightning's {@code AttributeDict}) also keep the items that SETITEMS or APPENDS add.
 *
 * <p>Equality is identity, so a placeholder can be a dict key (Lightning uses callback classes as keys).
 */
public final class Placeholder {
    private final String module;
    private final String name;
    private final boolean instance;
    private final List<Object> args;
    private final Map<Object, Object> kwargs;
    private final Standing standing;
    private final String refusal;
    private Object state;
    private Map<Object, Object> dictItems;
    private List<Object> listItems;

    /** How far a placeholder's global is trusted. */
    enum Standing {
        /** A known data-only class (Lightning, OmegaConf, numpy scalars, …): may be called and built. */
        DATA,
        /** An unknown global accepted by {@link PicklePolicy#allowingUnknownClasses}: may be built, not called. */
        UNKNOWN_CLASS,
        /** A refused global: the file is refused once the pickle has been read (to name where the global sits). */
        REFUSED
    }

    private Placeholder(String module, String name, boolean instance, List<Object> args, Map<Object, Object> kwargs,
            Standing standing, String refusal) {
        this.module = module;
        this.name = name;
        this.instance = instance;
        this.args = args;
        this.kwargs = kwargs;
        this.standing = standing;
        this.refusal = refusal;
    }

    /** The placeholder for a known data-only global {@code module.name} itself. */
    static Placeholder global(String module, String name) {
        return new Placeholder(module, name, false, List.of(), Map.of(), Standing.DATA, null);
    }

    /** The placeholder for a global of the given standing; {@code refusal} says why when it is refused. */
    static Placeholder global(String module, String name, Standing standing, String refusal) {
        return new Placeholder(module, name, false, List.of(), Map.of(), standing, refusal);
    }

    /** The placeholder for calling (REDUCE) or instantiating (NEWOBJ) this one. */
    Placeholder call(PyTuple callArgs, Map<Object, Object> callKwargs) {
        return new Placeholder(module, name, true, callArgs, Collections.unmodifiableMap(callKwargs), standing,
                refusal);
    }

    /** The placeholder for calling (REDUCE) this one when the call itself is refused. */
    Placeholder refusedCall(PyTuple callArgs, String why) {
        return new Placeholder(module, name, true, callArgs, Map.of(), Standing.REFUSED, why);
    }

    Standing standing() {
        return standing;
    }

    /** Why this global is refused, or {@code null} when it is not. */
    String refusal() {
        return refusal;
    }

    void setState(Object newState) {
        this.state = newState;
    }

    void putItem(Object key, Object value) {
        if (dictItems == null) {
            dictItems = new LinkedHashMap<>();
        }
        dictItems.put(key, value);
    }

    void addItem(Object item) {
        if (listItems == null) {
            listItems = new ArrayList<>();
        }
        listItems.add(item);
    }

    public String module() {
        return module;
    }

    public String name() {
        return name;
    }

    /** {@code module.name}. */
    public String qualifiedName() {
        return module + "." + name;
    }

    /** Whether this stands for the result of a call or instantiation rather than the global itself. */
    public boolean isInstance() {
        return instance;
    }

    /** Positional arguments of the call (empty for the global itself). */
    public List<Object> args() {
        return args;
    }

    /** Keyword arguments (from NEWOBJ_EX; usually empty). */
    public Map<Object, Object> kwargs() {
        return kwargs;
    }

    /** The state given by BUILD (typically the object's {@code __dict__}), or {@code null}. */
    public Object state() {
        return state;
    }

    /** Items set by SETITEM(S), as for an instance of a {@code dict} subclass; empty when none. */
    public Map<Object, Object> dictItems() {
        return dictItems == null ? Map.of() : Collections.unmodifiableMap(dictItems);
    }

    /** Items added by APPEND(S), as for an instance of a {@code list} subclass; empty when none. */
    public List<Object> listItems() {
        return listItems == null ? List.of() : Collections.unmodifiableList(listItems);
    }

    @Override
    public String toString() {
        return (instance ? "<instance of " : "<global ") + qualifiedName() + ">";
    }
}
