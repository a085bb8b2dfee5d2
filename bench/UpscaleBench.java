// Speed of the full AdcSR network against a plain 3x3 conv stack on the same machine, in the same run.
// Run from the repository root after the build:  java -cp 'lib/*' bench/UpscaleBench.java [threads] [weights-out]
// Random weights (the figures do not depend on the values). With weights-out, also saves them (1.8 GB) for the
// command-line benchmarks in bench/upscale.sh.
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import java.nio.file.Path;
import java.util.Map;
import org.adcsr.core.Engines;
import org.adcsr.core.io.DType;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.AdcsrModel;
import org.adcsr.core.model.CostReport;
import org.adcsr.core.model.ModelFiles;
import org.adcsr.core.model.ShapeOps.ModuleCost;

public class UpscaleBench {
    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 2;
        Engine engine = Engines.start(Engines.Target.CPU, threads);
        AdcsrConfig config = AdcsrConfig.paper();
        try (NDManager m = engine.newBaseManager();
                AdcsrModel model = AdcsrModel.random(config, 1, m, DataType.FLOAT32)) {
            if (args.length > 1) {
                ModelFiles.save(model, Path.of(args[1]), Map.of("note", "random weights for benchmarks"), DType.F32);
            }
            // reference: 10 x Conv3x3 320->320 on [1,320,64,64] (DJL.md), best of 5
            NDArray a = m.randomUniform(-1, 1, new Shape(1, 320, 64, 64));
            NDArray w = m.randomUniform(-0.02f, 0.02f, new Shape(320, 320, 3, 3));
            NDArray b = m.zeros(new Shape(320));
            double convBest = Double.MAX_VALUE;
            for (int r = 0; r < 6; r++) {
                long t0 = System.nanoTime();
                NDArray h = a;
                for (int i = 0; i < 10; i++) {
                    NDArray next = Conv2d.conv2d(h, w, b, new Shape(1, 1), new Shape(1, 1), new Shape(1, 1), 1)
                            .singletonOrThrow();
                    if (h != a) {
                        h.close();
                    }
                    h = next;
                }
                h.close();
                double s = (System.nanoTime() - t0) / 1e9;
                if (r > 0) {
                    convBest = Math.min(convBest, s);
                }
            }
            double convMacs = 10.0 * 320 * 320 * 9 * 64 * 64;

            long macs = 0;
            for (ModuleCost c : CostReport.costs(config, 1, 128, 128)) {
                macs += c.macs() + c.attentionMacs();
            }
            NDArray lr = m.randomUniform(-1, 1, new Shape(1, 3, 128, 128));
            double netBest = Double.MAX_VALUE;
            for (int r = 0; r < 4; r++) {
                long t0 = System.nanoTime();
                model.forward(lr).close();
                double s = (System.nanoTime() - t0) / 1e9;
                if (r > 0) {
                    netBest = Math.min(netBest, s);
                }
            }
            double convRate = 2 * convMacs / convBest / 1e9;
            double netRate = 2 * macs / netBest / 1e9;
            System.out.printf("threads,%d%n", threads);
            System.out.printf("conv_stack_gflops,%.1f%n", convRate);
            System.out.printf("network_seconds_128_to_512,%.2f%n", netBest);
            System.out.printf("network_gmacs,%.1f%n", macs / 1e9);
            System.out.printf("network_gflops,%.1f%n", netRate);
            System.out.printf("fraction_of_conv_stack,%.2f%n", netRate / convRate);
        }
    }
}
