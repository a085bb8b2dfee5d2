package org.adcsr.core.io.torch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.adcsr.core.BadInputException;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.ModelFiles;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The code-bearing checkpoints of {@code tools/fixtures/make_hostile_pickles.py} (each runs a command under Python's
 * unpickler; torch's weights_only loader refuses them all): every one is refused with one line naming the file, the
 * global and the entry, under both pickle policies, and nothing runs.
 */
class HostilePickleFixturesTest {
    private static final Path MARKER = Path.of("adcsr-hostile-pwned");

    static Path dir() {
        try {
            return Path.of(Objects.requireNonNull(HostilePickleFixturesTest.class.getResource("/fixtures/hostile"))
                    .toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Lines of expected.tsv: file, global, entry. */
    static Stream<Arguments> cases() throws IOException {
        List<String[]> rows = Files.readAllLines(dir().resolve("expected.tsv")).stream()
                .filter(l -> !l.startsWith("#") && !l.isBlank()).map(l -> l.split("\t")).toList();
        assertEquals(8, rows.size());
        return rows.stream().map(r -> Arguments.of(r[0], r[1], r[2]));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void refusedNamingFileGlobalAndEntry(String name, String global, String entry) {
        String[] row = {name, global, entry};
        Path file = dir().resolve(row[0]);
        for (PicklePolicy policy : List.of(PicklePolicy.STRICT, PicklePolicy.allowingUnknownClasses())) {
            BadInputException e = assertThrows(BadInputException.class, () -> TorchCheckpoint.open(file, policy));
            String m = e.getMessage();
            assertTrue(m.startsWith(file + ": refused pickle global " + row[1] + " in entry '" + row[2] + "' of "),
                    m);
            assertTrue(m.endsWith("; nothing was run"), m);
            assertTrue(m.length() <= 300 && !m.contains("\n"), m);
        }
        assertFalse(Files.exists(MARKER));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void modelLoadingBlamesTheHostileFile(String name, String global, String entry) {
        String[] row = {name, global, entry};
        Path hostile = dir().resolve(row[0]);
        // a hostile decoder is named even though the weights file is read first
        Path weights = row[0].startsWith("halfDecoder") ? Fixtures.path("plain.pt").resolveSibling(
                "../parity/net_params_tiny.pkl").normalize() : hostile;
        Path decoder = row[0].startsWith("halfDecoder") ? hostile : null;
        BadInputException e = assertThrows(BadInputException.class,
                () -> ModelFiles.check(weights, decoder, AdcsrConfig.tiny()));
        assertTrue(e.getMessage().startsWith(hostile + ": refused pickle global " + row[1]), e.getMessage());
    }
}
