package org.adcsr.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.codegen.docgen.manpage.ManPageGenerator;

class ManPagesTest {
    @Command(name = "adcsr-man", description = {"Writes calib/*.raw and golden/*.raw, x^2 and a + b.", "",
        "Examples:", "  adcsr-man a", "  adcsr-man b", "", "Done."})
    static class ManCommand implements Runnable {
        @Mixin
        CommonOptions common;

        @Option(names = "--keys", description = "Keys unet.* and decoder.*.")
        String keys;

        @Override
        public void run() {}
    }

    @Test
    void markupIsEscapedExamplesAreLiteralAndExitStatusIsASection(@TempDir Path dir) throws Exception {
        CommandLine cl = Cli.commandLine(new ManCommand());
        String help = cl.getUsageMessage();
        ManPages.prepare(cl.getCommandSpec());
        StringWriter adoc = new StringWriter();
        try (java.io.PrintWriter pw = new java.io.PrintWriter(adoc)) {
            ManPageGenerator.writeSingleManPage(pw, cl.getCommandSpec());
        }
        String a = adoc.toString();
        assertTrue(a.contains("calib/{asterisk}.raw and golden/{asterisk}.raw, x{caret}2 and a {plus} b."), a);
        assertTrue(a.contains("Keys unet.{asterisk} and decoder.{asterisk}."), a);
        assertTrue(a.contains("Examples:\n\n  adcsr-man a\n  adcsr-man b\n"), a);
        assertTrue(a.matches("(?s).*\n== +Exit status\n.*"), a);
        assertTrue(a.contains("*137*::\n  out of memory"), a);
        assertFalse(a.contains("calib/*.raw"), a);
        // --help of a fresh command line is untouched
        assertEquals(help, Cli.commandLine(new ManCommand()).getUsageMessage());
        assertTrue(help.contains("calib/*.raw") && help.contains("Exit codes:"), help);

        ManPages.main(new String[] {dir.toString(), ManCommand.class.getName()});
        assertTrue(Files.readString(dir.resolve("adcsr-man.adoc")).contains("{asterisk}"));
    }
}
