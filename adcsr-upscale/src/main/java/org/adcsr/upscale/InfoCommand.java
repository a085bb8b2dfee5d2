package org.adcsr.upscale;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.adcsr.cli.CommonOptions;
import org.adcsr.cli.ExitCodes;
import org.adcsr.cli.ModelOptions;
import org.adcsr.cli.UsageException;
import org.adcsr.cli.Values;
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

@Command(name = "info",
        description = {
            "Parameters and multiply-adds (MACs) per module of the model, as CSV, for an input size.",
            "",
            "The figures come from running the network's own forward on shapes. With --weights, the file's keys and "
                    + "shapes are checked against the architecture first (no tensor data is read); without it, --config "
                    + "is described (paper: the paper's network), else the embedded default model. Columns: module, kind, params, macs "
                    + "(conv and linear), attention_macs (q·kᵀ and p·v), output_shape; a final total row.",
            "",
            "Example: adcsr-upscale info --config paper --size 128x128 --depth 3",
            ""
        })
class InfoCommand implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    @Option(names = "--size", paramLabel = "WxH", defaultValue = "128x128",
            description = "LR input size, any size: it is padded to the network's multiple (16) as adcsr-upscale "
                    + "pads it (default: ${DEFAULT-VALUE}).")
    String size;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1", converter = Values.Positive.class,
            description = "Batch size (default: 1).")
    int batch;

    @Option(names = "--depth", paramLabel = "N", defaultValue = "0", converter = Values.NonNegative.class,
            description = "Sum modules by their first N name parts, e.g. 3 gives unet.down_blocks.0 "
                    + "(default: 0, every conv, linear, norm and attention).")
    int depth;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the CSV here (default: stdout).")
    Path output;

    @Override
    public Integer call() throws IOException {
        AdcsrConfig config = !model.hasWeights() && model.config() != null ? model.config() : model.check();
        if (!model.hasWeights() && model.config() == null && !common.quiet()) {
            spec.commandLine().getErr().println("adcsr-upscale info: " + model.label() + " (--config paper "
                    + "describes the paper's network)");
            spec.commandLine().getErr().flush();
        }
        String[] wh = size.toLowerCase(java.util.Locale.ROOT).split("x");
        int w;
        int h;
        try {
            w = Integer.parseInt(wh[0]);
            h = Integer.parseInt(wh[1]);
        } catch (RuntimeException e) {
            throw new UsageException("--size must be WIDTHxHEIGHT, not '" + size + "'");
        }
        if (w < 1 || h < 1) {
            throw new UsageException("--size " + size + ": sides must be at least 1");
        }
        // as adcsr-upscale runs it: sides padded up to the network's size multiple
        int m = config.sizeMultiple();
        int pw = (w + m - 1) / m * m;
        int ph = (h + m - 1) / m * m;
        if ((pw != w || ph != h) && !common.quiet()) {
            spec.commandLine().getErr().printf("adcsr-upscale info: %s is run padded to %dx%d (multiples of %d), as "
                    + "adcsr-upscale pads it%n", size, pw, ph, m);
            spec.commandLine().getErr().flush();
        }
        StringWriter csv = new StringWriter();
        CostReport.writeCsv(CostReport.aggregate(CostReport.costs(config, batch, ph, pw), depth), csv);
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
