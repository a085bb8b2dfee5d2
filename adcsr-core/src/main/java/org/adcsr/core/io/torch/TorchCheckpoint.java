package org.adcsr.core.io.torch;

import java.io.IOException;
import java.math.BigInteger;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.io.TensorSource;
import org.adcsr.core.io.torch.TorchGlobals.StorageType;

/**
 * A checkpoint written by {@code torch.save} (PyTorch ≥ 1.6 zip format), opened without running any of its code.
 *
 * <p>Opening reads the ZIP central directory and {@code <prefix>/data.pkl} through {@link SafeUnpickler}; tensor data
 * stays on disk and is read one tensor at a time with positioned reads, so files over 4 GiB (ZIP64) and tensors beyond
 * 2 GiB of file offsets work. The top-level folder name ({@code archive}, the file stem, …) is read from the entries.
 *
 * <p>Globals in the pickle are checked against {@link PicklePolicy}: a code-bearing global (say {@code os.system})
 * refuses the file, naming the global and the entry that holds it, whether or not that entry is a tensor.
 *
 * <p>{@link #openTorchScript} reads the tensors of a TorchScript archive ({@code torch.jit.save}; OpenAI's CLIP
 * {@code RN50.pt}) as data: {@code data.pkl} under {@link PicklePolicy#torchScript()}, tensors named by their path
 * through the module objects' attributes ({@code visual.layer1.0.conv1.weight}, as {@code state_dict()} names them);
 * {@code code/}, {@code constants.pkl} and the debug pickles are never read, so they may be compressed.
 *
 * <p>Rejected with a {@link BadInputException}: legacy (pre-1.6) pickled files, TorchScript archives (except through
 * {@link #openTorchScript}), compressed pickles or storages, a missing {@code data.pkl}, storages whose entry size is
 * not {@code numel × itemsize}, views that leave their storage, and every limit of {@link SafeUnpickler.Limits}.
 *
 * <p>Not thread-safe to close while reading; reads from several threads are fine.
 */
public final class TorchCheckpoint implements AutoCloseable {
    /** {@code 0x80 0x02 0x8a 0x0a}: PROTO 2 and LONG1 of 10 bytes, how the legacy format's magic number starts. */
    private static final byte[] LEGACY_START = {(byte) 0x80, 2, (byte) 0x8a, 10};

    private final Path file;
    private final FileChannel channel;
    private final String prefix;
    private final Map<String, StoredZip.Entry> entries;
    private final Map<String, TorchStorage> storages = new HashMap<>();
    private final Object root;
    private final Map<String, TorchTensorRef> tensors;
    private final StridedReader reader;
    private final long fileSize;
    private long storageBytes;
    /** Storage keys whose whole entry has passed its CRC-32 check (on the first read of any of its tensors). */
    private final Set<String> crcVerified = ConcurrentHashMap.newKeySet();

    private TorchCheckpoint(Path file, FileChannel channel, SafeUnpickler.Limits limits, PicklePolicy policy,
            boolean script) throws IOException {
        this.file = file;
        this.channel = channel;
        this.reader = new StridedReader(channel, file);
        this.fileSize = channel.size();
        rejectNonZip();
        this.entries = StoredZip.read(file, channel).entries();
        this.prefix = topFolder();
        if (!script) {
            rejectTorchScript();
        }
        rejectCompressed(script);
        StoredZip.Entry pickle = entries.get(prefix + "/data.pkl");
        if (pickle == null) {
            throw bad("no " + prefix + "/data.pkl entry; not a torch.save checkpoint");
        }
        if (pickle.size() > limits.maxPickleBytes()) {
            throw bad("data.pkl of " + pickle.size() + " bytes exceeds the limit of " + limits.maxPickleBytes());
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) pickle.size());
        StoredZip.readFully(channel, bytes, pickle.dataOffset(), file);
        CRC32 crc = new CRC32();
        crc.update(bytes.array());
        StoredZip.checkCrc(pickle, (int) crc.getValue(), file);
        this.root = new SafeUnpickler(file, limits, this::loadStorage, policy, pickle.name()).load(bytes.array());
        this.tensors = Collections.unmodifiableMap(TensorTree.flatten(file, root, limits.maxNesting(), script));
    }

    /** Opens {@code file} with {@link SafeUnpickler.Limits#DEFAULT} and {@link PicklePolicy#STRICT}. */
    public static TorchCheckpoint open(Path file) {
        return open(file, SafeUnpickler.Limits.DEFAULT, PicklePolicy.STRICT);
    }

    /** Opens {@code file} with {@link SafeUnpickler.Limits#DEFAULT} and the given policy for unknown globals. */
    public static TorchCheckpoint open(Path file, PicklePolicy policy) {
        return open(file, SafeUnpickler.Limits.DEFAULT, policy);
    }

    /** Opens {@code file} with the given limits and {@link PicklePolicy#STRICT}. */
    public static TorchCheckpoint open(Path file, SafeUnpickler.Limits limits) {
        return open(file, limits, PicklePolicy.STRICT);
    }

    /**
     * Opens {@code file}, reads its structure and checks every tensor view; no tensor data is read.
     *
     * @throws BadInputException when the file is missing, unreadable, malformed, of an unsupported kind or over a limit
     */
    public static TorchCheckpoint open(Path file, SafeUnpickler.Limits limits, PicklePolicy policy) {
        return open(file, limits, policy, false);
    }

    /**
     * Opens a TorchScript archive ({@code torch.jit.save}) as data, with {@link SafeUnpickler.Limits#DEFAULT} and
     * {@link PicklePolicy#torchScript()}: {@link #tensorRefs()} names each parameter and buffer by its attribute path
     * through the module objects, as the module's {@code state_dict()} does. Nothing of the archive's code is read.
     *
     * @throws BadInputException as {@link #open(Path, SafeUnpickler.Limits, PicklePolicy)}, and for a global that
     *                           neither a checkpoint nor a TorchScript module may hold
     */
    public static TorchCheckpoint openTorchScript(Path file) {
        return open(file, SafeUnpickler.Limits.DEFAULT, PicklePolicy.torchScript(), true);
    }

    private static TorchCheckpoint open(Path file, SafeUnpickler.Limits limits, PicklePolicy policy, boolean script) {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw BadInputException.of(file, "no such file", e);
        } catch (IOException e) {
            throw BadInputException.of(file, "cannot open: " + e.getMessage(), e);
        }
        try {
            return new TorchCheckpoint(file, channel, limits, policy, script);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel, e);
            if (e instanceof IOException io) {
                throw BadInputException.of(file, "read failed: " + io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    public Path path() {
        return file;
    }

    /** The top-level folder of the archive's entries ({@code archive}, the file stem, …). */
    public String prefix() {
        return prefix;
    }

    /**
     * The unpickled object: maps ({@code dict}, {@code OrderedDict}), lists, {@link PyTuple}s, sets, strings, numbers,
     * {@code byte[]}, {@link TorchTensorRef}s and {@link Placeholder}s; see {@link SafeUnpickler}.
     */
    public Object root() {
        return root;
    }

    /**
     * Every tensor reachable from {@link #root()} through dicts (string or integer keys) and lists/tuples (indices), by
     * its path joined with {@code .}, in pickle order: an {@code OrderedDict} state dict gives its keys as they are, a
     * Lightning checkpoint {@code state_dict.…}, {@code optimizer_states.0.state.3.exp_avg}, …. Each container is
     * expanded once, at its first occurrence; tensors inside placeholders (objects of unknown classes) and under keys
     * of other types are not listed.
     */
    public Map<String, TorchTensorRef> tensorRefs() {
        return tensors;
    }

    /** The tensor called {@code name} in {@link #tensorRefs()}, or {@code null}. */
    public TorchTensorRef tensorRef(String name) {
        return tensors.get(name);
    }

    /**
     * Whether two names are the same view (same storage, offset, shape and strides), as the aliases of an AdcSR state
     * dict are.
     *
     * @throws IllegalArgumentException when a name is absent
     */
    public boolean sameView(String a, String b) {
        return require(a).sameView(require(b));
    }

    /** The elements of {@code ref} (a tensor of this checkpoint) as F32 in C order; see {@link TensorSource#readFloats}. */
    public float[] readFloats(TorchTensorRef ref) {
        TorchStorage storage = storages.get(ref.storage().key());
        if (!ref.storage().equals(storage)) {
            throw new IllegalArgumentException(ref + " is not a tensor of " + file);
        }
        try {
            StoredZip.Entry entry = entries.get(storageEntryName(storage.key()));
            if (!crcVerified.contains(storage.key())) {
                StoredZip.verifyCrc(channel, entry, file);
                crcVerified.add(storage.key());
            }
            return reader.read(ref, entry.dataOffset());
        } catch (ClosedChannelException e) {
            throw new IllegalStateException(file + " is closed", e);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": read failed", e);
        }
    }

    /**
     * The tensors of {@link #tensorRefs()} as a {@link TensorSource} (no metadata). Closing it closes this checkpoint.
     */
    public TensorSource tensors() {
        return new Tensors();
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- opening

    private void rejectNonZip() throws IOException {
        long size = channel.size();
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, 4));
        StoredZip.readFully(channel, head, 0, file);
        byte[] b = head.array();
        if (b.length == 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) {
            return;
        }
        if (b.length == 4 && Arrays.equals(b, LEGACY_START)) {
            throw bad("legacy PyTorch checkpoint (pre-1.6 format) is not supported; re-save it with a current torch.save");
        }
        throw bad("not a PyTorch checkpoint (not a ZIP archive)");
    }

    private String topFolder() {
        String top = null;
        for (String name : entries.keySet()) {
            int slash = name.indexOf('/');
            String folder = slash > 0 ? name.substring(0, slash) : null;
            if (folder == null || top != null && !top.equals(folder)) {
                throw bad("entries are not all under one top-level folder; not a torch.save checkpoint");
            }
            top = folder;
        }
        if (top == null) {
            throw bad("empty ZIP archive");
        }
        return top;
    }

    private void rejectTorchScript() {
        for (String name : entries.keySet()) {
            if (name.equals(prefix + "/constants.pkl") || name.startsWith(prefix + "/code/")) {
                throw bad("TorchScript archive (has code/ or constants.pkl), not a torch.save checkpoint");
            }
        }
    }

    /** Compressed entries cannot be read in place; a TorchScript archive's code and debug pickles are never read. */
    private void rejectCompressed(boolean script) {
        for (StoredZip.Entry entry : entries.values()) {
            boolean read = entry.name().equals(prefix + "/data.pkl") || entry.name().startsWith(prefix + "/data/");
            if (!entry.stored() && (read || !script)) {
                throw bad("entry " + entry.name() + " is compressed; only stored (uncompressed) entries are supported");
            }
        }
    }

    /** The persistent loader: {@code ('storage', storage_type, key, location, numel)} to a checked storage. */
    private TorchStorage loadStorage(Object pid) {
        if (!(pid instanceof PyTuple t) || t.size() != 5 || !"storage".equals(t.get(0))) {
            throw bad("data.pkl: persistent id is not ('storage', type, key, location, numel)");
        }
        if (!(t.get(1) instanceof StorageType type)) {
            Object tag = t.get(1);
            throw bad("data.pkl: unsupported storage type "
                    + (tag instanceof Placeholder p ? p.qualifiedName() : SafeUnpickler.describe(tag)));
        }
        if (!(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel) || numel < 0) {
            throw bad("data.pkl: bad storage key or element count in a persistent id");
        }
        TorchStorage storage = new TorchStorage(key, type.dtype, numel);
        TorchStorage known = storages.get(key);
        if (known != null) {
            if (!known.equals(storage)) {
                throw bad("data.pkl: storage " + key + " is declared twice with different types or sizes");
            }
            return known;
        }
        StoredZip.Entry entry = entries.get(storageEntryName(key));
        if (entry == null) {
            throw bad("storage " + key + " has no entry " + storageEntryName(key));
        }
        long bytes;
        try {
            bytes = storage.byteSize();
        } catch (ArithmeticException e) {
            throw bad("storage " + key + " declares " + numel + " elements, which overflows");
        }
        if (entry.size() != bytes) {
            throw bad("storage " + key + " declares " + numel + " " + type.dtype + " elements (" + bytes
                    + " bytes) but its entry has " + entry.size() + " bytes");
        }
        storageBytes += bytes;
        if (storageBytes > fileSize) {
            throw bad("storages add up to more bytes than the file has");
        }
        storages.put(key, storage);
        return storage;
    }

    private String storageEntryName(String key) {
        return prefix + "/data/" + key;
    }

    private TorchTensorRef require(String name) {
        TorchTensorRef ref = tensors.get(name);
        if (ref == null) {
            throw new IllegalArgumentException(file + ": no tensor " + name);
        }
        return ref;
    }

    private BadInputException bad(String problem) {
        return BadInputException.of(file, problem);
    }

    private static void closeQuietly(FileChannel channel, Exception primary) {
        try {
            channel.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    /** The {@link TensorSource} view over {@link #tensorRefs()}. */
    private final class Tensors implements TensorSource {
        private final List<String> names = Collections.unmodifiableList(new ArrayList<>(tensors.keySet()));

        @Override
        public Path path() {
            return file;
        }

        @Override
        public List<String> names() {
            return names;
        }

        @Override
        public TensorInfo info(String name) {
            TorchTensorRef ref = tensors.get(name);
            return ref == null ? null : new TensorInfo(name, ref.dtype(), ref.shape());
        }

        @Override
        public float[] readFloats(String name) {
            return TorchCheckpoint.this.readFloats(require(name));
        }

        @Override
        public Map<String, String> metadata() {
            return Map.of();
        }

        @Override
        public void close() {
            TorchCheckpoint.this.close();
        }
    }

    /** Flattens the object tree into dotted tensor names. */
    private static final class TensorTree {
        private final Path file;
        private final int maxDepth;
        private final boolean script;
        private final Set<Object> expanded = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Map<String, TorchTensorRef> out = new LinkedHashMap<>();

        private TensorTree(Path file, int maxDepth, boolean script) {
            this.file = file;
            this.maxDepth = maxDepth;
            this.script = script;
        }

        static Map<String, TorchTensorRef> flatten(Path file, Object root, int maxDepth, boolean script) {
            TensorTree tree = new TensorTree(file, maxDepth, script);
            tree.visit(root, "", 0);
            return tree.out;
        }

        private void visit(Object node, String name, int depth) {
            if (node instanceof TorchTensorRef ref) {
                if (out.putIfAbsent(name, ref) != null) {
                    throw BadInputException.of(file, "two tensors are both named " + name);
                }
                return;
            }
            if (script && node instanceof Placeholder p && p.isInstance()
                    && (p.module().equals("__torch__") || p.module().startsWith("__torch__."))) {
                node = p.state();          // a TorchScript module object: its attributes, by name
            }
            if (!(node instanceof Map || node instanceof List) || !expanded.add(node)) {
                return;
            }
            if (depth >= maxDepth) {
                throw BadInputException.of(file, "containers nested deeper than " + maxDepth);
            }
            if (node instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    Object key = e.getKey();
                    if (key instanceof String || key instanceof Long || key instanceof BigInteger) {
                        visit(e.getValue(), join(name, key.toString()), depth + 1);
                    }
                }
            } else {
                List<?> list = (List<?>) node;
                for (int i = 0; i < list.size(); i++) {
                    visit(list.get(i), join(name, Integer.toString(i)), depth + 1);
                }
            }
        }

        private static String join(String prefix, String key) {
            return prefix.isEmpty() ? key : prefix + "." + key;
        }
    }
}
