package org.adcsr.core.io.torch;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Messages;
import org.adcsr.core.io.torch.TorchGlobals.Builtin;

/**
 * A pickle virtual machine for the data opcodes of protocols 2 to 5 that <b>executes nothing</b>.
 *
 * <p>Pickled values become plain Java objects: {@code None} → {@code null}, {@code bool} → {@link Boolean},
 * {@code int} → {@link Long} (or {@link BigInteger} beyond 64 bits), {@code float} → {@link Double}, {@code str} →
 * {@link String}, {@code bytes}/{@code bytearray} → {@code byte[]}, {@code tuple} → {@link PyTuple}, {@code list} →
 * {@link ArrayList}, {@code dict} and {@code OrderedDict} → {@link LinkedHashMap}, {@code set} → {@link LinkedHashSet},
 * {@code frozenset} → an unmodifiable set.
 *
 * <p>Globals are resolved against a fixed whitelist of side-effect-free constructors ({@code collections.OrderedDict},
 * {@code builtins.set/frozenset/slice}, {@code _codecs.encode} for latin-1, {@code torch.Size}, the
 * {@code torch._utils._rebuild_*} tensor functions and the {@code torch.*Storage} type tags). Every other global
 * becomes an inert {@link Placeholder}; REDUCE, NEWOBJ and BUILD on a placeholder yield placeholders. Persistent ids
 * are handed to a {@link PersistentLoader}.
 *
 * <p>Every resource is bounded by {@link Limits}; any violation, like any malformed input, is a
 * {@link BadInputException} naming the file and the byte offset. An instance is for one {@link #load} call.
 */
public final class SafeUnpickler {

    /**
     * Bounds on what a pickle may make the VM hold.
     *
     * @param maxPickleBytes largest accepted pickle
     * @param maxStack       most stack entries plus marks at any time
     * @param maxMemo        most memo entries
     * @param maxStringBytes longest str/bytes value, in encoded bytes
     * @param maxLongBytes   longest LONG1/LONG4 integer, in bytes
     * @param maxValues      most values pushed in total (bounds the memory held by containers)
     * @param maxNesting     deepest nesting of tuples (and, for callers that walk the result, of containers)
     */
    public record Limits(int maxPickleBytes, int maxStack, int maxMemo, int maxStringBytes, int maxLongBytes,
                         long maxValues, int maxNesting) {
        /** Generous for checkpoints (about 25 values per tensor), small enough to bound memory to about 1 GB. */
        public static final Limits DEFAULT = new Limits(256 << 20, 1 << 20, 1 << 22, 64 << 20, 4096, 16L << 20, 256);
    }

    /** Resolves a persistent id (the object after BINPERSID, or the string after PERSID) to a value. */
    @FunctionalInterface
    public interface PersistentLoader {
        /**
         * @throws BadInputException when the id is not acceptable
         */
        Object load(Object pid);
    }

    private static final int HIGHEST_PROTOCOL = 5;
    private static final int MAX_LINE = 4096;

    private final Path file;
    private final Limits limits;
    private final PersistentLoader persistentLoader;
    private final PicklePolicy policy;
    private final String pickleName;
    private Placeholder firstRefused;
    private int firstRefusedAt = -1;
    private int opStart;
    private final List<Object> stack = new ArrayList<>();
    private final IntStack marks = new IntStack();
    private final Map<Long, Object> memo = new HashMap<>();
    private byte[] in;
    private int pos;
    private long pushed;

    /**
     * @param file             the file the pickle comes from, named in error messages
     * @param limits           resource bounds
     * @param persistentLoader resolves persistent ids; if {@code null}, a persistent id is an error
     */
    public SafeUnpickler(Path file, Limits limits, PersistentLoader persistentLoader) {
        this(file, limits, persistentLoader, PicklePolicy.STRICT, null);
    }

    /**
     * @param policy     what to do with globals outside the whitelist and the known data classes
     * @param pickleName the archive entry the pickle comes from ({@code archive/data.pkl}), named in refusals; or null
     */
    public SafeUnpickler(Path file, Limits limits, PersistentLoader persistentLoader, PicklePolicy policy,
            String pickleName) {
        this.file = file;
        this.limits = limits;
        this.persistentLoader = persistentLoader;
        this.policy = policy;
        this.pickleName = pickleName;
    }

    /**
     * Runs the pickle up to its STOP opcode and returns the value it leaves.
     *
     * @throws BadInputException when the pickle is malformed, uses an unsupported opcode or exceeds a limit
     */
    public Object load(byte[] pickle) {
        if (in != null) {
            throw new IllegalStateException("an unpickler loads one pickle");
        }
        if (pickle.length > limits.maxPickleBytes()) {
            throw BadInputException.of(file, "pickle of " + pickle.length + " bytes exceeds the limit of "
                    + limits.maxPickleBytes());
        }
        in = pickle;
        int opcodeStart = 0;
        try {
            while (true) {
                opcodeStart = pos;
                opStart = pos;
                if (pos >= in.length) {
                    throw new PickleException("pickle ends without STOP");
                }
                int op = in[pos++] & 0xff;
                if (op == '.') {
                    Object result = pop();
                    if (firstRefused != null) {
                        throw refusal(RefusedFinder.pathOf(result, limits.maxNesting()));
                    }
                    return result;
                }
                execute(op);
            }
        } catch (PickleException e) {
            if (firstRefused != null) { // a refused global outranks what went wrong after it
                throw refusal(null);
            }
            throw BadInputException.of(file, "pickle byte " + opcodeStart + ": " + e.getMessage());
        }
    }

    /**
     * The one-line refusal of the first refused global: the global, where it sits in the unpickled object (the
     * dotted path of dict keys and list indices, as the checkpoint's tensors are named) and in which archive entry.
     */
    private BadInputException refusal(RefusedFinder.Found found) {
        Placeholder p = found != null ? found.placeholder() : firstRefused;
        String where;
        if (found == null) {
            where = " at pickle byte " + firstRefusedAt;
        } else if (found.path().isEmpty()) {
            where = " as the whole pickled object";
        } else {
            where = " in entry '" + Messages.clip(found.path(), 80) + "'";
        }
        String entry = pickleName == null ? "" : " of " + Messages.clip(pickleName, 60);
        return BadInputException.of(file, "refused pickle global " + Messages.clip(p.qualifiedName(), 80)
                + where + entry + ": " + p.refusal()
                + "; nothing was run");
    }

    /** Notes the first refused global (pickle order) and pushes its placeholder. */
    private void pushGlobal(String module, String name, int at) {
        Object resolved = TorchGlobals.resolve(module, name, policy);
        if (resolved instanceof Placeholder p && p.standing() == Placeholder.Standing.REFUSED && firstRefused == null) {
            firstRefused = p;
            firstRefusedAt = at;
        }
        push(resolved);
    }

    private void execute(int op) {
        switch (op) {
            case 0x80 -> { // PROTO
                int v = u8();
                if (v > HIGHEST_PROTOCOL) {
                    throw new PickleException("unsupported pickle protocol " + v);
                }
            }
            case 0x95 -> skipFrame(); // FRAME
            case '(' -> pushMark(); // MARK
            case '0' -> popOrMark(); // POP
            case '1' -> popMark(); // POP_MARK
            case '2' -> push(peek()); // DUP
            case 'N' -> push(null); // NONE
            case 0x88 -> push(Boolean.TRUE); // NEWTRUE
            case 0x89 -> push(Boolean.FALSE); // NEWFALSE
            case 'J' -> push((long) i32()); // BININT
            case 'K' -> push((long) u8()); // BININT1
            case 'M' -> push((long) u16()); // BININT2
            case 0x8a -> push(readLong(u8())); // LONG1
            case 0x8b -> push(readLong(i32())); // LONG4
            case 'G' -> push(Double.longBitsToDouble(ByteBuffer.wrap(take(8)).getLong())); // BINFLOAT, big-endian
            case 'U' -> push(latin1(take(u8()))); // SHORT_BINSTRING
            case 'T' -> push(latin1(take(length(i32())))); // BINSTRING
            case 0x8c -> push(utf8(take(u8()))); // SHORT_BINUNICODE
            case 'X' -> push(utf8(take(length(u32())))); // BINUNICODE
            case 0x8d -> push(utf8(take(length(u64())))); // BINUNICODE8
            case 'C' -> push(take(u8())); // SHORT_BINBYTES
            case 'B' -> push(take(length(u32()))); // BINBYTES
            case 0x8e, 0x96 -> push(take(length(u64()))); // BINBYTES8, BYTEARRAY8
            case ')' -> push(PyTuple.EMPTY); // EMPTY_TUPLE
            case 0x85 -> push(tuple(popN(1))); // TUPLE1
            case 0x86 -> push(tuple(popN(2))); // TUPLE2
            case 0x87 -> push(tuple(popN(3))); // TUPLE3
            case 't' -> push(tuple(popMark())); // TUPLE
            case ']' -> push(new ArrayList<>()); // EMPTY_LIST
            case 'l' -> push(new ArrayList<>(Arrays.asList(popMark()))); // LIST
            case 'a' -> appendTo(popN(1)); // APPEND
            case 'e' -> appendTo(popMark()); // APPENDS
            case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
            case 'd' -> push(putAll(new LinkedHashMap<>(), popMark())); // DICT
            case 's' -> setItems(popN(2)); // SETITEM
            case 'u' -> setItems(popMark()); // SETITEMS
            case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
            case 0x90 -> addItems(popMark()); // ADDITEMS
            case 0x91 -> push(Collections.unmodifiableSet(addAll(new LinkedHashSet<>(), popMark()))); // FROZENSET
            case 'c' -> pushGlobal(line(), line(), opStart); // GLOBAL
            case 0x93 -> stackGlobal(); // STACK_GLOBAL
            case 'R' -> reduce(); // REDUCE
            case 0x81 -> newObject(Map.of()); // NEWOBJ
            case 0x92 -> newObjectEx(); // NEWOBJ_EX
            case 'b' -> build(); // BUILD
            case 'Q' -> push(persistentLoad(pop())); // BINPERSID
            case 'P' -> push(persistentLoad(line())); // PERSID
            case 'p' -> memoPut(parseIndex(line())); // PUT
            case 'q' -> memoPut(u8()); // BINPUT
            case 'r' -> memoPut(u32()); // LONG_BINPUT
            case 0x94 -> memoPut(memo.size()); // MEMOIZE
            case 'g' -> push(memoGet(parseIndex(line()))); // GET
            case 'h' -> push(memoGet(u8())); // BINGET
            case 'j' -> push(memoGet(u32())); // LONG_BINGET
            default -> throw new PickleException(String.format("unsupported pickle opcode 0x%02x", op));
        }
    }

    // ---- input

    private void need(long n) {
        if (n > in.length - pos) {
            throw new PickleException("pickle truncated: " + n + " bytes needed, " + (in.length - pos) + " left");
        }
    }

    private int u8() {
        need(1);
        return in[pos++] & 0xff;
    }

    private int u16() {
        need(2);
        int v = (in[pos] & 0xff) | (in[pos + 1] & 0xff) << 8;
        pos += 2;
        return v;
    }

    private int i32() {
        need(4);
        int v = (in[pos] & 0xff) | (in[pos + 1] & 0xff) << 8 | (in[pos + 2] & 0xff) << 16 | (in[pos + 3] & 0xff) << 24;
        pos += 4;
        return v;
    }

    private long u32() {
        return i32() & 0xffffffffL;
    }

    /** An unsigned 64-bit length; values beyond {@code Long.MAX_VALUE} come back negative and are rejected later. */
    private long u64() {
        long lo = u32();
        long hi = u32();
        return hi << 32 | lo;
    }

    /** A declared length, checked against the input left and the string limit before anything is allocated. */
    private int length(long n) {
        if (n < 0 || n > limits.maxStringBytes()) {
            throw new PickleException("declared length " + Long.toUnsignedString(n) + " exceeds the limit of "
                    + limits.maxStringBytes() + " bytes");
        }
        need(n);
        return (int) n;
    }

    private byte[] take(int n) {
        need(n);
        byte[] b = new byte[n];
        System.arraycopy(in, pos, b, 0, n);
        pos += n;
        return b;
    }

    /** A text line for GLOBAL, PUT, GET and PERSID, without its newline. */
    private String line() {
        int end = pos;
        int max = (int) Math.min(in.length, (long) pos + MAX_LINE);
        while (end < max && in[end] != '\n') {
            end++;
        }
        if (end >= max) {
            throw new PickleException("missing newline in a text argument");
        }
        String s = new String(in, pos, end - pos, StandardCharsets.UTF_8);
        pos = end + 1;
        return s;
    }

    private void skipFrame() {
        long n = u64();
        if (n < 0 || n > in.length - pos) {
            throw new PickleException("frame of " + Long.toUnsignedString(n) + " bytes is longer than the pickle");
        }
    }

    private Object readLong(int n) {
        if (n < 0 || n > limits.maxLongBytes()) {
            throw new PickleException("integer of " + Integer.toUnsignedString(n) + " bytes exceeds the limit of "
                    + limits.maxLongBytes());
        }
        byte[] le = take(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static String latin1(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new PickleException("invalid UTF-8 in a string");
        }
    }

    private static long parseIndex(String s) {
        try {
            long v = Long.parseLong(s.trim());
            if (v < 0) {
                throw new PickleException("negative memo index");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new PickleException("bad memo index");
        }
    }

    // ---- stack, marks, memo

    private int base() {
        return marks.isEmpty() ? 0 : marks.peek();
    }

    private void push(Object o) {
        if (stack.size() + marks.size() >= limits.maxStack()) {
            throw new PickleException("stack deeper than " + limits.maxStack());
        }
        if (++pushed > limits.maxValues()) {
            throw new PickleException("more than " + limits.maxValues() + " values");
        }
        stack.add(o);
    }

    private Object pop() {
        if (stack.size() <= base()) {
            throw new PickleException("stack underflow");
        }
        return stack.remove(stack.size() - 1);
    }

    /** POP as Python does it: the top item, or the topmost mark when nothing is above it. */
    private void popOrMark() {
        if (stack.size() > base()) {
            pop();
        } else {
            popMark();
        }
    }

    private Object peek() {
        if (stack.size() <= base()) {
            throw new PickleException("stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    /** The top {@code n} items, bottom first. */
    private Object[] popN(int n) {
        if (stack.size() - base() < n) {
            throw new PickleException("stack underflow");
        }
        List<Object> top = stack.subList(stack.size() - n, stack.size());
        Object[] items = top.toArray();
        top.clear();
        return items;
    }

    private void pushMark() {
        if (stack.size() + marks.size() >= limits.maxStack()) {
            throw new PickleException("stack deeper than " + limits.maxStack());
        }
        marks.push(stack.size());
    }

    /** The items above the topmost mark, bottom first; the mark is removed. */
    private Object[] popMark() {
        if (marks.isEmpty()) {
            throw new PickleException("no mark on the stack");
        }
        int mark = marks.pop();
        List<Object> top = stack.subList(mark, stack.size());
        Object[] items = top.toArray();
        top.clear();
        return items;
    }

    private void memoPut(long index) {
        if (!memo.containsKey(index) && memo.size() >= limits.maxMemo()) {
            throw new PickleException("more than " + limits.maxMemo() + " memo entries");
        }
        memo.put(index, peek());
    }

    private Object memoGet(long index) {
        Object value = memo.get(index);
        if (value == null && !memo.containsKey(index)) {
            throw new PickleException("memo index " + index + " not defined");
        }
        return value;
    }

    // ---- containers

    private PyTuple tuple(Object[] items) {
        return PyTuple.of(items, limits.maxNesting());
    }

    private void appendTo(Object[] items) {
        Object target = peek();
        if (target instanceof Placeholder placeholder) {
            for (Object item : items) {
                placeholder.addItem(item);
            }
            return;
        }
        if (!(target instanceof List<?>) || target instanceof PyTuple) {
            throw new PickleException("APPEND to something that is not a list");
        }
        @SuppressWarnings("unchecked")
        List<Object> list = (List<Object>) target;
        Collections.addAll(list, items);
    }

    private void setItems(Object[] keysAndValues) {
        Object target = peek();
        if (target instanceof Placeholder placeholder) {
            if (keysAndValues.length % 2 != 0) {
                throw new PickleException("odd number of items for a dict");
            }
            for (int i = 0; i < keysAndValues.length; i += 2) {
                placeholder.putItem(TorchGlobals.checkedKey(keysAndValues[i]), keysAndValues[i + 1]);
            }
            return;
        }
        if (!(target instanceof Map<?, ?>)) {
            throw new PickleException("SETITEM on something that is not a dict");
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> map = (Map<Object, Object>) target;
        putAll(map, keysAndValues);
    }

    private static Map<Object, Object> putAll(Map<Object, Object> map, Object[] keysAndValues) {
        if (keysAndValues.length % 2 != 0) {
            throw new PickleException("odd number of items for a dict");
        }
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(TorchGlobals.checkedKey(keysAndValues[i]), keysAndValues[i + 1]);
        }
        return map;
    }

    private void addItems(Object[] items) {
        Object target = peek();
        if (!(target instanceof LinkedHashSet<?>)) {
            throw new PickleException("ADDITEMS on something that is not a set");
        }
        @SuppressWarnings("unchecked")
        Set<Object> set = (Set<Object>) target;
        addAll(set, items);
    }

    private static Set<Object> addAll(Set<Object> set, Object[] items) {
        for (Object item : items) {
            set.add(TorchGlobals.checkedKey(item));
        }
        return set;
    }

    // ---- globals and object construction

    private void stackGlobal() {
        Object name = pop();
        Object module = pop();
        if (!(module instanceof String m) || !(name instanceof String n)) {
            throw new PickleException("STACK_GLOBAL needs two strings");
        }
        pushGlobal(m, n, opStart);
    }

    private void reduce() {
        Object args = pop();
        Object callable = pop();
        if (!(args instanceof PyTuple tuple)) {
            throw new PickleException("REDUCE arguments are not a tuple");
        }
        if (callable instanceof Builtin builtin) {
            push(builtin.call(tuple));
        } else if (callable instanceof Placeholder placeholder) {
            if (placeholder.standing() == Placeholder.Standing.UNKNOWN_CLASS) {
                Placeholder refused = placeholder.refusedCall(tuple,
                        "an unknown global that is called, which only a callable can be; only classes are accepted");
                if (firstRefused == null) {
                    firstRefused = refused;
                    firstRefusedAt = opStart;
                }
                push(refused);
            } else {
                push(placeholder.call(tuple, Map.of()));
            }
        } else {
            throw new PickleException("REDUCE on " + describe(callable) + ", which is not callable");
        }
    }

    private void newObjectEx() {
        Object kwargs = pop();
        if (!(kwargs instanceof Map<?, ?> map)) {
            throw new PickleException("NEWOBJ_EX keyword arguments are not a dict");
        }
        @SuppressWarnings("unchecked")
        Map<Object, Object> kw = (Map<Object, Object>) map;
        newObject(kw);
    }

    private void newObject(Map<Object, Object> kwargs) {
        Object args = pop();
        Object cls = pop();
        if (!(args instanceof PyTuple tuple)) {
            throw new PickleException("NEWOBJ arguments are not a tuple");
        }
        if (cls instanceof Builtin builtin) {
            push(builtin.newObject());
        } else if (cls instanceof Placeholder placeholder) {
            push(placeholder.call(tuple, kwargs));
        } else {
            throw new PickleException("NEWOBJ on " + describe(cls) + ", which is not a class");
        }
    }

    private void build() {
        Object state = pop();
        Object target = peek();
        if (target instanceof Placeholder placeholder) {
            placeholder.setState(state);
        } else if (!(target instanceof Map)) { // an OrderedDict's _metadata arrives here: ignored
            throw new PickleException("BUILD on " + describe(target) + " is not supported");
        }
    }

    private Object persistentLoad(Object pid) {
        if (persistentLoader == null) {
            throw new PickleException("persistent id without a persistent loader");
        }
        return persistentLoader.load(pid);
    }

    /** A short type description that never prints the value (which may be huge or cyclic). */
    static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof Placeholder || o instanceof Builtin) {
            return o.toString();
        }
        if (o instanceof Collection<?> || o instanceof Map<?, ?>) {
            return "a " + o.getClass().getSimpleName();
        }
        return "a " + o.getClass().getSimpleName() + " value";
    }

    /** A growable stack of ints (mark positions). */
    private static final class IntStack {
        private int[] items = new int[16];
        private int size;

        void push(int v) {
            if (size == items.length) {
                items = Arrays.copyOf(items, size * 2);
            }
            items[size++] = v;
        }

        int pop() {
            return items[--size];
        }

        int peek() {
            return items[size - 1];
        }

        int size() {
            return size;
        }

        boolean isEmpty() {
            return size == 0;
        }
    }
}
