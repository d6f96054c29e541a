import { type Matrix, matrix } from './matrix.js';

/** Thin QR factors: `q` is m×k with orthonormal columns, `r` is k×n upper triangular, k = min(m, n). */
export interface QR {
  readonly q: Matrix;
  readonly r: Matrix;
}

/**
 * Thin QR decomposition by Householder reflections in float64: A = Q·R with Q m×k orthonormal
 * columns and R k×n upper triangular (k = min(m, n)). The diagonal of R may be negative.
 * The input is not modified.
 */
export function qr(a: Matrix): QR {
  const { rows: m, cols: n } = a;
  const k = Math.min(m, n);
  const W = a.data.slice();
  const vs: Float64Array[] = [];
  const betas = new Float64Array(k);
  const w = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    const len = m - j;
    const v = new Float64Array(len);
    for (let i = 0; i < len; i++) v[i] = W[(j + i) * n + j]!;
    const beta = householder(v);
    vs.push(v);
    betas[j] = beta;
    if (beta !== 0) applyReflector(W, n, j, v, beta, j, n, w);
  }
  const r = matrix(k, n);
  for (let i = 0; i < k; i++) for (let c = i; c < n; c++) r.data[i * n + c] = W[i * n + c]!;
  // Q = H_0 … H_{k-1} I(m×k), accumulated backwards; H_j touches rows ≥ j and columns ≥ j only
  const q = matrix(m, k);
  const Q = q.data;
  for (let i = 0; i < k; i++) Q[i * k + i] = 1;
  const wq = new Float64Array(k);
  for (let j = k - 1; j >= 0; j--) {
    if (betas[j] === 0) continue;
    applyReflector(Q, k, j, vs[j]!, betas[j]!, j, k, wq);
  }
  return { q, r };
}

/**
 * Turn `x` (in place) into a Householder vector v with (I − beta·v·vᵀ)·x = α·e₁, |α| = ‖x‖;
 * returns beta (0 when x is zero: the reflector is the identity).
 */
export function householder(x: Float64Array): number {
  let norm2 = 0;
  for (let i = 0; i < x.length; i++) norm2 += x[i]! * x[i]!;
  if (norm2 === 0) return 0;
  const x0 = x[0]!;
  const alpha = x0 > 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
  x[0] = x0 - alpha;
  const vnorm2 = norm2 - x0 * x0 + x[0]! * x[0]!;
  return vnorm2 === 0 ? 0 : 2 / vnorm2;
}

/**
 * In place: M[row0.., c0..c1) -= beta · v · (vᵀ M[row0.., c0..c1)) for a row-major matrix with
 * `cols` columns; `v` holds the reflector for rows row0..row0+v.length. Row-wise passes only.
 */
export function applyReflector(M: Float64Array, cols: number, row0: number, v: Float64Array, beta: number, c0: number, c1: number, w: Float64Array): void {
  const len = v.length;
  for (let c = c0; c < c1; c++) w[c] = 0;
  for (let i = 0; i < len; i++) {
    const vi = v[i]!;
    if (vi === 0) continue;
    const base = (row0 + i) * cols;
    for (let c = c0; c < c1; c++) w[c] = w[c]! + vi * M[base + c]!;
  }
  for (let c = c0; c < c1; c++) w[c] = w[c]! * beta;
  for (let i = 0; i < len; i++) {
    const vi = v[i]!;
    if (vi === 0) continue;
    const base = (row0 + i) * cols;
    for (let c = c0; c < c1; c++) M[base + c] = M[base + c]! - vi * w[c]!;
  }
}
