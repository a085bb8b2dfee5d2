package org.adcsr.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.adcsr.core.BadInputException;
import org.adcsr.core.engine.EngineFaultException;
import org.adcsr.core.train.TrainingDivergedException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Runs a tool's picocli command with the house conventions and returns the exit code; only {@code main} exits:
 * <pre>public static void main(String[] a) { System.exit(Cli.execute(new XCommand(), a)); }</pre>
 *
 * <p>Errors are one line on stderr, {@code <tool>: <message>}: usage errors (parse errors and
 * {@link UsageException}) exit 2 (plus a "Try --help" line),
 * {@link BadInputException} and {@link IOException} (the file system refused: an unwritable output, a full disk) 3,
 * {@link EngineFaultException} 5, {@link TrainingDivergedException} 6, {@link OutOfMemoryError} 137 with a hint, anything else 1 (stack trace with -vv).
 * Before the command runs, the slf4j-simple level follows -q/-v/-vv.
 */
public final class Cli {
    private Cli() {}

    public static int execute(Object command, String... args) {
        return execute(commandLine(command), args);
    }

    /** Runs an already configured {@link #commandLine} (tests set its out/err first). */
    public static int execute(CommandLine cl, String... args) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            return outOfMemory(cl);
        }
    }

    /** The command wired with the handlers; tests use {@code setOut}/{@code setErr} on it, then {@link #execute}. */
    public static CommandLine commandLine(Object command) {
        CommandLine cl = new CommandLine(command);
        cl.setParameterExceptionHandler(USAGE);
        cl.setExecutionExceptionHandler(FAILURE);
        cl.setExecutionStrategy(parseResult -> {
            applyLogLevel(common(parseResult));
            return new CommandLine.RunLast().execute(parseResult);
        });
        return cl;
    }

    private static final IParameterExceptionHandler USAGE = (ParameterException ex, String[] args) -> {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println(line(cl, ex.getMessage()));
        UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return ExitCodes.USAGE;
    };

    private static final IExecutionExceptionHandler FAILURE = (Exception ex, CommandLine cl, ParseResult pr) -> {
        PrintWriter err = cl.getErr();
        CommonOptions common = common(pr);
        boolean trace = common != null && common.verbosity() >= 2;
        int code;
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return outOfMemory(cl);
            }
        }
        if (ex instanceof UsageException) {
            err.println(line(cl, ex.getMessage()));
            err.println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for more information.");
            err.flush();
            return ExitCodes.USAGE;
        }
        BadInputException bad = find(ex, BadInputException.class);
        EngineFaultException fault = find(ex, EngineFaultException.class);
        IOException io = find(ex, IOException.class);
        if (bad != null) {
            err.println(line(cl, bad.getMessage()));
            code = ExitCodes.BAD_INPUT;
        } else if (io != null && fault == null) {
            // the file system refused: an unwritable output, a vanished input, a full disk; not a bug
            err.println(line(cl, describe(io)));
            code = ExitCodes.BAD_INPUT;
        } else if (fault != null) {
            err.println(line(cl, fault.getMessage()));
            code = ExitCodes.ENGINE_FAULT;
        } else if (find(ex, TrainingDivergedException.class) != null) {
            err.println(line(cl, find(ex, TrainingDivergedException.class).getMessage()));
            code = ExitCodes.DIVERGED;
        } else {
            err.println(toolName(cl) + ": internal error: " + oneLine(ex.toString())
                    + (trace ? "" : " (-vv shows the stack trace)"));
            code = ExitCodes.INTERNAL;
        }
        if (trace) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    };

    /**
     * An I/O failure as {@code FILE: problem}: {@link FileSystemException}s name their file (their own message adds
     * the class name or nothing useful), others give their message.
     */
    static String describe(IOException e) {
        if (e instanceof FileSystemException fs && fs.getFile() != null) {
            String problem;
            if (e instanceof NoSuchFileException) {
                problem = "no such file or directory";
            } else if (e instanceof AccessDeniedException) {
                problem = "permission denied";
            } else if (e instanceof FileAlreadyExistsException) {
                problem = "already exists";
            } else if (e instanceof NotDirectoryException) {
                problem = "not a directory";
            } else if (e instanceof DirectoryNotEmptyException) {
                problem = "directory not empty";
            } else {
                problem = fs.getReason() != null ? fs.getReason() : e.getClass().getSimpleName();
            }
            String other = fs.getOtherFile() == null ? "" : " (to " + fs.getOtherFile() + ")";
            return fs.getFile() + other + ": " + problem;
        }
        return "input/output error: " + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName());
    }

    private static int outOfMemory(CommandLine cl) {
        PrintWriter err = cl.getErr();
        err.println(toolName(cl) + ": out of memory; give Java more heap (e.g. JAVA_OPTS=-Xmx16g) or use smaller"
                + " inputs");
        err.flush();
        return ExitCodes.OUT_OF_MEMORY;
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String toolName(CommandLine cl) {
        return cl.getCommandSpec().root().name();
    }

    /**
     * The tool's one-line message: its name, then {@code message} on one line, the whole line clipped to
     * {@link org.adcsr.core.Messages#MAX_MESSAGE} characters (a message clipped alone would go over by the name).
     */
    static String line(CommandLine cl, String message) {
        return org.adcsr.core.Messages.clip(toolName(cl) + ": " + oneLine(message),
                org.adcsr.core.Messages.MAX_MESSAGE);
    }

    private static String oneLine(String message) {
        return message == null ? "" : message.strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** The CommonOptions mixin of the innermost command that has one, or null. */
    static CommonOptions common(ParseResult pr) {
        CommonOptions found = null;
        for (ParseResult p = pr; p != null; p = p.subcommand()) {
            for (CommandSpec mixin : p.commandSpec().mixins().values()) {
                if (mixin.userObject() instanceof CommonOptions) {
                    found = (CommonOptions) mixin.userObject();
                }
            }
        }
        return found;
    }

    /** -q: error, default: warn (unless -D set otherwise), -v: info, -vv: debug. Before any logger exists. */
    private static void applyLogLevel(CommonOptions common) {
        String key = "org.slf4j.simpleLogger.defaultLogLevel";
        int v = common == null ? 0 : common.verbosity();
        if (v == 0) {
            if (System.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        } else {
            System.setProperty(key, v < 0 ? "error" : v == 1 ? "info" : "debug");
        }
    }
}
