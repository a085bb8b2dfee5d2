package org.adcsr.cli;

import picocli.CommandLine.IVersionProvider;

/**
 * {@code --version}: {@code adcsr <version>}, the suite's version (all modules share it), read from the
 * {@code Implementation-Version} that maven-jar-plugin writes into adcsr-core's manifest; {@code unknown} when run
 * from class folders.
 */
public class ManifestVersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"adcsr " + version()};
    }

    public static String version() {
        String v = ManifestVersionProvider.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }
}
