package org.adcsr.core.io;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a file under a hidden temporary name in the target directory, flushes it to disk and renames it over the
 * target (atomically where the file system allows); missing parent directories are created. On any failure the
 * temporary file is deleted, so nothing half-written ever appears under the target name and an existing target is
 * only replaced by a complete file.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the file's content to a channel. */
    public interface ChannelBody {
        void write(FileChannel channel) throws IOException;
    }

    /** Writes the file's content to a stream. */
    public interface StreamBody {
        void write(OutputStream out) throws IOException;
    }

    public static void write(Path target, ChannelBody body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
        if (abs.getParent() != null) {
            Files.createDirectories(abs.getParent()); // like the directory outputs: missing parents are made
        }
        FileChannel opened;
        try {
            opened = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileSystemException e) {
            // name the file the user asked for, not the hidden temporary
            FileSystemException named = e instanceof AccessDeniedException
                    ? new AccessDeniedException(target.toString(), null, e.getReason())
                    : new FileSystemException(target.toString(), null, e.getReason() != null ? e.getReason()
                            : "cannot create (" + e.getClass().getSimpleName() + ")");
            named.initCause(e);
            throw named;
        }
        try {
            try (FileChannel ch = opened) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException suppressed) {
                t.addSuppressed(suppressed);
            }
            throw t;
        }
    }

    /** As {@link #write(Path, ChannelBody)}, through a stream; the body may close the stream. */
    public static void writeStream(Path target, StreamBody body) throws IOException {
        write(target, ch -> {
            OutputStream out = new FilterOutputStream(Channels.newOutputStream(ch)) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    this.out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    flush(); // the channel stays open until it is forced to disk
                }
            };
            body.write(out);
            out.flush();
        });
    }
}
