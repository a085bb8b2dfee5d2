package org.adcsr.upscale;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.ModelOptions;
import org.adcsr.core.BadInputException;
import org.adcsr.core.io.AtomicFiles;
import org.adcsr.core.model.AdcsrConfig;
import org.adcsr.core.model.CostReport;
import org.adcsr.core.model.ModelFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "info", mixinStandardHelpOptions = true,
        versionProvider = org.adcsr.cli.ManifestVersionProvider.class,
        description = {
            "Parameters and multiply-adds (MACs) per module of the model, as CSV, for an input size.",
            "",
            "The figures come from running the network's own forward on shapes. With --weights, the file's keys and "
                    + "shapes are checked against the architecture first (no tensor data is read); without it, the "
                    + "paper's architecture (or --config) is described. Columns: module, kind, params, macs "
                    + "(conv and linear), attention_macs (q·kᵀ and p·v), output_shape; a final total row.",
            "",
            "Example: adcsr-upscale info --size 128x128 --depth 3",
            ""
        })
class InfoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    @Option(names = "--size", paramLabel = "WxH", defaultValue = "128x128",
            description = "LR input size (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", description = "Batch size (default: 1).")
    int batch;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "0",
            description = "Sum modules by their first N name parts, e.g. 3 gives unet.down_blocks.0 "
                    + "(default: 0, every conv, linear, norm and attention).")
    int depth;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the CSV here (default: stdout).")
    Path output;

    @Override
    public Integer call() throws IOException {
        AdcsrConfig config = model.hasWeights()
                ? ModelFiles.check(model.weights(), model.decoder(), model.config(), model.picklePolicy())
                : (model.config() != null ? model.config() : AdcsrConfig.paper());
        String[] wh = size.toLowerCase(java.util.Locale.ROOT).split("x");
        int w;
        int h;
        try {
            w = Integer.parseInt(wh[0]);
            h = Integer.parseInt(wh[1]);
        } catch (RuntimeException e) {
            throw new BadInputException("--size must be WIDTHxHEIGHT, not '" + size + "'");
        }
        int m = config.sizeMultiple();
        if (w < m || h < m || w % m != 0 || h % m != 0 || batch < 1) {
            throw new BadInputException("--size " + size + ": sides must be positive multiples of " + m);
        }
        StringWriter csv = new StringWriter();
        CostReport.writeCsv(CostReport.aggregate(CostReport.costs(config, batch, h, w), depth), csv);
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(csv);
            out.flush();
        } else {
            AtomicFiles.writeStream(output, o -> o.write(csv.toString().getBytes(StandardCharsets.UTF_8)));
        }
        return ExitCodes.OK;
    }
}
