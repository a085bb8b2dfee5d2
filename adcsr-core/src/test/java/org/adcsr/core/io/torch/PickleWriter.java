package org.adcsr.core.io.torch;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Assembles pickle bytes opcode by opcode, for hand-made (hostile) test inputs. */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    static PickleWriter proto(int version) {
        return new PickleWriter().op(0x80).op(version);
    }

    PickleWriter op(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    PickleWriter raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    PickleWriter u32(long v) {
        return op((int) v & 0xff, (int) (v >>> 8) & 0xff, (int) (v >>> 16) & 0xff, (int) (v >>> 24) & 0xff);
    }

    PickleWriter u64(long v) {
        return u32(v).u32(v >>> 32);
    }

    /** GLOBAL {@code module name}. */
    PickleWriter global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** STACK_GLOBAL from two SHORT_BINUNICODE strings. */
    PickleWriter stackGlobal(String module, String name) {
        return shortStr(module).shortStr(name).op(0x93);
    }

    /** BINUNICODE. */
    PickleWriter str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').u32(b.length).raw(b);
    }

    PickleWriter shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op(0x8c, b.length).raw(b);
    }

    /** BININT, or LONG1 of 8 bytes beyond 32 bits. */
    PickleWriter integer(long v) {
        return v == (int) v ? op('J').u32(v) : op(0x8a, 8).u64(v);
    }

    PickleWriter mark() {
        return op('(');
    }

    PickleWriter tuple() {
        return op('t');
    }

    PickleWriter reduce() {
        return op('R');
    }

    PickleWriter put(int index) {
        return op('q', index);
    }

    PickleWriter get(int index) {
        return op('h', index);
    }

    byte[] stop() {
        out.write('.');
        return out.toByteArray();
    }

    /** Without STOP. */
    byte[] bytes() {
        return out.toByteArray();
    }

    /**
     * {@code _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, shape, stride, False, {})}, as
     * torch writes it (the tensor is left on the stack).
     */
    PickleWriter tensor(String key, long numel, long offset, long[] shape, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage").global("torch", "FloatStorage").str(key).str("cpu").integer(numel).tuple().op('Q');
        integer(offset);
        mark();
        for (long s : shape) {
            integer(s);
        }
        tuple().mark();
        for (long s : stride) {
            integer(s);
        }
        tuple().op(0x89).op('}');
        return tuple().reduce();
    }
}
