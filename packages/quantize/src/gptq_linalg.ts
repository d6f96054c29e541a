/**
 * The lazy-batch update of GPTQ's weights (the factor of H⁻¹ is `inverseUpperCholesky` of
 * @whittle/tensor, shared with SparseGPT). A straightforward loop nest register-tiled over 4 × 4
 * outputs: every output keeps its own accumulator and subtracts its terms in the same order as
 * the plain loop, so the results are the same bits, but the 16 independent chains keep the float
 * pipes busy instead of waiting on one load-modify-store at a time.
 */

/** Tile edge of the register-tiled loops. */
const T = 4;

/**
 * The lazy-batch update of GPTQ: W[r][j] −= Σ_i E[r][i]·U[u0 + i][j] for every row r, the
 * columns j in [j0, K) and i in [0, count), subtracted one term at a time in i order (the same
 * bits as one axpy per (r, i)). W is rows × K, E is rows × ldE, U is K × K (row-major).
 */
export function lazyBatchUpdate(W: Float64Array, rows: number, K: number, E: Float64Array, ldE: number, count: number, U: Float64Array, u0: number, j0: number): void {
  const rFull = rows - (rows % T);
  const jFull = j0 + (K - j0) - ((K - j0) % T);
  for (let r = 0; r < rFull; r += T) {
    const e0 = r * ldE, e1 = e0 + ldE, e2 = e1 + ldE, e3 = e2 + ldE;
    const w0 = r * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
    for (let j = j0; j < jFull; j += T) {
      let s00 = W[w0 + j]!, s01 = W[w0 + j + 1]!, s02 = W[w0 + j + 2]!, s03 = W[w0 + j + 3]!;
      let s10 = W[w1 + j]!, s11 = W[w1 + j + 1]!, s12 = W[w1 + j + 2]!, s13 = W[w1 + j + 3]!;
      let s20 = W[w2 + j]!, s21 = W[w2 + j + 1]!, s22 = W[w2 + j + 2]!, s23 = W[w2 + j + 3]!;
      let s30 = W[w3 + j]!, s31 = W[w3 + j + 1]!, s32 = W[w3 + j + 2]!, s33 = W[w3 + j + 3]!;
      for (let i = 0, u = u0 * K + j; i < count; i++, u += K) {
        const a0 = E[e0 + i]!, a1 = E[e1 + i]!, a2 = E[e2 + i]!, a3 = E[e3 + i]!;
        let b = U[u]!;
        s00 -= a0 * b; s10 -= a1 * b; s20 -= a2 * b; s30 -= a3 * b;
        b = U[u + 1]!;
        s01 -= a0 * b; s11 -= a1 * b; s21 -= a2 * b; s31 -= a3 * b;
        b = U[u + 2]!;
        s02 -= a0 * b; s12 -= a1 * b; s22 -= a2 * b; s32 -= a3 * b;
        b = U[u + 3]!;
        s03 -= a0 * b; s13 -= a1 * b; s23 -= a2 * b; s33 -= a3 * b;
      }
      W[w0 + j] = s00; W[w0 + j + 1] = s01; W[w0 + j + 2] = s02; W[w0 + j + 3] = s03;
      W[w1 + j] = s10; W[w1 + j + 1] = s11; W[w1 + j + 2] = s12; W[w1 + j + 3] = s13;
      W[w2 + j] = s20; W[w2 + j + 1] = s21; W[w2 + j + 2] = s22; W[w2 + j + 3] = s23;
      W[w3 + j] = s30; W[w3 + j + 1] = s31; W[w3 + j + 2] = s32; W[w3 + j + 3] = s33;
    }
    for (let q = 0; q < T; q++) lazyUpdateScalar(W, K, E, ldE, count, U, u0, r + q, jFull, K);
  }
  for (let r = rFull; r < rows; r++) lazyUpdateScalar(W, K, E, ldE, count, U, u0, r, j0, K);
}

function lazyUpdateScalar(W: Float64Array, K: number, E: Float64Array, ldE: number, count: number, U: Float64Array, u0: number, r: number, jFrom: number, jTo: number): void {
  const base = r * K;
  for (let j = jFrom; j < jTo; j++) {
    let s = W[base + j]!;
    for (let i = 0; i < count; i++) s -= E[r * ldE + i]! * U[(u0 + i) * K + j]!;
    W[base + j] = s;
  }
}
