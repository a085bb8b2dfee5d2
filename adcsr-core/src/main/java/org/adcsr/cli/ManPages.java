package org.adcsr.cli;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.Model.UsageMessageSpec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * The build's man page step: {@code ManPages OUTDIR COMMAND-CLASS} writes OUTDIR/NAME.adoc (and one per subcommand)
 * with picocli's {@link ManPageGenerator}, from the tool's command as {@link Cli} wires it, after making the help
 * text safe for AsciiDoc: characters AsciiDoc reads as markup ({@code *}, {@code `}, {@code ^}, {@code ~},
 * {@code +}) are written as their attribute references, so {@code calib/*.raw} renders as typed; indented
 * description lines (examples) become a literal block, one command per line; and the exit codes are the man page's
 * EXIT STATUS section. {@code --help} is not changed.
 *
 * <p>picocli-codegen is needed only here, at build time (a {@code provided} dependency; the exec plugin supplies it).
 */
public final class ManPages {
    private ManPages() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: ManPages OUTDIR COMMAND-CLASS");
            System.exit(ExitCodes.USAGE);
        }
        Object command = Class.forName(args[1]).getDeclaredConstructor().newInstance();
        CommandSpec spec = Cli.commandLine(command).getCommandSpec();
        prepare(spec);
        int code = ManPageGenerator.generateManPage(new File(args[0]), null, new boolean[0], true, spec);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** Rewrites the spec's help text for AsciiDoc, its subcommands' too. */
    static void prepare(CommandSpec spec) {
        UsageMessageSpec u = spec.usageMessage();
        u.description(literalExamples(escape(u.description())));
        u.header(escape(u.header()));
        u.footer(escape(u.footer()));
        if (!u.exitCodeList().isEmpty()) {
            Map<String, String> codes = new LinkedHashMap<>();
            u.exitCodeList().forEach((k, v) -> codes.put(k, escape(v)));
            u.exitCodeList(codes);
            u.exitCodeListHeading("Exit status%n");
        }
        for (OptionSpec o : new ArrayList<>(spec.options())) {
            if (o.group() != null) {
                continue; // picocli cannot replace an ArgGroup member; such options' help must not use markup
            }
            spec.remove(o);
            spec.addOption(o.toBuilder().description(escape(o.description())).build());
        }
        List<PositionalParamSpec> positionals = new ArrayList<>(spec.positionalParameters());
        positionals.removeIf(p -> p.group() != null);
        positionals.forEach(spec::remove);
        for (PositionalParamSpec p : positionals) {
            spec.addPositional(p.toBuilder().description(escape(p.description())).build());
        }
        for (CommandLine sub : spec.subcommands().values()) {
            prepare(sub.getCommandSpec());
        }
    }

    /** AsciiDoc markup characters as attribute references, which render as the character itself. */
    static String escape(String s) {
        return s.replace("*", "{asterisk}").replace("`", "{backtick}").replace("^", "{caret}")
                .replace("~", "{tilde}").replace("+", "{plus}");
    }

    static String[] escape(String[] lines) {
        String[] out = new String[lines.length];
        for (int i = 0; i < lines.length; i++) {
            out[i] = escape(lines[i]);
        }
        return out;
    }

    /**
     * A blank line before each run of indented lines, so that AsciiDoc takes the run as a literal paragraph (line
     * breaks kept) instead of joining it to the text before.
     */
    static String[] literalExamples(String[] lines) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            boolean indented = lines[i].startsWith("  ");
            boolean afterText = i > 0 && !lines[i - 1].isBlank() && !lines[i - 1].startsWith("  ");
            if (indented && afterText) {
                out.add("");
            }
            out.add(lines[i]);
        }
        return out.toArray(new String[0]);
    }
}
