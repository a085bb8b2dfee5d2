package org.adcsr.eval.metrics;

/** log Γ(x) for x > 0 by the Lanczos approximation (g = 607/128, 15 terms; relative error about 1e-15). */
final class GammaFn {
    private GammaFn() {}

    private static final double G = 607.0 / 128.0;
    private static final double HALF_LOG_2_PI = 0.5 * Math.log(2 * Math.PI);
    private static final double[] C = {
        0.99999999999999709182, 57.156235665862923517, -59.597960355475491248, 14.136097974741747174,
        -0.49191381609762019978, .33994649984811888699e-4, .46523628927048575665e-4, -.98374475304879564677e-4,
        .15808870322491248884e-3, -.21026444172410488319e-3, .21743961811521264320e-3, -.16431810653676389022e-3,
        .84418223983852743293e-4, -.26190838401581408670e-4, .36899182659531622704e-5,
    };

    static double logGamma(double x) {
        if (x < 0.5) {
            return logGamma(x + 1) - Math.log(x);
        }
        double sum = 0;
        for (int i = C.length - 1; i > 0; i--) {
            sum += C[i] / (x + i);
        }
        sum += C[0];
        double tmp = x + G + 0.5;
        return (x + 0.5) * Math.log(tmp) - tmp + HALF_LOG_2_PI + Math.log(sum / x);
    }
}
