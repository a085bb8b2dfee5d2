// What checking zip CRC-32s costs when a full-size torch checkpoint is loaded (issue 19, README "Security").
//   java -cp 'lib/*' bench/CrcCost.java FILE.pkl [ROUNDS]   (bench/crc.sh makes the file and runs this)
// Each round opens the checkpoint and reads every tensor twice with the same reader: the first pass verifies each
// storage entry's CRC-32 before its first read (as every load does), the second finds them verified, so the
// difference is the CRC's cost. The file is read once beforehand, so both passes come from the page cache.
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Locale;
import org.adcsr.core.io.torch.TorchCheckpoint;
import org.adcsr.core.io.torch.TorchTensorRef;

public class CrcCost {
    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        long bytes;
        try (FileChannel ch = FileChannel.open(file)) { // into the page cache
            ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
            bytes = 0;
            while (ch.read(b) > 0) {
                bytes += b.position();
                b.clear();
            }
        }
        System.out.printf(Locale.ROOT, "%s: %.2f GB%n", file, bytes / 1e9);
        System.out.println("round,tensors,load_with_crc_s,load_crc_verified_s,crc_s,crc_share");
        for (int r = 1; r <= rounds; r++) {
            try (TorchCheckpoint ck = TorchCheckpoint.open(file)) {
                double[] t = new double[2];
                int n = 0;
                for (int pass = 0; pass < 2; pass++) {
                    long t0 = System.nanoTime();
                    for (TorchTensorRef ref : ck.tensorRefs().values()) {
                        float[] v = ck.readFloats(ref);
                        n += pass == 0 && v.length > 0 ? 1 : 0;
                    }
                    t[pass] = (System.nanoTime() - t0) / 1e9;
                }
                System.out.printf(Locale.ROOT, "%d,%d,%.3f,%.3f,%.3f,%.3f%n", r, n, t[0], t[1], t[0] - t[1],
                        (t[0] - t[1]) / t[0]);
            }
        }
    }
}
