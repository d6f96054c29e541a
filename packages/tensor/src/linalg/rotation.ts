/**
 * Givens rotation of two rows of a row-major array (`len` values per row):
 * (row p, row q) ← (c·p − s·q, s·p + c·q). Shared by the Jacobi and Golub–Kahan SVDs, which keep
 * their vectors as rows so every rotation touches contiguous memory.
 */
export function rotateRows(M: Float64Array, len: number, p: number, q: number, c: number, s: number): void {
  const bp = p * len;
  const bq = q * len;
  for (let t = 0; t < len; t++) {
    const x = M[bp + t]!;
    const y = M[bq + t]!;
    M[bp + t] = c * x - s * y;
    M[bq + t] = s * x + c * y;
  }
}
