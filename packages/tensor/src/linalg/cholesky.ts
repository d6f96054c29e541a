import { ArgumentError, NumericError, ShapeError } from '../errors.js';
import { type Matrix, matrix } from './matrix.js';

/** Options of {@link cholesky} and {@link choleskyInverse}. */
export interface CholeskyOptions {
  /** Absolute value added to every diagonal element before factorizing (default 0). */
  jitter?: number;
  /**
   * Relative damping: adds `damping · mean(diag(A))` to the diagonal (GPTQ's `percdamp`,
   * typically 0.01). Combined with `jitter` when both are given. Default 0.
   */
  damping?: number;
  /** Return the upper factor U = Lᵀ (A = Uᵀ·U) instead of L (default false). */
  upper?: boolean;
}

function checkSquare(a: Matrix, where: string): void {
  if (a.rows !== a.cols) throw new ShapeError(`${where}: matrix must be square, got ${a.rows}x${a.cols}`);
}

/** Diagonal shift implied by the options (validated). */
function diagonalShift(a: Matrix, opts: CholeskyOptions, where: string): number {
  const jitter = opts.jitter ?? 0;
  const damping = opts.damping ?? 0;
  if (!(jitter >= 0) || !(damping >= 0)) throw new ArgumentError(`${where}: jitter (${jitter}) and damping (${damping}) must be >= 0`);
  if (damping === 0) return jitter;
  const n = a.rows;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += a.data[i * n + i]!;
  return jitter + (damping * mean) / Math.max(1, n);
}

/** Lower Cholesky factor of A + shift·I (row-major), throwing NumericError when not SPD. */
function lowerFactor(a: Matrix, shift: number, where: string): Float64Array {
  const n = a.rows;
  const A = a.data;
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = i * n;
    for (let j = 0; j <= i; j++) {
      const lj = j * n;
      let s = A[li + j]!;
      if (i === j) s += shift;
      for (let k = 0; k < j; k++) s -= L[li + k]! * L[lj + k]!;
      if (i === j) {
        if (!(s > 0)) {
          throw new NumericError(
            `${where}: matrix is not positive definite (pivot ${i} of ${n} is ${s}${shift ? ` after adding ${shift} to the diagonal` : ''}); ` +
              'check that it is symmetric, or pass { damping: 0.01 } or a { jitter } to regularize it',
          );
        }
        L[li + i] = Math.sqrt(s);
      } else {
        L[li + j] = s / L[lj + j]!;
      }
    }
  }
  return L;
}

/**
 * Cholesky factorization of a symmetric positive definite matrix in float64: A = L·Lᵀ with L
 * lower triangular (or Uᵀ·U with `upper`). Only the lower triangle of A is read. Throws a
 * NumericError naming the failing pivot when A (+ jitter/damping) is not positive definite.
 */
export function cholesky(a: Matrix, opts: CholeskyOptions = {}): Matrix {
  checkSquare(a, 'cholesky');
  const L = lowerFactor(a, diagonalShift(a, opts, 'cholesky'), 'cholesky');
  return opts.upper ? transposeSquare(L, a.rows) : matrix(a.rows, a.rows, L);
}

/**
 * Inverse of a symmetric positive definite matrix through its Cholesky factor:
 * A⁻¹ = L⁻ᵀ·L⁻¹ (symmetric by construction). With jitter/damping it inverts A + shift·I.
 * Throws a NumericError when A is not positive definite.
 */
export function choleskyInverse(a: Matrix, opts: Omit<CholeskyOptions, 'upper'> = {}): Matrix {
  checkSquare(a, 'choleskyInverse');
  const n = a.rows;
  const L = lowerFactor(a, diagonalShift(a, opts, 'choleskyInverse'), 'choleskyInverse');
  // X = L⁻¹ row by row: X[i,:] = (e_i − Σ_{k<i} L[i,k]·X[k,:]) / L[i,i]
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const xi = i * n;
    const li = i * n;
    for (let k = 0; k < i; k++) {
      const f = L[li + k]!;
      if (f === 0) continue;
      const xk = k * n;
      for (let c = 0; c <= k; c++) X[xi + c] = X[xi + c]! - f * X[xk + c]!;
    }
    X[xi + i] = X[xi + i]! + 1;
    const inv = 1 / L[li + i]!;
    for (let c = 0; c <= i; c++) X[xi + c] = X[xi + c]! * inv;
  }
  // A⁻¹ = Xᵀ·X: accumulate the lower triangle row-wise, then mirror
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const xi = i * n;
    for (let r = 0; r <= i; r++) {
      const f = X[xi + r]!;
      if (f === 0) continue;
      const o = r * n;
      for (let c = 0; c <= r; c++) out[o + c] = out[o + c]! + f * X[xi + c]!;
    }
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < r; c++) out[c * n + r] = out[r * n + c]!;
  return matrix(n, n, out);
}

/**
 * Solve A·x = b for SPD A given its lower Cholesky factor `l` (from {@link cholesky}); `b` is
 * n×k (k right-hand sides). Returns x (n×k).
 */
export function choleskySolve(l: Matrix, b: Matrix): Matrix {
  checkSquare(l, 'choleskySolve');
  const n = l.rows;
  if (b.rows !== n) throw new ShapeError(`choleskySolve: factor is ${n}x${n}, right-hand side is ${b.rows}x${b.cols}`);
  const k = b.cols;
  const L = l.data;
  const y = b.data.slice();
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const f = L[i * n + p]!;
      if (f !== 0) for (let c = 0; c < k; c++) y[i * k + c] = y[i * k + c]! - f * y[p * k + c]!;
    }
    const inv = 1 / L[i * n + i]!;
    for (let c = 0; c < k; c++) y[i * k + c] = y[i * k + c]! * inv;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) {
      const f = L[p * n + i]!;
      if (f !== 0) for (let c = 0; c < k; c++) y[i * k + c] = y[i * k + c]! - f * y[p * k + c]!;
    }
    const inv = 1 / L[i * n + i]!;
    for (let c = 0; c < k; c++) y[i * k + c] = y[i * k + c]! * inv;
  }
  return matrix(n, k, y);
}

function transposeSquare(L: Float64Array, n: number): Matrix {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) out[j * n + i] = L[i * n + j]!;
  return matrix(n, n, out);
}
