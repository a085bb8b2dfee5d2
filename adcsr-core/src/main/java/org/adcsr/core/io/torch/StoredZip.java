package org.adcsr.core.io.torch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.adcsr.core.BadInputException;
import org.adcsr.core.Messages;

/**
 * The central directory of a ZIP archive, ZIP64 included, with the file offset of each entry's data so that stored
 * (uncompressed) entries can be read in place with positioned reads.
 *
 * <p>Every entry's bytes must lie inside the file, and a stored entry must have equal compressed and uncompressed
 * sizes. Compressed entries are listed (so that callers can say what the archive is) but cannot be read. Multi-disk
 * archives and encrypted entries are rejected.
 */
final class StoredZip {
    /**
     * One entry: its name, whether it is stored, where its bytes start in the file and how many there are (for a
     * compressed entry, the compressed bytes).
     */
    record Entry(String name, boolean stored, long dataOffset, long size, int crc) {
    }

    private static final int EOCD_SIG = 0x06054b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EOCD_SIG = 0x06064b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int LOCAL_SIG = 0x04034b50;
    private static final int EOCD_SIZE = 22;
    private static final int MAX_COMMENT = 0xffff;
    private static final long MAX_CENTRAL_DIRECTORY = 64L << 20;
    private static final long NO_VALUE32 = 0xffffffffL;

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private StoredZip(Path file, FileChannel channel) throws IOException {
        this.file = file;
        this.channel = channel;
        this.fileSize = channel.size();
    }

    /** Reads the central directory of an open file; the channel stays owned by the caller. */
    static StoredZip read(Path file, FileChannel channel) throws IOException {
        StoredZip zip = new StoredZip(file, channel);
        zip.readCentralDirectory();
        return zip;
    }

    /** Entries by name, in central-directory order. */
    Map<String, Entry> entries() {
        return Collections.unmodifiableMap(entries);
    }

    private void readCentralDirectory() throws IOException {
        int tailLength = (int) Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
        ByteBuffer tail = readAt(fileSize - tailLength, tailLength);
        int eocd = -1;
        for (int i = tailLength - EOCD_SIZE; i >= 0; i--) {
            if (tail.getInt(i) == EOCD_SIG && i + EOCD_SIZE + (tail.getShort(i + 20) & 0xffff) == tailLength) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw bad("not a ZIP archive (no end of central directory record)");
        }
        long eocdPos = fileSize - tailLength + eocd;
        long count = tail.getShort(eocd + 10) & 0xffff;
        long cdSize = tail.getInt(eocd + 12) & NO_VALUE32;
        long cdOffset = tail.getInt(eocd + 16) & NO_VALUE32;
        if ((tail.getShort(eocd + 4) & 0xffff) != 0 || (tail.getShort(eocd + 6) & 0xffff) != 0) {
            throw bad("multi-disk ZIP archives are not supported");
        }
        if ((tail.getShort(eocd + 8) & 0xffff) != count) {
            throw bad("ZIP end record has two different entry counts");
        }
        if (count == 0xffff || cdSize == NO_VALUE32 || cdOffset == NO_VALUE32) {
            long[] zip64 = readZip64End(eocdPos);
            count = zip64[0];
            cdSize = zip64[1];
            cdOffset = zip64[2];
        }
        if (cdSize > MAX_CENTRAL_DIRECTORY || cdOffset < 0 || cdSize < 0 || cdOffset + cdSize > eocdPos) {
            throw bad("ZIP central directory out of bounds or too large");
        }
        if (count > cdSize / 46) {
            throw bad("ZIP central directory claims " + count + " entries in " + cdSize + " bytes");
        }
        ByteBuffer cd = readAt(cdOffset, (int) cdSize);
        for (long i = 0; i < count; i++) {
            readCentralEntry(cd);
        }
        if (cd.hasRemaining()) {
            throw bad("ZIP central directory holds more than the " + count + " entries its end record counts");
        }
    }

    /** {count, size, offset} from the ZIP64 end record that the locator just before {@code eocdPos} points to. */
    private long[] readZip64End(long eocdPos) throws IOException {
        if (eocdPos < 20) {
            throw bad("ZIP64 end of central directory locator missing");
        }
        ByteBuffer locator = readAt(eocdPos - 20, 20);
        if (locator.getInt(0) != ZIP64_LOCATOR_SIG) {
            throw bad("ZIP64 end of central directory locator missing");
        }
        long endPos = locator.getLong(8);
        if (endPos < 0 || endPos > eocdPos - 20 - 56) {
            throw bad("ZIP64 end of central directory record out of bounds");
        }
        ByteBuffer end = readAt(endPos, 56);
        if (end.getInt(0) != ZIP64_EOCD_SIG) {
            throw bad("bad ZIP64 end of central directory record");
        }
        return new long[] {end.getLong(32), end.getLong(40), end.getLong(48)};
    }

    private void readCentralEntry(ByteBuffer cd) throws IOException {
        if (cd.remaining() < 46 || cd.getInt() != CENTRAL_SIG) {
            throw bad("bad ZIP central directory entry");
        }
        cd.position(cd.position() + 4); // versions
        int flags = cd.getShort() & 0xffff;
        int method = cd.getShort() & 0xffff;
        cd.position(cd.position() + 4); // time, date
        int crc = cd.getInt();
        long compressed = cd.getInt() & NO_VALUE32;
        long size = cd.getInt() & NO_VALUE32;
        int nameLength = cd.getShort() & 0xffff;
        int extraLength = cd.getShort() & 0xffff;
        int commentLength = cd.getShort() & 0xffff;
        cd.position(cd.position() + 8); // disk, attributes
        long localOffset = cd.getInt() & NO_VALUE32;
        if (cd.remaining() < nameLength + extraLength + commentLength) {
            throw bad("truncated ZIP central directory entry");
        }
        byte[] nameBytes = new byte[nameLength];
        cd.get(nameBytes);
        String name = Messages.clip(new String(nameBytes, StandardCharsets.UTF_8), 100);
        ByteBuffer extra = cd.slice(cd.position(), extraLength).order(ByteOrder.LITTLE_ENDIAN);
        cd.position(cd.position() + extraLength + commentLength);

        // ZIP64 extended information: the fields present are those whose 32-bit value is 0xffffffff, in this order
        boolean claimsZip64 = size == NO_VALUE32 || compressed == NO_VALUE32 || localOffset == NO_VALUE32;
        boolean hasZip64 = false;
        while (extra.remaining() >= 4) {
            int id = extra.getShort() & 0xffff;
            int length = extra.getShort() & 0xffff;
            if (length > extra.remaining()) {
                throw bad("bad ZIP extra field in entry " + name);
            }
            ByteBuffer field = extra.slice(extra.position(), length).order(ByteOrder.LITTLE_ENDIAN);
            extra.position(extra.position() + length);
            if (id != 1) {
                continue;
            }
            hasZip64 = true;
            if (size == NO_VALUE32) {
                size = long64(field, name);
            }
            if (compressed == NO_VALUE32) {
                compressed = long64(field, name);
            }
            if (localOffset == NO_VALUE32) {
                localOffset = long64(field, name);
            }
        }
        if (claimsZip64 && !hasZip64) {
            throw bad("entry " + name + " has a size or offset of 0xFFFFFFFF but no ZIP64 field");
        }
        if ((flags & 1) != 0) {
            throw bad("entry " + name + " is encrypted");
        }
        boolean stored = method == 0;
        if (stored && compressed != size || compressed < 0 || localOffset < 0) {
            throw bad("entry " + name + " has inconsistent sizes");
        }
        long dataOffset = localDataOffset(name, nameBytes, localOffset, stored, crc, compressed, size);
        if (dataOffset > fileSize || compressed > fileSize - dataOffset) {
            throw bad("entry " + name + " extends past the end of the file");
        }
        if (entries.put(name, new Entry(name, stored, dataOffset, compressed, crc)) != null) {
            throw bad("duplicate ZIP entry " + name);
        }
    }

    private long long64(ByteBuffer field, String name) {
        if (field.remaining() < 8) {
            throw bad("bad ZIP64 extra field in entry " + name);
        }
        return field.getLong();
    }

    /**
     * Where the entry's data starts, after checking that its local header agrees with the central one: signature,
     * method, name, no encryption, and (unless a data descriptor follows, bit 3, as torch.save writes) the CRC-32
     * and sizes.
     */
    private long localDataOffset(String name, byte[] nameBytes, long localOffset, boolean stored, int crc,
            long compressed, long size) throws IOException {
        if (localOffset > fileSize - 30) {
            throw bad("entry " + name + " has its local header past the end of the file");
        }
        ByteBuffer local = readAt(localOffset, 30);
        if (local.getInt(0) != LOCAL_SIG) {
            throw bad("entry " + name + " has a bad local header");
        }
        int flags = local.getShort(6) & 0xffff;
        if ((flags & 1) != 0) {
            throw bad("entry " + name + " is encrypted (local header)");
        }
        if (stored != ((local.getShort(8) & 0xffff) == 0)) {
            throw bad("entry " + name + " has different methods in its local and central headers");
        }
        int localNameLength = local.getShort(26) & 0xffff;
        if (localNameLength != nameBytes.length
                || !Arrays.equals(readAt(localOffset + 30, localNameLength).array(), nameBytes)) {
            throw bad("entry " + name + " has a different name in its local header");
        }
        long localCrc = local.getInt(14) & NO_VALUE32;
        long localCompressed = local.getInt(18) & NO_VALUE32;
        long localSize = local.getInt(22) & NO_VALUE32;
        boolean descriptor = (flags & 8) != 0;
        boolean crcOk = localCrc == (crc & NO_VALUE32) || descriptor && localCrc == 0;
        boolean sizesOk = sizeAgrees(localCompressed, compressed, descriptor) && sizeAgrees(localSize, size, descriptor);
        if (!crcOk || !sizesOk) {
            throw bad("entry " + name + " has a different " + (crcOk ? "size" : "CRC-32")
                    + " in its local and central headers");
        }
        return localOffset + 30 + localNameLength + (local.getShort(28) & 0xffff);
    }

    /** A local header's 32-bit size agrees with the central one: equal, a ZIP64 marker, or 0 before a descriptor. */
    private static boolean sizeAgrees(long local, long central, boolean descriptor) {
        return local == central || local == NO_VALUE32 || descriptor && local == 0;
    }

    /**
     * Checks the CRC-32 of a stored entry's bytes against the central directory, streaming 1 MiB at a time.
     *
     * @throws BadInputException naming the entry when they differ
     */
    static void verifyCrc(FileChannel channel, Entry entry, Path file) throws IOException {
        CRC32 crc = new CRC32();
        ByteBuffer buffer = ByteBuffer.allocateDirect((int) Math.min(1 << 20, Math.max(1, entry.size())));
        long pos = entry.dataOffset();
        long end = pos + entry.size();
        while (pos < end) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), end - pos));
            readFully(channel, buffer, pos, file);
            pos += buffer.flip().remaining();
            crc.update(buffer);
        }
        checkCrc(entry, (int) crc.getValue(), file);
    }

    /** Compares a computed CRC-32 with the entry's. */
    static void checkCrc(Entry entry, int computed, Path file) {
        if (computed != entry.crc()) {
            throw BadInputException.of(file, String.format("entry %s fails its CRC-32 check (recorded %08x, "
                    + "computed %08x): the file is corrupt", entry.name(), entry.crc(), computed));
        }
    }

    /** Exactly {@code length} bytes at {@code position}, little-endian; a short read means the file is truncated. */
    ByteBuffer readAt(long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, buffer, position, file);
        return buffer.flip();
    }

    /** Fills {@code buffer} from {@code position}; fails naming {@code file} when the file ends first. */
    static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) throws IOException {
        long pos = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, pos);
            if (n < 0) {
                throw BadInputException.of(file, "unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    private BadInputException bad(String problem) {
        return BadInputException.of(file, problem);
    }
}
