import { type Matrix, NumericError, cholesky, matmulTN64, matrix } from '@whittle/tensor';
import type { InputStats } from './calibration.js';

/**
 * An invertible input-side transform S of a weight W (K×N, y = x·W): the SVD is taken of
 * Sᵀ·W, whose truncation error ‖Sᵀ(W − W')‖_F equals (whitening) or approximates (ASVD) the
 * layer-output error ‖X(W − W')‖_F; `undo` maps the left factor back (S⁻ᵀ·P).
 */
export interface InputTransform {
  apply(w: Matrix): Matrix;
  undo(p: Matrix): Matrix;
}

/**
 * SVD-LLM whitening: XᵀX + damping·mean(diag)·I = L·Lᵀ (Cholesky), Sᵀ = Lᵀ. Then
 * ‖X·Δ‖²_F = ‖Lᵀ·Δ‖²_F (up to the damping), so truncating the SVD of Lᵀ·W is optimal for the
 * layer output on the calibration data. Damping is raised (×10, up to 4 times) when the
 * covariance is numerically singular.
 */
export function whiteningTransform(stats: InputStats, damping: number): InputTransform {
  const k = stats.gram.rows;
  let l: Matrix | undefined;
  let d = damping;
  for (let attempt = 0; !l; attempt++) {
    try {
      l = cholesky(stats.gram, { damping: d, jitter: 1e-10 });
    } catch (e) {
      if (!(e instanceof NumericError) || attempt >= 4) throw e;
      d = d > 0 ? d * 10 : 1e-4;
    }
  }
  const L = l.data;
  return {
    apply: (w) => matmulTN64(l, w),
    undo(p) {
      // back substitution: Lᵀ·X = P, Lᵀ upper triangular with (Lᵀ)[i][c] = L[c][i]
      const n = p.cols;
      const x = matrix(k, n, p.data.slice());
      const X = x.data;
      for (let i = k - 1; i >= 0; i--) {
        for (let c = i + 1; c < k; c++) {
          const f = L[c * k + i]!;
          if (f !== 0) for (let j = 0; j < n; j++) X[i * n + j] = X[i * n + j]! - f * X[c * n + j]!;
        }
        const inv = 1 / L[i * k + i]!;
        for (let j = 0; j < n; j++) X[i * n + j] = X[i * n + j]! * inv;
      }
      return x;
    },
  };
}

/**
 * ASVD diagonal scaling: S = diag(mean|x_j|^alpha) (floored at 1e-6 of the largest), so input
 * channels with large activations weigh more in the truncation.
 */
export function asvdTransform(stats: InputStats, alpha: number): InputTransform {
  const k = stats.absMean.length;
  const peak = Math.max(...stats.absMean, 0);
  const s = Float64Array.from(stats.absMean, (v) => Math.pow(Math.max(v, peak * 1e-6, 1e-12), alpha));
  const scaleRows = (m: Matrix, f: (i: number) => number): Matrix => {
    const out = matrix(m.rows, m.cols, m.data.slice());
    for (let i = 0; i < k; i++) {
      const c = f(i);
      for (let j = 0; j < m.cols; j++) out.data[i * m.cols + j] = out.data[i * m.cols + j]! * c;
    }
    return out;
  };
  return { apply: (w) => scaleRows(w, (i) => s[i]!), undo: (p) => scaleRows(p, (i) => 1 / s[i]!) };
}
