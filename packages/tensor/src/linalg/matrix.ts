import { ArgumentError, ShapeError } from '../errors.js';
import type { Rng } from '../rng.js';

/**
 * A dense row-major float64 matrix: element (i, j) is `data[i * cols + j]`. The linear algebra
 * routines (SVD, QR, Cholesky) work on these on the CPU with float64 accumulation.
 */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** A `rows`×`cols` matrix over `data` (zeros when omitted; the array is used, not copied). */
export function matrix(rows: number, cols: number, data?: ArrayLike<number>): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new ArgumentError(`matrix(): rows and cols must be non-negative integers, got ${rows}x${cols}`);
  }
  if (data && data.length !== rows * cols) {
    throw new ShapeError(`matrix(): ${data.length} values given for a ${rows}x${cols} matrix (${rows * cols} needed)`);
  }
  const d = data instanceof Float64Array ? data : data ? Float64Array.from(data) : new Float64Array(rows * cols);
  return { rows, cols, data: d };
}

/** The n×n identity. */
export function identityMatrix(n: number): Matrix {
  const m = matrix(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** A matrix of independent standard normal samples from a seeded generator. */
export function randomNormalMatrix(rows: number, cols: number, rng: Rng): Matrix {
  const m = matrix(rows, cols);
  const d = m.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal();
  return m;
}

/** Transpose (a new matrix). */
export function transposeMatrix(a: Matrix): Matrix {
  const { rows, cols, data } = a;
  const out = new Float64Array(rows * cols);
  const B = 32; // blocked so both sides stay in cache
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = data[i * cols + j]!;
    }
  }
  return { rows: cols, cols: rows, data: out };
}

/** C = A·B. Row-major i-k-j order, blocked over k so a panel of B stays in cache. */
export function matmul64(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new ShapeError(`matmul64: ${a.rows}x${a.cols} times ${b.rows}x${b.cols} (inner dimensions differ)`);
  const m = a.rows;
  const k = a.cols;
  const n = b.cols;
  const A = a.data;
  const Bd = b.data;
  const C = new Float64Array(m * n);
  const KB = Math.max(16, Math.min(k, Math.floor(16384 / Math.max(1, n)))); // ~128 KB panel of B
  for (let k0 = 0; k0 < k; k0 += KB) {
    const k1 = Math.min(k, k0 + KB);
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      const ai = i * k;
      let p = k0;
      // four rows of B per pass: one load/store of C per four multiply-adds
      for (; p + 3 < k1; p += 4) {
        const s0 = A[ai + p]!;
        const s1 = A[ai + p + 1]!;
        const s2 = A[ai + p + 2]!;
        const s3 = A[ai + p + 3]!;
        const b0 = p * n;
        const b1 = b0 + n;
        const b2 = b1 + n;
        const b3 = b2 + n;
        for (let j = 0; j < n; j++) C[ci + j] = C[ci + j]! + s0 * Bd[b0 + j]! + s1 * Bd[b1 + j]! + s2 * Bd[b2 + j]! + s3 * Bd[b3 + j]!;
      }
      for (; p < k1; p++) {
        const s0 = A[ai + p]!;
        const b0 = p * n;
        for (let j = 0; j < n; j++) C[ci + j] = C[ci + j]! + s0 * Bd[b0 + j]!;
      }
    }
  }
  return { rows: m, cols: n, data: C };
}

/** C = Aᵀ·B without forming Aᵀ (rows of A and B are streamed in order). */
export function matmulTN64(a: Matrix, b: Matrix): Matrix {
  if (a.rows !== b.rows) throw new ShapeError(`matmulTN64: (${a.rows}x${a.cols})ᵀ times ${b.rows}x${b.cols} (row counts differ)`);
  const m = a.rows;
  const k = a.cols;
  const n = b.cols;
  const A = a.data;
  const Bd = b.data;
  const C = new Float64Array(k * n);
  const PB = Math.max(16, Math.min(k, Math.floor(16384 / Math.max(1, n)))); // block of C rows in cache
  for (let p0 = 0; p0 < k; p0 += PB) {
    const p1 = Math.min(k, p0 + PB);
    let i = 0;
    // four rows of A and B per pass: one load/store of C per four multiply-adds
    for (; i + 3 < m; i += 4) {
      const a0 = i * k;
      const a1 = a0 + k;
      const a2 = a1 + k;
      const a3 = a2 + k;
      const b0 = i * n;
      const b1 = b0 + n;
      const b2 = b1 + n;
      const b3 = b2 + n;
      for (let p = p0; p < p1; p++) {
        const s0 = A[a0 + p]!;
        const s1 = A[a1 + p]!;
        const s2 = A[a2 + p]!;
        const s3 = A[a3 + p]!;
        const cp = p * n;
        for (let j = 0; j < n; j++) C[cp + j] = C[cp + j]! + s0 * Bd[b0 + j]! + s1 * Bd[b1 + j]! + s2 * Bd[b2 + j]! + s3 * Bd[b3 + j]!;
      }
    }
    for (; i < m; i++) {
      const a0 = i * k;
      const b0 = i * n;
      for (let p = p0; p < p1; p++) {
        const s0 = A[a0 + p]!;
        const cp = p * n;
        for (let j = 0; j < n; j++) C[cp + j] = C[cp + j]! + s0 * Bd[b0 + j]!;
      }
    }
  }
  return { rows: k, cols: n, data: C };
}

/** Frobenius norm. */
export function frobeniusNorm(a: Matrix): number {
  let s = 0;
  const d = a.data;
  for (let i = 0; i < d.length; i++) s += d[i]! * d[i]!;
  return Math.sqrt(s);
}

/** U·diag(s)·Vᵀ given `u` (m×k), `s` (k) and `vt` (k×n): the reconstruction of a (truncated) SVD. */
export function reconstructSvd(u: Matrix, s: ArrayLike<number>, vt: Matrix): Matrix {
  const k = s.length;
  const us = matrix(u.rows, k);
  for (let i = 0; i < u.rows; i++) for (let j = 0; j < k; j++) us.data[i * k + j] = u.data[i * u.cols + j]! * s[j]!;
  const v = vt.rows === k ? vt : matrix(k, vt.cols, vt.data.subarray(0, k * vt.cols));
  return matmul64(us, v);
}
