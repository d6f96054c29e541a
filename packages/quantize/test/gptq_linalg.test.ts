import { describe, expect, it } from 'vitest';
import { NumericError, Rng, cholesky, matrix } from '@whittle/tensor';
import { lazyBatchUpdate, lowerCholesky, lowerTriangularInverse } from '../src/gptq_linalg.js';

/** A random SPD K × K matrix XᵀX (+ a little on the diagonal). */
function spd(K: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const n = K + 7;
  const X = Float64Array.from({ length: n * K }, () => rng.normal());
  const A = new Float64Array(K * K);
  for (let m = 0; m < n; m++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) A[i * K + j] = A[i * K + j]! + X[m * K + i]! * X[m * K + j]!;
  return A;
}

describe('GPTQ float64 kernels (tiled) equal the plain loops bit for bit', () => {
  // sizes below, at and past the 4 × 4 tile, with and without a partial last block
  for (const K of [3, 4, 9, 37, 64]) {
    it(`Cholesky and triangular inverse, K = ${K}`, () => {
      const A = spd(K, K);
      const shift = 0.25;
      const L = lowerCholesky(A, K, shift, 'test');
      const shifted = Float64Array.from(A);
      for (let i = 0; i < K; i++) shifted[i * K + i] = shifted[i * K + i]! + shift;
      expect(Array.from(L)).toEqual(Array.from(cholesky(matrix(K, K, shifted)).data));
      // row-by-row substitution: X[i, :i] = −Σ_k L[i, k]·X[k, :] then scaled by 1 / L[i, i]
      const want = new Float64Array(K * K);
      for (let i = 0; i < K; i++) {
        for (let k = 0; k < i; k++) for (let c = 0; c <= k; c++) want[i * K + c] = want[i * K + c]! - L[i * K + k]! * want[k * K + c]!;
        want[i * K + i] = want[i * K + i]! + 1;
        const inv = 1 / L[i * K + i]!;
        for (let c = 0; c <= i; c++) want[i * K + c] = want[i * K + c]! * inv;
      }
      const X = lowerTriangularInverse(L, K);
      expect(Array.from(X)).toEqual(Array.from(want));
      // and it is the inverse
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += L[i * K + k]! * X[k * K + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    });
  }

  it('a matrix that is not positive definite is a NumericError naming the pivot', () => {
    const A = new Float64Array([1, 2, 2, 1]);
    expect(() => lowerCholesky(A, 2, 0, 'gptq')).toThrow(NumericError);
    expect(() => lowerCholesky(A, 2, 0, 'gptq')).toThrow(/gptq: .*pivot 1 of 2/);
  });

  for (const [rows, K, count, j0] of [[7, 41, 5, 11], [8, 64, 16, 16], [3, 10, 4, 6], [12, 33, 8, 32]] as const) {
    it(`lazy-batch update, ${rows} rows x ${K} columns, ${count} errors from column ${j0}`, () => {
      const rng = new Rng(rows * K);
      const W = Float64Array.from({ length: rows * K }, () => rng.normal());
      const ldE = count + 3;
      const E = Float64Array.from({ length: rows * ldE }, () => rng.normal());
      // zero errors are skipped by the plain loop; the tiled one subtracts 0·u (same value)
      E[0] = 0;
      const U = Float64Array.from({ length: K * K }, () => rng.normal());
      const u0 = j0 - count;
      const want = Float64Array.from(W);
      for (let r = 0; r < rows; r++) {
        for (let i = 0; i < count; i++) {
          const e = E[r * ldE + i]!;
          if (e === 0) continue;
          for (let j = j0; j < K; j++) want[r * K + j] = want[r * K + j]! - e * U[(u0 + i) * K + j]!;
        }
      }
      lazyBatchUpdate(W, rows, K, E, ldE, count, U, u0, j0);
      expect(Array.from(W)).toEqual(Array.from(want));
    });
  }
});
