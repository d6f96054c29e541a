import { describe, expect, it } from 'vitest';
import { randomMatrix } from './random_matrix.js';
import {
  NumericError,
  ShapeError,
  Rng,
  type Matrix,
  matrix,
  matmul64,
  matmulTN64,
  transposeMatrix,
  reconstructSvd,
  svd,
  randomizedSvd,
  qr,
  cholesky,
  choleskyInverse,
  choleskySolve,
  svdTensor,
  qrTensor,
  choleskyInverseTensor,
  randomizedSvdTensor,
  tensor,
} from '@whittle/tensor/node';
import { describeBackends } from '@whittle/testing';

// ---- float64 references written independently of the library --------------------------------


/** Naive triple loop C = A·B. */
function naiveMul(a: Matrix, b: Matrix): Matrix {
  const c = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let j = 0; j < b.cols; j++) {
      let s = 0;
      for (let k = 0; k < a.cols; k++) s += a.data[i * a.cols + k]! * b.data[k * b.cols + j]!;
      c[i * b.cols + j] = s;
    }
  return { rows: a.rows, cols: b.cols, data: c };
}

function naiveT(a: Matrix): Matrix {
  const d = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) d[j * a.rows + i] = a.data[i * a.cols + j]!;
  return { rows: a.cols, cols: a.rows, data: d };
}

/** max |Mᵀ·M − I| for the columns of M. */
function orthoError(mt: Matrix): number {
  const g = naiveMul(naiveT(mt), mt);
  let worst = 0;
  for (let i = 0; i < g.rows; i++) for (let j = 0; j < g.cols; j++) worst = Math.max(worst, Math.abs(g.data[i * g.cols + j]! - (i === j ? 1 : 0)));
  return worst;
}

function relFrob(a: Matrix, b: Matrix): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i]! - b.data[i]!) ** 2;
    den += a.data[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

function usv(u: Matrix, s: ArrayLike<number>, vt: Matrix): Matrix {
  const us = { rows: u.rows, cols: s.length, data: new Float64Array(u.rows * s.length) };
  for (let i = 0; i < u.rows; i++) for (let j = 0; j < s.length; j++) us.data[i * s.length + j] = u.data[i * u.cols + j]! * s[j]!;
  return naiveMul(us, vt);
}

function expectDescending(s: ArrayLike<number>): void {
  for (let i = 1; i < s.length; i++) expect(s[i]!).toBeLessThanOrEqual(s[i - 1]!);
  for (let i = 0; i < s.length; i++) expect(s[i]!).toBeGreaterThanOrEqual(0);
}

// ---- Walsh–Hadamard construction of a 2048×2048 matrix with a known spectrum ------------------

/** In place A ← A·H/√n (per-row fast Walsh–Hadamard transform). */
function hadamardRight(A: Float64Array, n: number): void {
  const scale = 1 / Math.sqrt(n);
  for (let r = 0; r < n; r++) {
    const o = r * n;
    for (let h = 1; h < n; h *= 2)
      for (let i = 0; i < n; i += 2 * h)
        for (let j = i; j < i + h; j++) {
          const x = A[o + j]!;
          const y = A[o + j + h]!;
          A[o + j] = x + y;
          A[o + j + h] = x - y;
        }
    for (let j = 0; j < n; j++) A[o + j] = A[o + j]! * scale;
  }
}

/** In place A ← H/√n·A (butterflies on whole rows). */
function hadamardLeft(A: Float64Array, n: number): void {
  const scale = 1 / Math.sqrt(n);
  for (let h = 1; h < n; h *= 2)
    for (let i = 0; i < n; i += 2 * h)
      for (let j = i; j < i + h; j++) {
        const a = j * n;
        const b = (j + h) * n;
        for (let c = 0; c < n; c++) {
          const x = A[a + c]!;
          const y = A[b + c]!;
          A[a + c] = x + y;
          A[b + c] = x - y;
        }
      }
  for (let i = 0; i < A.length; i++) A[i] = A[i]! * scale;
}

/** A = U·diag(s)·Vᵀ with U = H·D₁·H·D₂ and Vᵀ = D₃·H·D₄·H (H normalized Hadamard, D random signs). */
function knownSpectrumMatrix(s: Float64Array, seed: number): Matrix {
  const n = s.length;
  const rng = new Rng(seed);
  const signs = (): Float64Array => Float64Array.from({ length: n }, () => (rng.next() < 0.5 ? -1 : 1));
  const [d1, d2, d3, d4] = [signs(), signs(), signs(), signs()];
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) A[i * n + i] = s[i]! * d2[i]!;
  hadamardLeft(A, n);
  for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) A[i * n + c] = A[i * n + c]! * d1[i]!;
  hadamardLeft(A, n);
  for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) A[i * n + c] = A[i * n + c]! * d3[c]!;
  hadamardRight(A, n);
  for (let i = 0; i < n; i++) for (let c = 0; c < n; c++) A[i * n + c] = A[i * n + c]! * d4[c]!;
  hadamardRight(A, n);
  return { rows: n, cols: n, data: A };
}

// ---- tests ----------------------------------------------------------------------------------

describe('linalg (cpu float64)', () => {
  it('matmul64 and matmulTN64 match a naive triple loop on odd sizes', () => {
    const a = randomMatrix(37, 53, 1);
    const b = randomMatrix(53, 19, 2);
    const c = randomMatrix(37, 11, 3);
    expect(relFrob(naiveMul(a, b), matmul64(a, b))).toBeLessThan(1e-14);
    expect(relFrob(naiveMul(naiveT(a), c), matmulTN64(a, c))).toBeLessThan(1e-14);
    expect(relFrob(naiveT(a), transposeMatrix(a))).toBe(0);
    expect(() => matmul64(a, a)).toThrow(ShapeError);
  });

  it('svd reconstructs a random 300x200 matrix to 1e-5 with orthonormal U, V and sorted s', () => {
    const a = randomMatrix(300, 200, 4);
    const { u, s, vt } = svd(a);
    expect([u.rows, u.cols, s.length, vt.rows, vt.cols]).toEqual([300, 200, 200, 200, 200]);
    expectDescending(s);
    expect(relFrob(a, usv(u, s, vt))).toBeLessThan(1e-5);
    expect(orthoError(u)).toBeLessThan(1e-9);
    expect(orthoError(naiveT(vt))).toBeLessThan(1e-9);
  });

  it('svd recovers a known spectrum, wide matrices and rank deficiency', () => {
    // known spectrum: A = Q1 diag(s) Q2ᵀ with Q from QR of Gaussian matrices
    const q1 = qr(randomMatrix(40, 12, 5)).q;
    const q2 = qr(randomMatrix(25, 12, 6)).q;
    const sTrue = Float64Array.from({ length: 12 }, (_, i) => 10 * 0.5 ** i);
    const a = usv(q1, sTrue, naiveT(q2));
    const r = svd(a);
    for (let i = 0; i < 12; i++) expect(Math.abs(r.s[i]! - sTrue[i]!) / sTrue[i]!).toBeLessThan(1e-9);
    for (let i = 12; i < 25; i++) expect(r.s[i]!).toBeLessThan(1e-12);
    expect(orthoError(r.u)).toBeLessThan(1e-9); // completed columns for the zero singular values
    expect(relFrob(a, usv(r.u, r.s, r.vt))).toBeLessThan(1e-12);
    // wide
    const w = randomMatrix(17, 45, 7);
    const rw = svd(w);
    expect([rw.u.rows, rw.u.cols, rw.vt.rows, rw.vt.cols]).toEqual([17, 17, 17, 45]);
    expectDescending(rw.s);
    expect(relFrob(w, usv(rw.u, rw.s, rw.vt))).toBeLessThan(1e-12);
    expect(orthoError(naiveT(rw.vt))).toBeLessThan(1e-10);
    // zero matrix
    const z = svd(matrix(4, 3));
    expect(Array.from(z.s)).toEqual([0, 0, 0]);
    expect(orthoError(z.u)).toBeLessThan(1e-12);
    expect(() => svd(matrix(2, 2, [1, NaN, 0, 1]))).toThrow(NumericError);
  });

  it('svd completes U when no unit vector is far from the range (rank-deficient weights, e.g. dead output channels)', () => {
    // the 8x8 first-difference matrix (column j = e_{j-1} - e_j, column 0 zero): its range is the
    // complement of the all-ones vector, so every e_j is only 1/8 (squared) away from it
    const n = 8;
    const d = matrix(n, n);
    for (let j = 1; j < n; j++) {
      d.data[(j - 1) * n + j] = 1;
      d.data[j * n + j] = -1;
    }
    // and a 240x60 matrix with 25 dead columns (zero or denormal-small, as in a trained 1x1 conv)
    const a = randomMatrix(240, 60, 21);
    const dead = Array.from({ length: 25 }, (_, i) => (i * 7 + 3) % 60);
    for (const [k, c] of dead.entries()) for (let i = 0; i < 240; i++) a.data[i * 60 + c] = k % 2 ? 0 : a.data[i * 60 + c]! * 1e-39;
    for (const [b, rank] of [[d, n - 1], [transposeMatrix(d), n - 1], [a, 35], [transposeMatrix(a), 35]] as const) {
      const r = svd(b, { method: 'jacobi' });
      expectDescending(r.s);
      expect(r.s[rank - 1]!).toBeGreaterThan(1e-3);
      for (let i = rank; i < r.s.length; i++) expect(r.s[i]!).toBeLessThan(1e-13 * r.s[0]!);
      expect(orthoError(r.u)).toBeLessThan(1e-10);
      expect(orthoError(naiveT(r.vt))).toBeLessThan(1e-10);
      expect(relFrob(b, usv(r.u, r.s, r.vt))).toBeLessThan(1e-12);
    }
  });

  it('golub-kahan agrees with jacobi: spectrum, reconstruction, orthonormality (square, tall, wide, rank-deficient)', () => {
    for (const [m, n, seed] of [[120, 120, 11], [301, 97, 12], [64, 150, 13], [130, 110, 14]] as const) {
      const a = randomMatrix(m, n, seed);
      const g = svd(a, { method: 'golub-kahan' });
      const j = svd(a, { method: 'jacobi' });
      const k = Math.min(m, n);
      expect([g.u.rows, g.u.cols, g.vt.rows, g.vt.cols]).toEqual([m, k, k, n]);
      expectDescending(g.s);
      for (let i = 0; i < k; i++) expect(Math.abs(g.s[i]! - j.s[i]!)).toBeLessThan(1e-10 * j.s[0]!);
      expect(relFrob(a, usv(g.u, g.s, g.vt))).toBeLessThan(1e-12);
      expect(orthoError(g.u)).toBeLessThan(1e-11);
      expect(orthoError(naiveT(g.vt))).toBeLessThan(1e-11);
    }
    // known spectrum with exact zeros (graded, rank 12 of 40x25)
    const q1 = qr(randomMatrix(40, 12, 5)).q;
    const q2 = qr(randomMatrix(25, 12, 6)).q;
    const sTrue = Float64Array.from({ length: 12 }, (_, i) => 10 * 0.5 ** i);
    const a = usv(q1, sTrue, naiveT(q2));
    const g = svd(a, { method: 'golub-kahan' });
    for (let i = 0; i < 12; i++) expect(Math.abs(g.s[i]! - sTrue[i]!)).toBeLessThan(1e-13 * 10);
    for (let i = 12; i < 25; i++) expect(g.s[i]!).toBeLessThan(1e-13);
    expect(orthoError(g.u)).toBeLessThan(1e-11);
    expect(relFrob(a, usv(g.u, g.s, g.vt))).toBeLessThan(1e-12);
    // a matrix with exact zeros on the bidiagonal (a zero column and a zero row)
    const z = randomMatrix(30, 20, 15);
    for (let i = 0; i < 30; i++) z.data[i * 20 + 7] = 0;
    z.data.fill(0, 5 * 20, 6 * 20);
    const gz = svd(z, { method: 'golub-kahan' });
    expect(relFrob(z, usv(gz.u, gz.s, gz.vt))).toBeLessThan(1e-12);
    expect(orthoError(gz.u)).toBeLessThan(1e-11);
    expect(Array.from(svd(matrix(5, 4), { method: 'golub-kahan' }).s)).toEqual([0, 0, 0, 0]);
  });

  it('randomizedSvd rank 20 of 300x200 is within 1% of the exact truncated error', () => {
    const q1 = qr(randomMatrix(300, 200, 8)).q;
    const q2 = qr(randomMatrix(200, 200, 9)).q;
    const spec = Float64Array.from({ length: 200 }, (_, i) => 1 / (1 + i / 8));
    const a = usv(q1, spec, naiveT(q2));
    const exact = svd(a);
    const k = 20;
    const r = randomizedSvd(a, k, { rng: new Rng(3) });
    expect([r.u.rows, r.u.cols, r.s.length, r.vt.rows, r.vt.cols]).toEqual([300, k, k, k, 200]);
    expectDescending(r.s);
    const errOf = (u: Matrix, s: ArrayLike<number>, vt: Matrix) => relFrob(a, reconstructSvd(u, s, vt));
    const best = errOf(exact.u, exact.s.slice(0, k), exact.vt);
    const got = errOf(r.u, r.s, r.vt);
    expect(got).toBeGreaterThanOrEqual(best * (1 - 1e-9));
    expect(got).toBeLessThanOrEqual(best * 1.01);
    expect(orthoError(r.u)).toBeLessThan(1e-9);
    expect(orthoError(naiveT(r.vt))).toBeLessThan(1e-9);
  });

  it('randomizedSvd rank 64 of a 2048x2048 known-spectrum matrix: within 1% of optimal, in seconds', () => {
    const n = 2048;
    const k = 64;
    // signal: 64 decaying values well above a slowly decaying noise floor of 1984 values
    const spec = Float64Array.from({ length: n }, (_, i) => (i < k ? 3 + 20 * 0.95 ** i : 1 - i / (2 * n)));
    const a = knownSpectrumMatrix(spec, 10);
    let tail = 0;
    for (let i = k; i < n; i++) tail += spec[i]! ** 2;
    const optimal = Math.sqrt(tail);
    const t0 = performance.now();
    const r = randomizedSvd(a, k, { rng: new Rng(1) });
    const ms = performance.now() - t0;
    const rec = reconstructSvd(r.u, r.s, r.vt);
    let err2 = 0;
    for (let i = 0; i < a.data.length; i++) err2 += (a.data[i]! - rec.data[i]!) ** 2;
    const err = Math.sqrt(err2);
    expect(err).toBeGreaterThanOrEqual(optimal * (1 - 1e-6)); // nothing beats the optimum: checks the construction
    expect(err).toBeLessThanOrEqual(optimal * 1.01);
    for (let i = 0; i < 8; i++) expect(Math.abs(r.s[i]! - spec[i]!) / spec[i]!).toBeLessThan(1e-3);
    expect(ms).toBeLessThan(20000); // ~2.5 s on an idle core
  }, 60_000);

  it('qr: orthonormal Q, upper triangular R, Q·R = A (tall and wide)', () => {
    for (const [m, n, seed] of [[120, 50, 11], [30, 70, 12], [9, 9, 13]] as const) {
      const a = randomMatrix(m, n, seed);
      const { q, r } = qr(a);
      const k = Math.min(m, n);
      expect([q.rows, q.cols, r.rows, r.cols]).toEqual([m, k, k, n]);
      expect(orthoError(q)).toBeLessThan(1e-12);
      for (let i = 0; i < k; i++) for (let j = 0; j < Math.min(i, n); j++) expect(r.data[i * n + j]).toBe(0);
      expect(relFrob(a, naiveMul(q, r))).toBeLessThan(1e-13);
    }
  });

  it('cholesky: L·Lᵀ = A, L lower; inverse gives A·A⁻¹ = I; solve', () => {
    const n = 61;
    const b = randomMatrix(n, n, 14);
    const a = naiveMul(b, naiveT(b));
    for (let i = 0; i < n; i++) a.data[i * n + i] = a.data[i * n + i]! + 0.5;
    const l = cholesky(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) expect(l.data[i * n + j]).toBe(0);
    expect(relFrob(a, naiveMul(l, naiveT(l)))).toBeLessThan(1e-13);
    const u = cholesky(a, { upper: true });
    expect(relFrob(a, naiveMul(naiveT(u), u))).toBeLessThan(1e-13);
    const inv = choleskyInverse(a);
    const prod = naiveMul(a, inv);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(Math.abs(prod.data[i * n + j]! - (i === j ? 1 : 0))).toBeLessThan(1e-8);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) expect(inv.data[i * n + j]).toBe(inv.data[j * n + i]);
    const rhs = randomMatrix(n, 3, 15);
    const x = choleskySolve(l, rhs);
    expect(relFrob(rhs, naiveMul(a, x))).toBeLessThan(1e-10);
  });

  it('cholesky: NumericError when not positive definite; jitter/damping regularize', () => {
    const a = matrix(2, 2, [1, 2, 2, 1]); // eigenvalues 3 and -1
    expect(() => cholesky(a)).toThrow(NumericError);
    expect(() => cholesky(a)).toThrow(/not positive definite.*pivot 1/);
    expect(() => choleskyInverse(a)).toThrow(NumericError);
    expect(() => cholesky(matrix(2, 3))).toThrow(ShapeError);
    // A + 2I = [[3,2],[2,3]], inverse [[3,-2],[-2,3]]/5; damping 2 · mean(diag)=1 is the same shift
    for (const opts of [{ jitter: 2 }, { damping: 2 }]) {
      const inv = choleskyInverse(a, opts);
      const want = [0.6, -0.4, -0.4, 0.6];
      want.forEach((w, i) => expect(inv.data[i]).toBeCloseTo(w, 12));
    }
  });
});

describeBackends('linalg tensor wrappers', () => {
  it('svdTensor / randomizedSvdTensor / qrTensor / choleskyInverseTensor on float32 tensors', async () => {
    const a = randomMatrix(7, 5, 16);
    const t = tensor(Float32Array.from(a.data), [7, 5]);
    const af = { rows: 7, cols: 5, data: Float64Array.from(Float32Array.from(a.data)) };
    const { u, s, vt } = await svdTensor(t);
    expect([u.shape, s.shape, vt.shape]).toEqual([[7, 5], [5], [5, 5]]);
    expect(u.backend).toBe(t.backend);
    const mat = async (x: typeof u): Promise<Matrix> => ({ rows: x.shape[0]!, cols: x.shape[1]!, data: await x.toFloat64() });
    expect(relFrob(af, usv(await mat(u), await s.toFloat64(), await mat(vt)))).toBeLessThan(1e-5);
    const rs = await randomizedSvdTensor(t, 5, { oversampling: 0 });
    expect(relFrob(af, usv(await mat(rs.u), await rs.s.toFloat64(), await mat(rs.vt)))).toBeLessThan(1e-5);
    const { q, r } = await qrTensor(t);
    expect(relFrob(af, naiveMul(await mat(q), await mat(r)))).toBeLessThan(1e-6);
    const spd = naiveMul(naiveT(af), af);
    const inv = await choleskyInverseTensor(tensor(Float32Array.from(spd.data), [5, 5]));
    const prod = naiveMul(spd, await mat(inv));
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(Math.abs(prod.data[i * 5 + j]! - (i === j ? 1 : 0))).toBeLessThan(1e-3);
    await expect(svdTensor(tensor([1, 2, 3], [3]))).rejects.toThrow(ShapeError);
  });
});
