package org.adcsr.core.io.torch;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/** The files written by {@code tools/fixtures/make_torch_fixtures.py} and their expected contents. */
final class Fixtures {
    private Fixtures() {
    }

    static Path path(String name) {
        try {
            return Path.of(Objects.requireNonNull(Fixtures.class.getResource("/fixtures/torch/" + name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code expected.json}: file → {tensors: name → {dtype, shape, values}, aliases: [[a, b], …]}. */
    static JsonObject expected() {
        try (Reader r = new InputStreamReader(
                Objects.requireNonNull(Fixtures.class.getResourceAsStream("/fixtures/torch/expected.json")),
                StandardCharsets.UTF_8)) {
            return JsonParser.parseReader(r).getAsJsonObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
