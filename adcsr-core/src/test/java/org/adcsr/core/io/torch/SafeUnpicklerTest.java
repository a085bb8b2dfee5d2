package org.adcsr.core.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.adcsr.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VM on hand-assembled pickles: code-execution attempts, malformed input, limits. */
class SafeUnpicklerTest {
    private static final Path FILE = Path.of("hostile.pkl");
    private static final Duration FAST = Duration.ofSeconds(30); // a hang guard, not a speed test

    @TempDir
    Path dir;

    static Object load(byte[] pickle) {
        return load(pickle, SafeUnpickler.Limits.DEFAULT);
    }

    static Object load(byte[] pickle, SafeUnpickler.Limits limits) {
        return assertTimeoutPreemptively(FAST, () -> new SafeUnpickler(FILE, limits, pid -> pid).load(pickle));
    }

    static String fails(byte[] pickle) {
        return fails(pickle, SafeUnpickler.Limits.DEFAULT);
    }

    static String fails(byte[] pickle, SafeUnpickler.Limits limits) {
        BadInputException e = assertThrows(BadInputException.class, () -> load(pickle, limits));
        assertTrue(e.getMessage().startsWith(FILE + ": "), e.getMessage());
        return e.getMessage();
    }

    private Path marker() {
        return dir.resolve("pwned");
    }

    private String command() {
        return "touch " + marker();
    }

    // ---- code-execution attempts: nothing runs, the pickle is refused naming the global and where it sits

    static Object loadWith(byte[] pickle, PicklePolicy policy) {
        return assertTimeoutPreemptively(FAST, () -> new SafeUnpickler(FILE, SafeUnpickler.Limits.DEFAULT, pid -> pid,
                policy, "archive/data.pkl").load(pickle));
    }

    static String refused(byte[] pickle, PicklePolicy policy) {
        BadInputException e = assertThrows(BadInputException.class, () -> loadWith(pickle, policy));
        assertTrue(e.getMessage().startsWith(FILE + ": refused pickle global "), e.getMessage());
        assertTrue(e.getMessage().length() <= 300, e.getMessage());
        return e.getMessage();
    }

    @Test
    void osSystemIsRefusedNamingTheGlobalAndTheEntry() {
        byte[] pickle = PickleWriter.proto(2).op('}').str("w").integer(1).op('s')
                .str("evil").global("os", "system").str(command()).op(0x85).reduce().op('s').stop();
        for (PicklePolicy policy : List.of(PicklePolicy.STRICT, PicklePolicy.allowingUnknownClasses())) {
            String message = refused(pickle, policy);
            assertTrue(message.contains("os.system in entry 'evil' of archive/data.pkl"), message);
            assertTrue(message.contains("can run commands or code"), message);
        }
        assertFalse(Files.exists(marker()));
    }

    @Test
    void builtinsEvalAndExecAreRefusedUnderEveryPolicy() {
        for (String module : List.of("builtins", "__builtin__")) {
            for (String name : List.of("eval", "exec", "__import__", "getattr", "open", "compile")) {
                byte[] pickle = PickleWriter.proto(2).global(module, name)
                        .str("__import__('os').system('" + command() + "')").op(0x85).reduce().stop();
                for (PicklePolicy policy : List.of(PicklePolicy.STRICT, PicklePolicy.allowingUnknownClasses())) {
                    String message = refused(pickle, policy);
                    assertTrue(message.contains(module + "." + name + " as the whole pickled object"),
                            message);
                }
            }
        }
        assertFalse(Files.exists(marker()));
    }

    @Test
    void codeModulesAreRefused() {
        for (String global : List.of("subprocess.Popen", "sys.modules", "importlib.import_module", "runpy.run_path",
                "shutil.rmtree", "socket.socket", "pickle.loads", "marshal.loads", "ctypes.CDLL", "nt.system",
                "os.path.join", "torch.hub.load", "copyreg._reconstructor")) {
            int dot = global.lastIndexOf('.');
            byte[] pickle = PickleWriter.proto(2).global(global.substring(0, dot), global.substring(dot + 1)).stop();
            String message = refused(pickle, PicklePolicy.allowingUnknownClasses());
            assertTrue(message.contains(global + " as the whole pickled object"), message);
        }
    }

    @Test
    void subprocessPopenViaNewobjAndBuild() {
        byte[] pickle = PickleWriter.proto(2).global("subprocess", "Popen")
                .mark().str("sh").str("-c").str(command()).op('l').op(0x85).op(0x81)
                .op('}').str("__setstate__").global("os", "system").op('s').op('b').stop();
        assertTrue(refused(pickle, PicklePolicy.STRICT).contains("subprocess.Popen"));
        assertFalse(Files.exists(marker()));
    }

    @Test
    void posixSystemViaStackGlobal() {
        byte[] pickle = PickleWriter.proto(4).op('}').shortStr("state").op(']')
                .stackGlobal("posix", "system").shortStr(command()).op(0x85).reduce().op('a').op('s').stop();
        String message = refused(pickle, PicklePolicy.STRICT);
        assertTrue(message.contains("posix.system in entry 'state.0'"), message);
        assertFalse(Files.exists(marker()));
    }

    @Test
    void nestedReduceChainIsRefusedAtItsOutermostGlobal() {
        // getattr(__import__('os'), 'system')('touch …'), then called again on its result, then BUILD and NEWOBJ_EX
        byte[] pickle = PickleWriter.proto(4).global("builtins", "getattr")
                .global("builtins", "__import__").str("os").op(0x85).reduce()
                .str("system").op(0x86).reduce()
                .str(command()).op(0x85).reduce()
                .op(')').reduce()
                .op('}').op('b')
                .op(')').op('}').op(0x92)
                .stop();
        assertTrue(refused(pickle, PicklePolicy.STRICT).contains("builtins.getattr"));
        assertFalse(Files.exists(marker()));
    }

    @Test
    void aRefusedGlobalOutranksALaterMalformation() {
        byte[] pickle = PickleWriter.proto(2).global("os", "system").op(0xff).stop();
        assertTrue(refused(pickle, PicklePolicy.STRICT).contains("os.system at pickle byte 2"));
    }

    @Test
    void unreachableRefusedGlobalIsStillRefused() {
        byte[] pickle = PickleWriter.proto(2).global("os", "system").op('0').integer(1).stop();
        assertTrue(refused(pickle, PicklePolicy.STRICT).contains("os.system at pickle byte 2"));
    }

    @Test
    void unknownClassIsRefusedUnlessAllowedAndNeverCalled() {
        byte[] built = PickleWriter.proto(2).op('}').str("cfg").global("mylab.config", "Settings").op(')').op(0x81)
                .op('}').str("lr").integer(3).op('s').op('b').op('s').stop();
        String message = refused(built, PicklePolicy.strictWithHint(" (try --allow-unknown-globals)"));
        assertTrue(message.contains("mylab.config.Settings in entry 'cfg'"), message);
        assertTrue(message.contains("not a tensor, storage, container or known data class (try"), message);

        Map<?, ?> root = assertInstanceOf(Map.class, loadWith(built, PicklePolicy.allowingUnknownClasses()));
        Placeholder p = assertInstanceOf(Placeholder.class, root.get("cfg"));
        assertEquals(Map.of("lr", 3L), p.state());

        byte[] called = PickleWriter.proto(2).global("mylab.tools", "run").str("x").op(0x85).reduce().stop();
        assertTrue(refused(called, PicklePolicy.allowingUnknownClasses()).contains("unknown global that is called"));
    }

    @Test
    void knownDataClassesStayInertPlaceholders() {
        byte[] pickle = PickleWriter.proto(2).op('}')
                .global("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint").integer(1).op('s')
                .str("hp").global("omegaconf.dictconfig", "DictConfig").op(')').op(0x81)
                .op('}').str("_metadata").global("omegaconf.base", "ContainerMetadata").op(')').op(0x81)
                .op('}').str("ref_type").global("typing", "Any").op('s').str("object_type")
                .global("builtins", "dict").op('s').op('b').op('s').op('b').op('s')
                .str("scale").global("numpy.core.multiarray", "scalar").global("numpy", "dtype").str("f8")
                .op(0x85).reduce().str("x").op(0x86).reduce().op('s').stop();
        Map<?, ?> root = assertInstanceOf(Map.class, load(pickle));
        assertEquals(3, root.size());
        assertEquals("omegaconf.dictconfig.DictConfig",
                assertInstanceOf(Placeholder.class, root.get("hp")).qualifiedName());
    }

    @Test
    void lowercaseNamesOfDataPackagesAreNotDataClasses() {
        byte[] pickle = PickleWriter.proto(2).global("pytorch_lightning.utilities", "rank_zero_only").stop();
        assertTrue(refused(pickle, PicklePolicy.STRICT).contains("pytorch_lightning.utilities.rank_zero_only"));
    }

    @Test
    void placeholdersAreIdentityKeys() {
        byte[] pickle = PickleWriter.proto(2).op('}')
                .global("pl", "ModelCheckpoint").integer(1).op('s')
                .global("pl", "ModelCheckpoint").integer(2).op('s').stop();
        Map<?, ?> map = assertInstanceOf(Map.class, loadWith(pickle, PicklePolicy.allowingUnknownClasses()));
        assertEquals(2, map.size(), "two GLOBALs are two distinct placeholders");
        assertEquals(List.of(1L, 2L), List.copyOf(map.values()));
    }

    // ---- whitelisted constructors used wrongly fail cleanly

    @Test
    void whitelistedConstructorsCheckTheirArguments() {
        assertTrue(fails(PickleWriter.proto(2).global("torch._utils", "_rebuild_tensor_v2").mark().str("x")
                .integer(0).op(')').op(')').op(0x89).op('N').tuple().reduce().stop()).contains("not a storage"));
        assertTrue(fails(PickleWriter.proto(2).global("_codecs", "encode").str("x").str("rot13").op(0x86).reduce()
                .stop()).contains("unsupported encoding"));
        assertTrue(fails(PickleWriter.proto(2).global("_codecs", "encode").str("\u20ac").str("latin1").op(0x86)
                .reduce().stop()).contains("not latin-1"));
        assertTrue(fails(PickleWriter.proto(2).global("collections", "OrderedDict").integer(3).op(0x85).reduce()
                .stop()).contains("expected a list"));
        assertTrue(fails(PickleWriter.proto(2).global("__builtin__", "set").op(']').op(']').op('a').op(0x85)
                .reduce().stop()).contains("unhashable"));
        assertTrue(fails(PickleWriter.proto(2).global("torch", "FloatStorage").op(')').reduce().stop())
                .contains("not callable"));
        assertTrue(fails(PickleWriter.proto(2).global("torch._utils", "_rebuild_parameter").op(')').reduce().stop())
                .contains("takes 3 arguments"));
        assertTrue(fails(PickleWriter.proto(2).str("os").op(')').reduce().stop()).contains("not callable"));
    }

    @Test
    void whitelistedConstructorsBuildData() {
        byte[] pickle = PickleWriter.proto(2).mark()
                .global("__builtin__", "set").op(']').mark().integer(1).integer(2).op('e').op(0x85).reduce()
                .global("__builtin__", "frozenset").op(')').reduce()
                .global("builtins", "slice").integer(1).integer(5).op(0x86).reduce()
                .global("_codecs", "encode").str("\u00ff\u0000").str("latin1").op(0x86).reduce()
                .global("collections", "OrderedDict").op(')').reduce().op('}').op('b')
                .global("torch", "Size").integer(2).integer(3).op(0x86).op(0x85).reduce()
                .op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0)
                .op(0x8a, 2, 0xff, 0x7f)
                .tuple().stop();
        List<?> t = assertInstanceOf(List.class, load(pickle));
        assertEquals(Set.of(1L, 2L), t.get(0));
        assertEquals(Set.of(), t.get(1));
        assertEquals(new PySlice(1L, 5L, null), t.get(2));
        assertTrue(Arrays.equals(new byte[] {(byte) 0xff, 0}, (byte[]) t.get(3)));
        assertEquals(Map.of(), t.get(4));
        assertEquals(List.of(2L, 3L), t.get(5));
        assertEquals(BigInteger.ONE.shiftLeft(63), t.get(6));
        assertEquals(32767L, t.get(7));
    }

    // ---- huge declared sizes fail fast, before allocating

    @Test
    void hugeDeclaredLengthsFailFast() {
        assertTrue(fails(PickleWriter.proto(4).op(0x8d).u64(1L << 60).stop()).contains("exceeds the limit"));
        assertTrue(fails(PickleWriter.proto(4).op(0x8e).u64(-1L).stop()).contains("exceeds the limit"));
        assertTrue(fails(PickleWriter.proto(5).op(0x96).u64(1L << 40).stop()).contains("exceeds the limit"));
        assertTrue(fails(PickleWriter.proto(2).op('X').u32(0xffffffffL).stop()).contains("exceeds the limit"));
        assertTrue(fails(PickleWriter.proto(2).op('X').u32(1000).stop()).contains("truncated"));
        assertTrue(fails(PickleWriter.proto(2).op('T').u32(-5).stop()).contains("exceeds the limit"));
        assertTrue(fails(PickleWriter.proto(2).op(0x8b).u32(0x7fffffff).stop()).contains("exceeds the limit"));
        assertTrue(fails(PickleWriter.proto(2).op(0x8b).u32(5000).stop()).contains("integer of 5000 bytes"));
        assertTrue(fails(PickleWriter.proto(4).op(0x95).u64(1L << 62).op('N').stop()).contains("frame of"));
    }

    // ---- limits on stack, memo, values and nesting

    @Test
    void stackDepthIsBounded() {
        byte[] nones = new byte[(1 << 20) + 10];
        Arrays.fill(nones, (byte) 'N');
        assertTrue(fails(PickleWriter.proto(2).raw(nones).stop()).contains("stack deeper"));
        byte[] marks = new byte[(1 << 20) + 10];
        Arrays.fill(marks, (byte) '(');
        assertTrue(fails(PickleWriter.proto(2).raw(marks).stop()).contains("stack deeper"));
    }

    @Test
    void memoIsBounded() {
        SafeUnpickler.Limits small = new SafeUnpickler.Limits(1 << 20, 1000, 100, 1000, 16, 100_000, 32);
        PickleWriter w = PickleWriter.proto(4);
        for (int i = 0; i < 200; i++) {
            w.op('N', 0x94, '0');
        }
        assertTrue(fails(w.op('N').stop(), small).contains("memo entries"));
        PickleWriter overwrite = PickleWriter.proto(2);
        for (int i = 0; i < 10_000; i++) {
            overwrite.op('N', 'q', 7, '0'); // the same index again and again is fine
        }
        assertNull(load(overwrite.op('N').stop(), small));
    }

    @Test
    void totalValuesAreBounded() {
        SafeUnpickler.Limits small = new SafeUnpickler.Limits(1 << 20, 1000, 100, 1000, 16, 1000, 32);
        PickleWriter w = PickleWriter.proto(2).op(']').put(0);
        for (int i = 0; i < 2000; i++) {
            w.get(0).op('a'); // a list holding itself 2000 times: each reference is a pushed value
        }
        assertTrue(fails(w.stop(), small).contains("more than 1000 values"));
    }

    @Test
    void tupleNestingIsBounded() {
        PickleWriter w = PickleWriter.proto(2).op('N');
        for (int i = 0; i < 10_000; i++) {
            w.op(0x85);
        }
        assertTrue(fails(w.stop()).contains("nested deeper"));
    }

    @Test
    void cyclicAndDeepListsDoNotRecurse() {
        // a list containing itself, and a 100 000 deep list chain: the VM holds them without recursion
        Object cyclic = load(PickleWriter.proto(2).op(']').put(0).get(0).op('a').stop());
        assertSame(cyclic, ((List<?>) cyclic).get(0));
        PickleWriter deep = PickleWriter.proto(2).op(']');
        for (int i = 0; i < 100_000; i++) {
            deep.op(']');
        }
        for (int i = 0; i < 100_000; i++) {
            deep.op('a'); // each list goes into the one below it
        }
        assertInstanceOf(List.class, load(deep.stop()));
        // a tuple holding a list is unhashable, so it cannot be a key (its hash would recurse into the list)
        assertTrue(fails(PickleWriter.proto(2).op('}').op(']').op(0x85).integer(1).op('s').stop())
                .contains("unhashable"));
    }

    // ---- malformed input

    @Test
    void malformedPicklesFailCleanly() {
        assertTrue(fails(new byte[0]).contains("without STOP"));
        assertTrue(fails(PickleWriter.proto(2).op('N').bytes()).contains("without STOP"));
        assertTrue(fails(PickleWriter.proto(2).stop()).contains("underflow"));
        assertTrue(fails(PickleWriter.proto(2).reduce().stop()).contains("underflow"));
        assertTrue(fails(PickleWriter.proto(2).op('N').mark().reduce().stop()).contains("underflow"));
        assertTrue(fails(PickleWriter.proto(2).get(3).stop()).contains("memo index 3"));
        assertTrue(fails(PickleWriter.proto(2).op('t').stop()).contains("no mark"));
        assertTrue(fails(PickleWriter.proto(6).op('N').stop()).contains("protocol 6"));
        assertTrue(fails(PickleWriter.proto(2).op(0x82, 1).stop()).contains("opcode 0x82"));
        assertTrue(fails(PickleWriter.proto(2).op('i').stop()).contains("opcode 0x69"));
        assertTrue(fails(PickleWriter.proto(2).op('X').u32(2).op(0xc3, 0x28).stop()).contains("UTF-8"));
        assertTrue(fails(PickleWriter.proto(2).op('c').raw(new byte[5000]).stop()).contains("newline"));
        assertTrue(fails(PickleWriter.proto(2).op('}').mark().op('N').op('u').stop()).contains("odd number"));
        assertTrue(fails(PickleWriter.proto(2).op('N').op('N').op('a').stop()).contains("not a list"));
        assertTrue(fails(PickleWriter.proto(2).op(']').op('}').op('b').op('0').op('N').op('b').stop())
                .contains("BUILD on"));
        assertTrue(fails(PickleWriter.proto(2).op('g').raw("x1\n".getBytes()).stop()).contains("bad memo index"));
    }

    @Test
    void persistentIdWithoutLoaderFails() {
        BadInputException e = assertThrows(BadInputException.class,
                () -> new SafeUnpickler(FILE, SafeUnpickler.Limits.DEFAULT, null)
                        .load(PickleWriter.proto(2).op('N').op('Q').stop()));
        assertTrue(e.getMessage().contains("persistent"));
    }

    @Test
    void textMemoAndPersidOpcodes() {
        byte[] pickle = PickleWriter.proto(2).op('P').raw("pid\n".getBytes()).op('p').raw("5\n".getBytes())
                .op('0').op('g').raw("5\n".getBytes()).stop();
        assertEquals("pid", load(pickle));
    }

    @Test
    void distinctTuplesCompareByContentOnlyWhenHashable() {
        Object t = load(PickleWriter.proto(2).integer(1).str("a").op(0x86).integer(1).str("a").op(0x86).op(0x86)
                .stop());
        List<?> pair = (List<?>) t;
        assertEquals(pair.get(0), pair.get(1));
        Object u = load(PickleWriter.proto(2).op(']').op(0x85).op(']').op(0x85).op(0x86).stop());
        List<?> lists = (List<?>) u;
        assertNotEquals(lists.get(0), lists.get(1));
    }
}
