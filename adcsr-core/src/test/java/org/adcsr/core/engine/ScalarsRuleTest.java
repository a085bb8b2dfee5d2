package org.adcsr.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No class of adcsr-core calls DJL's arithmetic with a number that autograd would keep over freed memory
 * ({@code mul(Number)}, {@code div(Number)}, {@code pow(Number)}, ... : README "Known engine issues"); {@link Scalars}
 * does it safely. Read from the compiled classes' constant pools, so no call is missed however it is written. The
 * optimizer and the gradient clipping run with autograd off and may use them.
 */
class ScalarsRuleTest {
    private static final Set<String> OWNERS = Set.of("ai/djl/ndarray/NDArray", "ai/djl/pytorch/engine/PtNDArray",
            "ai/djl/ndarray/NDArrays");
    private static final Set<String> UNSAFE = Set.of("mul", "muli", "div", "divi", "pow", "powi", "maximum", "minimum",
            "rdiv", "rdivi", "cbrt");
    private static final Set<String> WITHOUT_AUTOGRAD = Set.of("org/adcsr/core/train/Adam.class",
            "org/adcsr/core/train/Gradients.class");

    @Test
    void differentiableCodeMultipliesByNumbersThroughScalars() throws IOException, URISyntaxException {
        Path root = Path.of(Scalars.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> found = new ArrayList<>();
        int classes = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                classes++;
                String name = root.relativize(f).toString().replace('\\', '/');
                if (WITHOUT_AUTOGRAD.contains(name)) {
                    continue;
                }
                try (InputStream in = Files.newInputStream(f)) {
                    for (String call : calls(in)) {
                        if (unsafe(call)) {
                            found.add(name + ": " + call);
                        }
                    }
                }
            }
        }
        assertTrue(classes > 100, "adcsr-core's classes read from " + root);
        assertEquals(List.of(), found);
    }

    @Test
    void theScanSeesSuchACall() throws IOException {
        try (InputStream in = ScalarsRuleTest.class.getResourceAsStream("ScalarsRuleTest$Offender.class")) {
            assertTrue(calls(in).stream().anyMatch(ScalarsRuleTest::unsafe));
        }
    }

    /** What the scan must catch. */
    static final class Offender {
        static ai.djl.ndarray.NDArray twice(ai.djl.ndarray.NDArray x) {
            return x.mul(2);
        }
    }

    private static boolean unsafe(String call) {
        String[] p = call.split(" ");
        return OWNERS.contains(p[0]) && UNSAFE.contains(p[1])
                && (p[1].equals("cbrt") || p[2].contains("Ljava/lang/Number;"));
    }

    /** The methods a class file refers to, as "owner name descriptor". */
    static List<String> calls(InputStream stream) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort();
        in.readUnsignedShort();
        int n = in.readUnsignedShort();
        String[] utf = new String[n];
        int[] a = new int[n];
        int[] b = new int[n];
        int[] tag = new int[n];
        for (int i = 1; i < n; i++) {
            tag[i] = in.readUnsignedByte();
            switch (tag[i]) {
                case 1 -> utf[i] = in.readUTF();
                case 7, 8, 16, 19, 20 -> a[i] = in.readUnsignedShort();
                case 15 -> {
                    in.readUnsignedByte();
                    a[i] = in.readUnsignedShort();
                }
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++;
                }
                case 9, 10, 11, 12, 17, 18 -> {
                    a[i] = in.readUnsignedShort();
                    b[i] = in.readUnsignedShort();
                }
                default -> throw new IOException("constant pool tag " + tag[i]);
            }
        }
        List<String> out = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            if (tag[i] == 10 || tag[i] == 11) {
                int nat = b[i];
                out.add(utf[a[a[i]]] + " " + utf[a[nat]] + " " + utf[b[nat]]);
            }
        }
        return out;
    }
}
