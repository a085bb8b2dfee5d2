package org.adcsr.core.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.adcsr.core.engine.Scalars;

/**
 * {@code 1 − SSIM} of two image batches on BT.601 Y, differentiable: the SSIM adcsr-eval reports for the default
 * model's quality figures (11×11 Gaussian window, σ 1.5, valid filtering, data range 255, Y = 16 + 65.481 R +
 * 128.553 G + 24.966 B of RGB in [0, 1]), here of float images (no rounding to 8 bits) and without pyiqa's clamp of
 * the contrast-structure term at 0.
 * <pre>
 *   μ = G·Y·Gᵀ per image (G: the valid window as an [H − 10, H] band matrix; Gᵀ likewise for the columns)
 *   σ_a² = G·Y_a²·Gᵀ − μ_a²,   σ_ab = G·(Y_a·Y_b)·Gᵀ − μ_a·μ_b
 *   SSIM = mean over the map of (2 μ_a μ_b + C1)(2 σ_ab + C2) / ((μ_a² + μ_b² + C1)(σ_a² + σ_b² + C2))
 * </pre>
 * with C1 = (0.01·255)² and C2 = (0.03·255)².
 */
public final class SsimTerm {
    private SsimTerm() {
    }

    static final int WINDOW = 11;
    static final double SIGMA = 1.5;
    static final double C1 = (0.01 * 255) * (0.01 * 255);
    static final double C2 = (0.03 * 255) * (0.03 * 255);
    /** Y's weights for RGB in [−1, 1] ({@code (x + 1) / 2} folded in), and its offset. */
    private static final double[] Y_WEIGHTS = {65.481 / 2, 128.553 / 2, 24.966 / 2};
    private static final double Y_OFFSET = 16 + (65.481 + 128.553 + 24.966) / 2;

    /** The normalised 1-D Gaussian window. */
    static double[] window() {
        double[] k = new double[WINDOW];
        double sum = 0;
        for (int i = 0; i < WINDOW; i++) {
            k[i] = Math.exp(-((i - WINDOW / 2) * (i - WINDOW / 2)) / (2 * SIGMA * SIGMA));
            sum += k[i];
        }
        for (int i = 0; i < WINDOW; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** The valid filtering along one axis of length n as an {@code [n − 10, n]} matrix, row-major. */
    static double[] bandMatrix(int n) {
        double[] k = window();
        int out = n - WINDOW + 1;
        double[] g = new double[out * n];
        for (int r = 0; r < out; r++) {
            for (int j = 0; j < WINDOW; j++) {
                g[r * n + r + j] = k[j];
            }
        }
        return g;
    }

    /**
     * {@code 1 − mean SSIM} of {@code a} against {@code b}, both {@code [B, 3, H, W]} RGB in [−1, 1] with H and W at
     * least 11; gradients flow to both.
     */
    public static NDArray loss(NDArray a, NDArray b) {
        Shape s = a.getShape();
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        if (h < WINDOW || w < WINDOW) {
            throw new IllegalArgumentException("SSIM needs at least 11x11 pixels, got " + w + "x" + h);
        }
        NDManager m = a.getManager();
        // Java-made arrays and numbers enter the graph as tensors libtorch owns (README "Known engine issues")
        NDArray rows = Scalars.owned(m.create(bandMatrix(h), new Shape(h - WINDOW + 1, h)), a.getDataType());
        NDArray columnsT = Scalars.owned(m.create(bandMatrix(w), new Shape(w - WINDOW + 1, w)).transpose(),
                a.getDataType());
        NDArray ya = luma(a);
        NDArray yb = luma(b);
        NDArray muA = rows.matMul(ya.matMul(columnsT));
        NDArray muB = rows.matMul(yb.matMul(columnsT));
        NDArray muAA = muA.mul(muA);
        NDArray muBB = muB.mul(muB);
        NDArray muAB = muA.mul(muB);
        NDArray varA = rows.matMul(ya.mul(ya).matMul(columnsT)).sub(muAA);
        NDArray varB = rows.matMul(yb.mul(yb).matMul(columnsT)).sub(muBB);
        NDArray cov = rows.matMul(ya.mul(yb).matMul(columnsT)).sub(muAB);
        NDArray map = Scalars.mul(muAB, 2).add(C1).mul(Scalars.mul(cov, 2).add(C2))
                .div(muAA.add(muBB).add(C1).mul(varA.add(varB).add(C2)));
        return map.mean().neg().add(1);
    }

    /** BT.601 Y in [16, 235] of RGB in [−1, 1], {@code [B, 1, H, W]}. */
    static NDArray luma(NDArray rgb) {
        NDArray weights = Scalars.owned(rgb.getManager().create(Y_WEIGHTS, new Shape(1, 3, 1, 1)), rgb.getDataType());
        return rgb.mul(weights).sum(new int[] {1}, true).add(Y_OFFSET);
    }
}
