package org.adcsr.core.io.torch;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.adcsr.core.io.DType;

/**
 * The whitelist of pickle globals with a known, side-effect-free meaning. Each resolves to a {@link Builtin} that
 * builds plain data, or to a {@link StorageType} tag. Known data-only classes (Lightning callbacks, OmegaConf
 * containers, numpy scalars, …) become inert {@link Placeholder}s; every other global is refused, the globals of
 * code-running modules under every {@link PicklePolicy}.
 */
final class TorchGlobals {
    private TorchGlobals() {
    }

    /** The whitelisted meaning of {@code module.name}, or a new placeholder (refused under the strict policy). */
    static Object resolve(String module, String name) {
        return resolve(module, name, PicklePolicy.STRICT);
    }

    /**
     * The whitelisted meaning of {@code module.name}; else a placeholder: a {@link Placeholder.Standing#DATA} one for
     * a known data-only class, an {@link Placeholder.Standing#UNKNOWN_CLASS} one for an unknown global the policy
     * accepts, a {@link Placeholder.Standing#REFUSED} one (saying why) for every other global.
     */
    static Object resolve(String module, String name, PicklePolicy policy) {
        if (policy.torchScriptClasses()) {
            Object script = resolveTorchScript(module, name);
            if (script != null) {
                return script;
            }
        }
        Object known = switch (module) {
            case "collections" -> "OrderedDict".equals(name) ? Builtin.ORDERED_DICT : null;
            case "builtins", "__builtin__" -> switch (name) {
                case "set" -> Builtin.SET;
                case "frozenset" -> Builtin.FROZENSET;
                case "slice" -> Builtin.SLICE;
                default -> null;
            };
            case "_codecs" -> "encode".equals(name) ? Builtin.CODECS_ENCODE : null;
            case "torch._utils" -> switch (name) {
                case "_rebuild_tensor_v2" -> Builtin.REBUILD_TENSOR_V2;
                case "_rebuild_parameter" -> Builtin.REBUILD_PARAMETER;
                case "_rebuild_parameter_with_state" -> Builtin.REBUILD_PARAMETER_WITH_STATE;
                default -> null;
            };
            case "torch" -> "Size".equals(name) ? Builtin.TORCH_SIZE : StorageType.byName(name);
            default -> null;
        };
        if (known != null) {
            return known;
        }
        String qualified = module + "." + name;
        String danger = dangerOf(module, name);
        if (danger != null) {
            return Placeholder.global(module, name, Placeholder.Standing.REFUSED, danger);
        }
        if (isDataClass(module, name)) {
            return Placeholder.global(module, name);
        }
        if (policy.allowUnknownClasses()) {
            return Placeholder.global(module, name, Placeholder.Standing.UNKNOWN_CLASS, null);
        }
        return Placeholder.global(module, name, Placeholder.Standing.REFUSED,
                "not a tensor, storage, container or known data class" + policy.unknownHint());
    }

    /**
     * A TorchScript archive's own globals: the list tags of {@code torch.jit._pickle} (they return their data) and the
     * compiled module classes {@code __torch__.* Name} (placeholders that may be instantiated and built, not called);
     * {@code null} for anything else. Python itself cannot import {@code __torch__}, and torch.jit.load would compile
     * those classes from the archive's {@code code/}, which is never read here.
     */
    private static Object resolveTorchScript(String module, String name) {
        if ("torch.jit._pickle".equals(module)) {
            return switch (name) {
                case "build_intlist", "build_tensorlist", "build_doublelist", "build_boollist" -> Builtin.JIT_LIST;
                case "restore_type_tag" -> Builtin.JIT_TYPE_TAG;
                default -> null;
            };
        }
        if ((module.equals("__torch__") || module.startsWith("__torch__.")) && dangerOf(module, name) == null) {
            return Placeholder.global(module, name, Placeholder.Standing.UNKNOWN_CLASS, null);
        }
        return null;
    }

    /**
     * Modules whose globals can run commands or code, load code or touch files and sockets when Python unpickles
     * them; refused under every policy. A module matches itself and its submodules.
     */
    private static final List<String> CODE_MODULES = List.of("os", "posix", "nt", "subprocess", "sys", "importlib",
            "runpy", "shutil", "socket", "pickle", "_pickle", "pickletools", "marshal", "ctypes", "_ctypes", "copyreg",
            "copy_reg", "functools", "operator", "_operator", "types", "code", "codeop", "pty", "multiprocessing",
            "threading", "_thread", "asyncio", "io", "_io", "codecs", "tempfile", "webbrowser", "urllib", "http",
            "ftplib", "smtplib", "telnetlib", "requests", "platform", "signal", "gc", "inspect", "pdb", "bdb",
            "timeit", "commands", "popen2", "posixpath", "ntpath", "glob", "zipimport", "pkgutil", "site", "sysconfig",
            "distutils", "setuptools", "pip", "ensurepip", "venv", "builtins", "__builtin__", "__main__", "dill",
            "cloudpickle", "joblib", "numpy.testing", "numpy.f2py", "numpy.distutils", "numpy.lib.npyio", "torch.hub",
            "torch.jit", "torch.package", "torch.ops", "torch.serialization", "torch.utils.cpp_extension",
            "torch.storage", "torch.multiprocessing", "torch.distributed");

    /** Names of {@code builtins} that are plain data types, inert as placeholders. */
    private static final Set<String> BUILTIN_DATA_TYPES = Set.of("dict", "list", "tuple", "int", "float", "str",
            "bytes", "bytearray", "bool", "complex", "object", "NoneType", "range");

    /** Known data-only globals of real checkpoints (Lightning, OmegaConf, numpy, torch dtypes), besides the prefixes. */
    private static final Set<String> DATA_GLOBALS = Set.of("numpy.core.multiarray.scalar",
            "numpy._core.multiarray.scalar", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
            "numpy.dtype", "numpy.ndarray", "collections.defaultdict", "collections.Counter", "collections.deque",
            "typing.Any", "argparse.Namespace", "pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath",
            "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "datetime.datetime", "datetime.date",
            "datetime.timedelta", "datetime.timezone", "decimal.Decimal", "torch.device", "torch.dtype",
            "torch.torch_version.TorchVersion", "torch.nn.parameter.Parameter", "torch.Tensor",
            "torch.float16", "torch.float32", "torch.float64", "torch.bfloat16", "torch.int8", "torch.uint8",
            "torch.int16", "torch.int32", "torch.int64", "torch.bool", "torch.half", "torch.float", "torch.double",
            "torch.long", "torch.int");

    /** Packages whose CamelCase names are the data classes of Lightning and OmegaConf checkpoints. */
    private static final List<String> DATA_PACKAGES = List.of("pytorch_lightning", "lightning", "lightning_fabric",
            "omegaconf", "numpy.dtypes", "typing");

    /** Why {@code module.name} can run code, or {@code null}. */
    static String dangerOf(String module, String name) {
        if (("builtins".equals(module) || "__builtin__".equals(module)) && BUILTIN_DATA_TYPES.contains(name)) {
            return null;
        }
        if (!isIdentifierPath(module) || !isIdentifierPath(name)) {
            return "not a valid Python name";
        }
        for (String m : CODE_MODULES) {
            if (module.equals(m) || module.startsWith(m + ".")) {
                return "a callable of a module that can run commands or code when Python loads the file";
            }
        }
        if (name.startsWith("__") || name.contains(".")) {
            return "a dunder or attribute-path global, a way to reach code";
        }
        return null;
    }

    private static boolean isDataClass(String module, String name) {
        if (DATA_GLOBALS.contains(module + "." + name)
                || ("builtins".equals(module) || "__builtin__".equals(module)) && BUILTIN_DATA_TYPES.contains(name)) {
            return true;
        }
        for (String p : DATA_PACKAGES) {
            if ((module.equals(p) || module.startsWith(p + ".")) && Character.isUpperCase(name.charAt(0))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isIdentifierPath(String s) {
        if (s.isEmpty() || s.length() > 200) {
            return false;
        }
        for (String part : s.split("\\.", -1)) {
            if (part.isEmpty() || !Character.isJavaIdentifierStart(part.charAt(0)) || part.charAt(0) == '$') {
                return false;
            }
            for (int i = 1; i < part.length(); i++) {
                char c = part.charAt(i);
                if (!Character.isJavaIdentifierPart(c) || c == '$' || Character.isIdentifierIgnorable(c)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The {@code torch.*Storage} type tags that name a storage's element type in a persistent id. */
    enum StorageType {
        FloatStorage(DType.F32), HalfStorage(DType.F16), BFloat16Storage(DType.BF16), DoubleStorage(DType.F64),
        LongStorage(DType.I64), IntStorage(DType.I32), ShortStorage(DType.I16), CharStorage(DType.I8),
        ByteStorage(DType.U8), BoolStorage(DType.BOOL);

        final DType dtype;

        StorageType(DType dtype) {
            this.dtype = dtype;
        }

        static StorageType byName(String name) {
            for (StorageType t : values()) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /** Whitelisted callables. Each checks its arguments and builds data; none has any other effect. */
    enum Builtin {
        /** {@code collections.OrderedDict()}: a {@link LinkedHashMap}. */
        ORDERED_DICT("collections.OrderedDict") {
            @Override
            Object call(PyTuple args) {
                Map<Object, Object> map = new LinkedHashMap<>();
                if (args.size() == 1) {
                    for (Object pair : elements(args.get(0))) {
                        if (!(pair instanceof List<?> kv) || kv.size() != 2) {
                            throw new PickleException("OrderedDict argument is not a sequence of pairs");
                        }
                        map.put(checkedKey(kv.get(0)), kv.get(1));
                    }
                } else if (!args.isEmpty()) {
                    throw arity(this, "0 or 1", args);
                }
                return map;
            }

            @Override
            Object newObject() {
                return new LinkedHashMap<>();
            }
        },
        /** {@code set(iterable=())}: a mutable {@link LinkedHashSet}. */
        SET("builtins.set") {
            @Override
            Object call(PyTuple args) {
                return setOf(this, args);
            }
        },
        /** {@code frozenset(iterable=())}: an unmodifiable set. */
        FROZENSET("builtins.frozenset") {
            @Override
            Object call(PyTuple args) {
                return Collections.unmodifiableSet(setOf(this, args));
            }
        },
        /** {@code slice(stop)} or {@code slice(start, stop[, step])}. */
        SLICE("builtins.slice") {
            @Override
            Object call(PyTuple args) {
                return switch (args.size()) {
                    case 1 -> new PySlice(null, args.get(0), null);
                    case 2 -> new PySlice(args.get(0), args.get(1), null);
                    case 3 -> new PySlice(args.get(0), args.get(1), args.get(2));
                    default -> throw arity(this, "1 to 3", args);
                };
            }
        },
        /** {@code _codecs.encode(text, "latin1")}, how protocol 2 writes {@code bytes}: a {@code byte[]}. */
        CODECS_ENCODE("_codecs.encode") {
            @Override
            Object call(PyTuple args) {
                if (args.size() != 2 || !(args.get(0) instanceof String text) || !(args.get(1) instanceof String enc)) {
                    throw new PickleException("_codecs.encode expects (str, encoding)");
                }
                String e = enc.toLowerCase(Locale.ROOT).replace('_', '-');
                if (!(e.equals("latin1") || e.equals("latin-1") || e.equals("iso-8859-1"))) {
                    throw new PickleException("_codecs.encode with unsupported encoding " + enc);
                }
                for (int i = 0; i < text.length(); i++) {
                    if (text.charAt(i) > 0xff) {
                        throw new PickleException("_codecs.encode: text is not latin-1");
                    }
                }
                return text.getBytes(StandardCharsets.ISO_8859_1);
            }
        },
        /** {@code torch.Size(sizes)}: a tuple. */
        TORCH_SIZE("torch.Size") {
            @Override
            Object call(PyTuple args) {
                if (args.size() != 1 || !(args.get(0) instanceof PyTuple sizes)) {
                    throw new PickleException("torch.Size expects one tuple");
                }
                return sizes;
            }
        },
        /** {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])}. */
        REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2") {
            @Override
            Object call(PyTuple args) {
                if (args.size() != 6 && args.size() != 7) {
                    throw arity(this, "6 or 7", args);
                }
                if (!(args.get(0) instanceof TorchStorage storage)) {
                    throw new PickleException("_rebuild_tensor_v2: first argument is not a storage");
                }
                return TorchTensorRef.of(storage, toLong(args.get(1), "storage offset"), longs(args.get(2), "size"),
                        longs(args.get(3), "stride"));
            }
        },
        /** TorchScript's {@code torch.jit._pickle.build_intlist(data)} and its kin: the list itself. */
        JIT_LIST("torch.jit._pickle.build_*list") {
            @Override
            Object call(PyTuple args) {
                if (args.size() != 1 || !(args.get(0) instanceof List<?>)) {
                    throw new PickleException(this + " expects one list");
                }
                return args.get(0);
            }
        },
        /** TorchScript's {@code torch.jit._pickle.restore_type_tag(value, type_str)}: the value itself. */
        JIT_TYPE_TAG("torch.jit._pickle.restore_type_tag") {
            @Override
            Object call(PyTuple args) {
                if (args.size() != 2 || !(args.get(1) instanceof String)) {
                    throw new PickleException(this + " expects (value, type string)");
                }
                return args.get(0);
            }
        },
        /** {@code _rebuild_parameter(data, requires_grad, hooks)}: the tensor itself. */
        REBUILD_PARAMETER("torch._utils._rebuild_parameter") {
            @Override
            Object call(PyTuple args) {
                return parameterData(this, args, 3);
            }
        },
        /** {@code _rebuild_parameter_with_state(data, requires_grad, hooks, state)}: the tensor itself. */
        REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state") {
            @Override
            Object call(PyTuple args) {
                return parameterData(this, args, 4);
            }
        };

        private final String pythonName;

        Builtin(String pythonName) {
            this.pythonName = pythonName;
        }

        /** The result of REDUCE with this callable. */
        abstract Object call(PyTuple args);

        /** The result of NEWOBJ with this class (only {@code OrderedDict} can be instantiated that way). */
        Object newObject() {
            throw new PickleException("NEWOBJ on " + this + " is not supported");
        }

        /** Python's name of the global, for messages. */
        @Override
        public String toString() {
            return pythonName;
        }
    }

    /** {@code value} if it can be a dict key or set element. */
    static Object checkedKey(Object value) {
        if (!PyTuple.isHashable(value)) {
            throw new PickleException("unhashable dict key or set element");
        }
        return value;
    }

    private static Set<Object> setOf(Builtin which, PyTuple args) {
        Set<Object> set = new LinkedHashSet<>();
        if (args.size() == 1) {
            for (Object o : elements(args.get(0))) {
                set.add(checkedKey(o));
            }
        } else if (!args.isEmpty()) {
            throw arity(which, "0 or 1", args);
        }
        return set;
    }

    private static Collection<?> elements(Object iterable) {
        if (iterable instanceof Collection<?> c) {
            return c;
        }
        if (iterable instanceof Map<?, ?> m) {
            return m.keySet();
        }
        throw new PickleException("expected a list, tuple, set or dict");
    }

    private static Object parameterData(Builtin which, PyTuple args, int arity) {
        if (args.size() != arity) {
            throw arity(which, Integer.toString(arity), args);
        }
        if (!(args.get(0) instanceof TorchTensorRef)) {
            throw new PickleException(which + ": first argument is not a tensor");
        }
        return args.get(0);
    }

    private static long[] longs(Object value, String what) {
        if (!(value instanceof List<?> list)) {
            throw new PickleException("tensor " + what + " is not a tuple");
        }
        if (list.size() > TorchTensorRef.MAX_DIMS) {
            throw new PickleException("tensor " + what + " has " + list.size() + " dimensions");
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = toLong(list.get(i), what);
        }
        return out;
    }

    static long toLong(Object value, String what) {
        if (value instanceof Long l) {
            return l;
        }
        throw new PickleException(what + " is not an integer in the 64-bit range");
    }

    private static PickleException arity(Builtin which, String expected, PyTuple args) {
        return new PickleException(which + " takes " + expected + " arguments, got " + args.size());
    }
}
