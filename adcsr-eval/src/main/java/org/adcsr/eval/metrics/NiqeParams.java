package org.adcsr.eval.metrics;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The NIQE pristine model (μ, 36 values; Σ, 36×36) from BasicSR's {@code niqe_pris_params.npz} (Apache-2.0), kept
 * as text in {@code niqe_pris_params.txt} next to this class. pyiqa's {@code niqe_modelparameters.mat} is expected
 * to hold the same numbers (METRICS.md §2, unverified: that file is not available offline).
 */
record NiqeParams(double[] mu, double[] cov) {
    static final int FEATURES = 36;

    private static volatile NiqeParams instance;

    static NiqeParams load() {
        NiqeParams p = instance;
        if (p == null) {
            p = read();
            instance = p;
        }
        return p;
    }

    private static NiqeParams read() {
        Map<String, double[]> arrays = new HashMap<>();
        try (InputStream in = NiqeParams.class.getResourceAsStream("niqe_pris_params.txt")) {
            if (in == null) {
                throw new IllegalStateException("niqe_pris_params.txt missing from the class path");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            String line, name = null;
            double[] cur = null;
            int filled = 0;
            while ((line = r.readLine()) != null) {
                line = line.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("==")) {
                    String[] f = line.split("\\s+");
                    name = f[1];
                    cur = new double[Integer.parseInt(f[2]) * Integer.parseInt(f[3])];
                    filled = 0;
                    arrays.put(name, cur);
                    continue;
                }
                for (String v : line.split(" ")) {
                    cur[filled++] = Double.parseDouble(v);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        double[] mu = arrays.get("mu_pris_param"), cov = arrays.get("cov_pris_param");
        if (mu == null || cov == null || mu.length != FEATURES || cov.length != FEATURES * FEATURES) {
            throw new IllegalStateException("niqe_pris_params.txt: bad layout");
        }
        return new NiqeParams(mu, cov);
    }
}
