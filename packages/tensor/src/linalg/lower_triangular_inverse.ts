/**
 * Register-tiled inverse of a flat float64 lower triangular matrix: 4 × 4 tiles of independent
 * sums, each added in the order of the plain row-by-row substitution (the same bits).
 */

/** Tile edge of the register-tiled loops. */
const T = 4;

/**
 * X = L⁻¹ of a lower triangular L (row-major K × K), lower triangular: X[i][c] =
 * (δ_ic − Σ_{k=c}^{i−1} L[i][k]·X[k][c]) · (1 / L[i][i]), k ascending — the same bits as the
 * row-by-row substitution, with 4 × 4 tiles of the sums left of the diagonal block computed
 * together (terms with k < c read the zeros above X's diagonal and change nothing). L is
 * row-major K × K (only its lower triangle read); returns a new K × K array.
 */
export function lowerTriangularInverse(L: Float64Array, K: number): Float64Array {
  const X = new Float64Array(K * K);
  const full = K - (K % T);
  for (let i0 = 0; i0 < K; i0 += T) {
    const tiled = i0 + T <= full;
    if (tiled) for (let c0 = 0; c0 < i0; c0 += T) inverseTile(L, X, K, i0, c0);
    for (let i = i0; i < Math.min(K, i0 + T); i++) {
      const xi = i * K;
      const inv = 1 / L[xi + i]!;
      // tiled rows: the tiles hold the finished columns below i0; the rest one element at a time
      const cFrom = tiled ? i0 : 0;
      for (let c = cFrom; c <= i; c++) {
        let s = 0;
        for (let k = c; k < i; k++) s -= L[xi + k]! * X[k * K + c]!;
        if (c === i) s += 1;
        X[xi + c] = s * inv;
      }
    }
  }
  return X;
}

/** X[i0..i0+3][c0..c0+3] for a tile left of the diagonal block (c0 + 4 <= i0). */
function inverseTile(L: Float64Array, X: Float64Array, K: number, i0: number, c0: number): void {
  const r0 = i0 * K, r1 = r0 + K, r2 = r1 + K, r3 = r2 + K;
  let s00 = 0, s01 = 0, s02 = 0, s03 = 0;
  let s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  let s20 = 0, s21 = 0, s22 = 0, s23 = 0;
  let s30 = 0, s31 = 0, s32 = 0, s33 = 0;
  for (let k = c0, xk = c0 * K + c0; k < i0; k++, xk += K) {
    const a0 = L[r0 + k]!, a1 = L[r1 + k]!, a2 = L[r2 + k]!, a3 = L[r3 + k]!;
    let b = X[xk]!;
    s00 -= a0 * b; s10 -= a1 * b; s20 -= a2 * b; s30 -= a3 * b;
    b = X[xk + 1]!;
    s01 -= a0 * b; s11 -= a1 * b; s21 -= a2 * b; s31 -= a3 * b;
    b = X[xk + 2]!;
    s02 -= a0 * b; s12 -= a1 * b; s22 -= a2 * b; s32 -= a3 * b;
    b = X[xk + 3]!;
    s03 -= a0 * b; s13 -= a1 * b; s23 -= a2 * b; s33 -= a3 * b;
  }
  // terms k = i0 .. i-1: rows of this block, finished in order
  inverseTileRow(L, X, K, i0, c0, 0, s00, s01, s02, s03);
  inverseTileRow(L, X, K, i0, c0, 1, s10, s11, s12, s13);
  inverseTileRow(L, X, K, i0, c0, 2, s20, s21, s22, s23);
  inverseTileRow(L, X, K, i0, c0, 3, s30, s31, s32, s33);
}

/** Finish row i0 + q of an inverse tile: subtract the terms of the block's earlier rows (k = i0 .. i0+q-1) in order, scale by 1 / L[i][i]. */
function inverseTileRow(L: Float64Array, X: Float64Array, K: number, i0: number, c0: number, q: number, s0: number, s1: number, s2: number, s3: number): void {
  const r = (i0 + q) * K;
  for (let k = 0; k < q; k++) {
    const l = L[r + i0 + k]!;
    const x = (i0 + k) * K + c0;
    s0 -= l * X[x]!;
    s1 -= l * X[x + 1]!;
    s2 -= l * X[x + 2]!;
    s3 -= l * X[x + 3]!;
  }
  const inv = 1 / L[r + i0 + q]!;
  X[r + c0] = s0 * inv;
  X[r + c0 + 1] = s1 * inv;
  X[r + c0 + 2] = s2 * inv;
  X[r + c0 + 3] = s3 * inv;
}

