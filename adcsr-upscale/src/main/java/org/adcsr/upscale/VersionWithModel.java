package org.adcsr.upscale;

import org.adcsr.cli.ManifestVersionProvider;
import org.adcsr.core.model.DefaultModel;
import picocli.CommandLine.IVersionProvider;

/** adcsr-upscale's {@code --version}: the suite's version, then the embedded default model it runs without --weights. */
class VersionWithModel implements IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[] {"adcsr " + ManifestVersionProvider.version(), DefaultModel.describe()};
    }
}
