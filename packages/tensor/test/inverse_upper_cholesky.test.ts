import { describe, expect, it } from 'vitest';
import { NumericError, Rng, cholesky, choleskyInverse, inverseUpperCholesky, lowerCholesky, lowerTriangularInverse, matrix } from '@whittle/tensor';

/** A random SPD K × K matrix XᵀX (+ a little on the diagonal). */
function spd(K: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const n = K + 7;
  const X = Float64Array.from({ length: n * K }, () => rng.normal());
  const A = new Float64Array(K * K);
  for (let m = 0; m < n; m++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) A[i * K + j] = A[i * K + j]! + X[m * K + i]! * X[m * K + j]!;
  return A;
}

describe('tiled float64 Cholesky kernels equal the plain loops bit for bit', () => {
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

});

describe('inverseUpperCholesky', () => {
  it('equals the upper Cholesky factor of the damped inverse', () => {
    const K = 24;
    const rng = new Rng(4);
    const X = Float64Array.from({ length: 40 * K }, () => rng.normal());
    const H = new Float64Array(K * K);
    for (let m = 0; m < 40; m++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) H[i * K + j] = H[i * K + j]! + X[m * K + i]! * X[m * K + j]!;
    const want = cholesky(choleskyInverse(matrix(K, K, H), { damping: 0.01 }), { upper: true }).data;
    const got = inverseUpperCholesky(H, K, 0.01);
    for (let i = 0; i < K * K; i++) expect(got[i]).toBeCloseTo(want[i]!, 10);
  });

  // the untiled version SparseGPT used before sharing this one: damped reversed H through the
  // plain `cholesky`, then the row-by-row substitution skipping zero factors
  function untiled(H: Float64Array, K: number, damping: number): Float64Array {
    let mean = 0;
    for (let i = 0; i < K; i++) mean += H[i * K + i]!;
    const shift = (damping * mean) / Math.max(1, K);
    const rev = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let j = 0; j <= i; j++) rev[i * K + j] = H[(K - 1 - i) * K + (K - 1 - j)]! + (i === j ? shift : 0);
    const L = cholesky(matrix(K, K, rev)).data;
    const X = rev.fill(0);
    for (let i = 0; i < K; i++) {
      for (let k = 0; k < i; k++) {
        const f = L[i * K + k]!;
        if (f === 0) continue;
        for (let c = 0; c <= k; c++) X[i * K + c] = X[i * K + c]! - f * X[k * K + c]!;
      }
      X[i * K + i] = X[i * K + i]! + 1;
      const inv = 1 / L[i * K + i]!;
      for (let c = 0; c <= i; c++) X[i * K + c] = X[i * K + c]! * inv;
    }
    const U = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let j = i; j < K; j++) U[i * K + j] = X[(K - 1 - i) * K + (K - 1 - j)]!;
    return U;
  }

  for (const K of [1, 5, 16, 33, 70]) {
    it(`the same bits as the untiled loops, K = ${K} (with a zero input column)`, () => {
      const H = spd(K, 100 + K);
      // an input that was always zero: SparseGPT puts 1 on its diagonal, leaving zeros off it
      const z = Math.floor(K / 2);
      for (let i = 0; i < K; i++) H[z * K + i] = H[i * K + z] = 0;
      H[z * K + z] = 1;
      expect(Array.from(inverseUpperCholesky(H, K, 0.01))).toEqual(Array.from(untiled(H, K, 0.01)));
    });
  }

  it('a damped H that is not positive definite is a NumericError naming the caller', () => {
    const H = new Float64Array([1, 3, 3, 1]);
    expect(() => inverseUpperCholesky(H, 2, 0, 'prune-sparsegpt')).toThrow(NumericError);
    expect(() => inverseUpperCholesky(H, 2, 0, 'prune-sparsegpt')).toThrow(/^prune-sparsegpt: matrix is not positive definite \(pivot 1 of 2/);
  });
});
