package org.adcsr.core.model;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Engines;
import org.adcsr.core.io.AtomicFiles;
import org.adcsr.core.io.DType;
import org.adcsr.core.io.SafetensorsReader;
import org.adcsr.core.io.SafetensorsWriter;

/**
 * The embedded default model: a small AdcSR network trained by the suite's own tools ({@code make -C examples
 * default-model}), shipped as the class-path resource {@value #RESOURCE} next to this class, so that
 * {@code adcsr-upscale} works without {@code --weights}. Its model card (name, data, steps, licence, measured quality)
 * is in the file's metadata under {@value #CARD_PREFIX}{@code *}, next to the {@code adcsr.config} the network is
 * built from.
 *
 * <p>Weights are memory-mapped from a file, so a resource inside a jar is copied once to the cache directory
 * ({@link Engines#cacheHome()}{@code /models}), under a name holding its SHA-256 prefix; a cached copy whose content
 * does not match is written again.
 */
public final class DefaultModel {
    public static final String RESOURCE = "default-model.safetensors";

    /** Metadata keys of the model card: {@code adcsr.card.name}, {@code adcsr.card.data}, ... */
    public static final String CARD_PREFIX = "adcsr.card.";

    private static volatile Path cached;

    private DefaultModel() {
    }

    /** Whether this build carries the default model. */
    public static boolean available() {
        return DefaultModel.class.getResource(RESOURCE) != null;
    }

    /** The default model's file; a one-line error when this build has none. */
    public static Path path() {
        Path p = cached;
        if (p != null && Files.isRegularFile(p)) { // (a cache directory can be emptied while a process runs)
            return p;
        }
        URL url = DefaultModel.class.getResource(RESOURCE);
        if (url == null) {
            throw new BadInputException("no model weights: this build has no default model; give --weights ("
                    + ModelFiles.OFFICIAL_WEIGHTS + ")");
        }
        try {
            if ("file".equals(url.getProtocol())) {
                p = Paths.get(url.toURI());
            } else {
                p = extract(url, Engines.cacheHome().resolve("models"));
            }
        } catch (IOException | URISyntaxException e) {
            throw new BadInputException("cannot prepare the default model under " + Engines.cacheHome()
                    + "/models: " + e.getMessage() + " (set XDG_CACHE_HOME or -Dadcsr.cache.dir to a writable "
                    + "directory, or give --weights)", e);
        }
        cached = p;
        return p;
    }

    /** Copies the resource to {@code dir}, named by its content's hash, unless an identical copy is there. */
    static Path extract(URL url, Path dir) throws IOException {
        byte[] bytes;
        try (InputStream in = url.openStream()) {
            bytes = in.readAllBytes();
        }
        String hash = sha256(bytes);
        Path file = dir.resolve("default-model-" + hash.substring(0, 16) + ".safetensors");
        if (Files.isRegularFile(file) && Files.size(file) == bytes.length && sha256(Files.readAllBytes(file))
                .equals(hash)) {
            return file;
        }
        Files.createDirectories(dir);
        AtomicFiles.writeStream(file, o -> o.write(bytes));
        return file;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The model card of a weights file: its {@value #CARD_PREFIX} metadata, keys without the prefix, in order. */
    public static Map<String, String> card(Path weights) {
        Map<String, String> card = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(weights)) {
            r.metadata().forEach((k, v) -> {
                if (k.startsWith(CARD_PREFIX)) {
                    card.put(k.substring(CARD_PREFIX.length()), v);
                }
            });
        }
        return card;
    }

    /** One line naming the default model, for {@code --version}: its name and measured quality. */
    public static String describe() {
        if (!available()) {
            return "default model: none in this build";
        }
        Map<String, String> card = card(path());
        StringBuilder s = new StringBuilder("default model: ").append(card.getOrDefault("name", "(unnamed)"));
        if (card.containsKey("quality")) {
            s.append("; quality ").append(card.get("quality"));
        }
        return s.toString();
    }

    /**
     * {@code pack IN CARD OUT}: the weights of {@code IN} (adcsr-distill's {@code model.safetensors}) stored in float16
     * as {@code OUT}, with {@code IN}'s metadata plus the model card read from {@code CARD}, one {@code key: value}
     * per line ({@code #} comments and blank lines skipped), under {@value #CARD_PREFIX}. The packaging step of
     * {@code make -C examples default-model-install}; not a user tool.
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4 || !args[0].equals("pack")) {
            System.err.println("usage: DefaultModel pack IN.safetensors CARD.txt OUT.safetensors");
            System.exit(2);
        }
        Path in = Paths.get(args[1]);
        Map<String, String> meta = new LinkedHashMap<>();
        try (SafetensorsReader r = SafetensorsReader.open(in)) {
            meta.putAll(r.metadata());
            meta.putAll(readCard(Paths.get(args[2])));
            SafetensorsWriter.copy(r, Paths.get(args[3]), meta, DType.F16);
        }
    }

    /** A {@code key: value} card file as {@value #CARD_PREFIX}-prefixed metadata. */
    static Map<String, String> readCard(Path file) throws IOException {
        Map<String, String> card = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            int colon = t.indexOf(':');
            if (colon <= 0) {
                throw new IOException(file + ": not a 'key: value' line: " + t);
            }
            card.put(CARD_PREFIX + t.substring(0, colon).strip(), t.substring(colon + 1).strip());
        }
        return card;
    }
}
