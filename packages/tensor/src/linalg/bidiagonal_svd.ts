import { NumericError } from '../errors.js';
import { type Matrix, matmul64, matrix } from './matrix.js';
import { applyReflector, householder, qr } from './qr.js';
import { rotateRows } from './rotation.js';
import type { SVD } from './svd.js';

/**
 * Thin SVD by Golub–Kahan: Householder bidiagonalization, then implicit Wilkinson-shifted QR
 * sweeps on the bidiagonal (Golub & Van Loan §8.6), with the left/right vectors kept as rows so
 * every reflector and rotation touches contiguous memory. Tall inputs (m > 1.2n) are QR-reduced
 * first. About 4mn² + 20n³ flops against Jacobi's ~50n³, and norm-wise backward stable (small
 * singular values to absolute, not relative, accuracy). Requires m >= n; the caller transposes.
 */
export function svdGolubKahan(a: Matrix, maxSweepsPerValue = 75): SVD {
  const { rows: m, cols: n } = a;
  if (m > 1.2 * n) {
    const { q, r } = qr(a); // q m×n, r n×n
    const inner = svdGolubKahan(r, maxSweepsPerValue);
    return { u: matmul64(q, inner.u), s: inner.s, vt: inner.vt };
  }
  const W = a.data.slice();
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(0, n - 1));
  const left: { v: Float64Array; beta: number }[] = [];
  const right: { v: Float64Array; beta: number }[] = [];
  const reflector = (v: Float64Array): { v: Float64Array; beta: number } => ({ v, beta: householder(v) });
  const w = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    // left reflector: zero column j below the diagonal
    const len = m - j;
    const v = new Float64Array(len);
    for (let i = 0; i < len; i++) v[i] = W[(j + i) * n + j]!;
    const hl = reflector(v);
    left.push(hl);
    if (hl.beta !== 0) applyReflector(W, n, j, hl.v, hl.beta, j, n, w);
    d[j] = W[j * n + j]!;
    if (j >= n - 1) continue;
    // right reflector: zero row j right of the superdiagonal
    const rl = n - j - 1;
    const u = new Float64Array(rl);
    for (let c = 0; c < rl; c++) u[c] = W[j * n + j + 1 + c]!;
    const hr = reflector(u);
    right.push(hr);
    if (hr.beta !== 0) reflectCols(W, n, j, m, j + 1, hr.v, hr.beta);
    e[j] = W[j * n + j + 1]!;
  }
  // Uᵀ (n×m) and Vᵀ (n×n) as rows, accumulated backwards (each reflector touches the trailing rows only)
  const Ut = new Float64Array(n * m);
  for (let i = 0; i < n; i++) Ut[i * m + i] = 1;
  for (let j = n - 1; j >= 0; j--) {
    const { v, beta } = left[j]!;
    if (beta !== 0) reflectCols(Ut, m, j, n, j, v, beta);
  }
  const Vt = new Float64Array(n * n);
  for (let i = 0; i < n; i++) Vt[i * n + i] = 1;
  for (let j = n - 2; j >= 0; j--) {
    const { v, beta } = right[j]!;
    if (beta !== 0) reflectCols(Vt, n, j + 1, n, j + 1, v, beta);
  }
  bidiagonalQr(d, e, Ut, m, Vt, n, maxSweepsPerValue * Math.max(1, n));
  // positive singular values, sorted descending
  for (let i = 0; i < n; i++) {
    if (d[i]! < 0) {
      d[i] = -d[i]!;
      for (let t = 0; t < n; t++) Vt[i * n + t] = -Vt[i * n + t]!;
    }
  }
  const order = Array.from(d.keys()).sort((x, y) => d[y]! - d[x]!);
  const s = Float64Array.from(order, (i) => d[i]!);
  const u = matrix(m, n);
  const vt = matrix(n, n);
  order.forEach((src, dst) => {
    for (let i = 0; i < m; i++) u.data[i * n + dst] = Ut[src * m + i]!;
    vt.data.set(Vt.subarray(src * n, src * n + n), dst * n);
  });
  return { u, s, vt };
}

/** Rows r0..r1 of M, columns c0..c0+v.length: each row x −= beta·(x·v)·vᵀ. */
function reflectCols(M: Float64Array, cols: number, r0: number, r1: number, c0: number, v: Float64Array, beta: number): void {
  const len = v.length;
  for (let i = r0; i < r1; i++) {
    const base = i * cols + c0;
    let dot = 0;
    for (let t = 0; t < len; t++) dot += M[base + t]! * v[t]!;
    const f = beta * dot;
    if (f === 0) continue;
    for (let t = 0; t < len; t++) M[base + t] = M[base + t]! - f * v[t]!;
  }
}

/**
 * Diagonalize the upper bidiagonal (d, e) by implicit-shift QR, applying right rotations to the
 * rows of Vt (n long) and left rotations to the rows of Ut (m long).
 */
function bidiagonalQr(d: Float64Array, e: Float64Array, Ut: Float64Array, m: number, Vt: Float64Array, n: number, maxSteps: number): void {
  const eps = 2.220446049250313e-16;
  let anorm = 0;
  for (let i = 0; i < n; i++) anorm = Math.max(anorm, Math.abs(d[i]!) + (i < n - 1 ? Math.abs(e[i]!) : 0));
  const tol = eps * anorm;
  let hi = n - 1;
  let steps = 0;
  while (hi > 0) {
    // deflate negligible superdiagonals
    for (let i = 0; i < hi; i++) {
      if (Math.abs(e[i]!) <= eps * (Math.abs(d[i]!) + Math.abs(d[i + 1]!)) || Math.abs(e[i]!) <= tol) e[i] = 0;
    }
    while (hi > 0 && e[hi - 1] === 0) hi--;
    if (hi === 0) break;
    let p = hi - 1;
    while (p > 0 && e[p - 1] !== 0) p--;
    if (++steps > maxSteps) throw new NumericError(`svd: bidiagonal QR did not converge in ${maxSteps} steps`);
    // a zero on the diagonal: rotate its superdiagonal entry away, which splits the block
    let zero = -1;
    for (let i = p; i <= hi; i++) if (Math.abs(d[i]!) <= tol) zero = i;
    if (zero >= 0) {
      d[zero] = 0;
      if (zero < hi) {
        let f = e[zero]!;
        e[zero] = 0;
        for (let k = zero + 1; k <= hi && f !== 0; k++) {
          const r = Math.hypot(d[k]!, f);
          const c = d[k]! / r;
          const s = f / r;
          d[k] = r;
          // left rotation mixing rows zero and k: keeps row `zero` free of f
          rotateRows(Ut, m, k, zero, c, -s);
          if (k < hi) {
            f = -s * e[k]!;
            e[k] = c * e[k]!;
          }
        }
      } else {
        let f = e[hi - 1]!;
        e[hi - 1] = 0;
        for (let k = hi - 1; k >= p && f !== 0; k--) {
          const r = Math.hypot(d[k]!, f);
          const c = d[k]! / r;
          const s = f / r;
          d[k] = r;
          rotateRows(Vt, n, k, hi, c, -s);
          if (k > p) {
            f = -s * e[k - 1]!;
            e[k - 1] = c * e[k - 1]!;
          }
        }
      }
      continue;
    }
    // Wilkinson shift from the trailing 2×2 of BᵀB
    const dm = d[hi - 1]!;
    const dn = d[hi]!;
    const em = e[hi - 1]!;
    const el = hi - 1 > p ? e[hi - 2]! : 0;
    const t11 = dm * dm + el * el;
    const t12 = dm * em;
    const t22 = dn * dn + em * em;
    const delta = (t11 - t22) / 2;
    const mu = t22 - (t12 * t12) / (delta + (delta >= 0 ? 1 : -1) * Math.hypot(delta, t12) || Number.MIN_VALUE);
    let y = d[p]! * d[p]! - mu;
    let z = d[p]! * e[p]!;
    for (let k = p; k < hi; k++) {
      // right rotation on columns k, k+1
      let r = Math.hypot(y, z);
      let c = r === 0 ? 1 : y / r;
      let s = r === 0 ? 0 : -z / r;
      if (k > p) e[k - 1] = r;
      const dk = d[k]!;
      const ek = e[k]!;
      d[k] = c * dk - s * ek;
      e[k] = s * dk + c * ek;
      const bulge = -s * d[k + 1]!;
      d[k + 1] = c * d[k + 1]!;
      rotateRows(Vt, n, k, k + 1, c, s);
      // left rotation on rows k, k+1 removes the bulge below the diagonal
      y = d[k]!;
      z = bulge;
      r = Math.hypot(y, z);
      c = r === 0 ? 1 : y / r;
      s = r === 0 ? 0 : -z / r;
      d[k] = r;
      const ek2 = e[k]!;
      const dk1 = d[k + 1]!;
      e[k] = c * ek2 - s * dk1;
      d[k + 1] = s * ek2 + c * dk1;
      rotateRows(Ut, m, k, k + 1, c, s);
      if (k < hi - 1) {
        y = e[k]!;
        z = -s * e[k + 1]!;
        e[k + 1] = c * e[k + 1]!;
      }
    }
  }
}
