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
    let norm2 = 0;
    for (let i = 0; i < len; i++) {
      const x = W[(j + i) * n + j]!;
      v[i] = x;
      norm2 += x * x;
    }
    const x0 = v[0]!;
    const norm = Math.sqrt(norm2);
    const alpha = x0 > 0 ? -norm : norm;
    v[0] = x0 - alpha;
    const vnorm2 = norm2 - x0 * x0 + v[0]! * v[0]!;
    vs.push(v);
    if (norm === 0 || vnorm2 === 0) {
      betas[j] = 0;
      continue;
    }
    const beta = 2 / vnorm2;
    betas[j] = beta;
    applyReflector(W, n, j, v, beta, j, n, w);
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
 * In place: M[row0.., c0..c1) -= beta · v · (vᵀ M[row0.., c0..c1)) for a row-major matrix with
 * `cols` columns; `v` holds the reflector for rows row0..row0+v.length. Row-wise passes only.
 */
function applyReflector(M: Float64Array, cols: number, row0: number, v: Float64Array, beta: number, c0: number, c1: number, w: Float64Array): void {
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
