package org.adcsr.upscale;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.adcsr.cli.UsageException;
import org.adcsr.core.BadInputException;
import org.adcsr.core.image.Images;

/** Turns the command line's inputs and output into jobs: which file goes where. */
final class Jobs {
    /** Extensions taken from directories. */
    static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif", "tif", "tiff", "webp");

    private Jobs() {
    }

    /** An input file and the path under which its output is mirrored in an output directory. */
    private record Source(Path file, Path relative) {
    }

    static List<Job> plan(List<String> inputs, String output, String suffix, String format, boolean overwrite) {
        Images.formatOf(Path.of("output." + format)); // refuses unknown formats up front
        for (String s : inputs) {
            if (!s.equals("-") && !Files.exists(Path.of(s))) {
                throw BadInputException.of(Path.of(s), "no such file or directory");
            }
        }
        boolean stdin = inputs.contains("-");
        if (stdin && inputs.size() > 1) {
            throw new UsageException("- (stdin) must be the only input");
        }
        if ("-".equals(output) || (stdin && output == null)) {
            if (!stdin && inputs.size() != 1) {
                throw new UsageException("-o - (stdout) takes exactly one input");
            }
            Path in = stdin ? null : Path.of(inputs.get(0));
            if (in != null && Files.isDirectory(in)) {
                throw new BadInputException(in + ": a directory cannot go to stdout");
            }
            return List.of(new Job(in, null, false));
        }
        List<Source> sources = new ArrayList<>();
        boolean anyDirectory = false;
        for (String s : inputs) {
            Path p = Path.of(s);
            if (Files.isDirectory(p)) {
                anyDirectory = true;
                sources.addAll(walk(p));
            } else {
                sources.add(new Source(p, p.getFileName()));
            }
        }
        if (stdin) {
            // stdin with a named output file
            return List.of(new Job(null, Path.of(output), !overwrite && Files.exists(Path.of(output))));
        }
        Path out = output == null ? null : Path.of(output);
        boolean toDirectory = out != null && (Files.isDirectory(out) || output.endsWith("/") || sources.size() > 1
                || anyDirectory);
        if (toDirectory && !Files.isDirectory(out) && !output.endsWith("/")
                && IMAGE_EXTENSIONS.contains(Images.extension(out))) {
            // several images cannot go to one file; a directory named like an image is surely not what was meant
            throw new UsageException("-o " + output + ": " + (anyDirectory ? "a directory input" : inputs.size()
                    + " inputs") + " need an output directory, and this names an image file (end it with / to "
                    + "make a directory of that name)");
        }
        List<Job> jobs = new ArrayList<>();
        for (Source src : sources) {
            Path target;
            if (out == null) {
                target = src.file().resolveSibling(derivedName(src.file(), suffix, format));
            } else if (toDirectory) {
                Path rel = src.relative().getParent();
                Path dir = rel == null ? out : out.resolve(rel);
                target = dir.resolve(derivedName(src.file(), suffix, format));
            } else {
                Images.formatOf(out);
                target = out;
            }
            jobs.add(new Job(src.file(), target, !overwrite && Files.exists(target)));
        }
        checkNoClashes(jobs);
        return jobs;
    }

    /** {@code photo.jpg} → {@code photo_x4.png}. */
    static String derivedName(Path input, String suffix, String format) {
        String name = input.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        return stem + suffix + "." + format;
    }

    private static List<Source> walk(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            List<Source> found = files.filter(Files::isRegularFile)
                    .filter(f -> IMAGE_EXTENSIONS.contains(Images.extension(f)))
                    .sorted()
                    .map(f -> new Source(f, dir.relativize(f)))
                    .toList();
            if (found.isEmpty()) {
                throw BadInputException.of(dir, "no images (" + String.join(", ", new java.util.TreeSet<>(
                        IMAGE_EXTENSIONS)) + ")");
            }
            return found;
        } catch (IOException e) {
            throw BadInputException.of(dir, "cannot list (" + e.getMessage() + ")", e);
        }
    }

    /** Refuses runs that would overwrite an input or write two images to one file. */
    private static void checkNoClashes(List<Job> jobs) {
        Set<Path> inputs = new HashSet<>();
        for (Job j : jobs) {
            inputs.add(canonical(j.input()));
        }
        Map<Path, Path> seen = new HashMap<>();
        for (Job j : jobs) {
            Path out = canonical(j.output());
            if (inputs.contains(out)) {
                throw BadInputException.of(j.output(), "is an input; refusing to overwrite it (choose another "
                        + "--output or --suffix)");
            }
            Path other = seen.putIfAbsent(out, j.input());
            if (other != null) {
                throw BadInputException.of(j.output(), "would be written for both " + other + " and " + j.input());
            }
        }
    }

    private static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return Files.exists(abs) ? abs.toRealPath() : abs;
        } catch (IOException e) {
            return abs;
        }
    }

}
