/**
 * Squared quantization errors of packed MatMulNBits blocks, per column of B (a row of the
 * canonical weight): the JS tier's errors and the reference that the WASM kernel (wasm/nbits.as)
 * reproduces bit for bit. Column n's sum is Σ_k (x[k, n] - (code - zp) * scale)² in float64, k in
 * order from 0, with the code, the zero point and the (float32) scale as stored. A weight's mean
 * squared error is then the column sums added in column order, over K * N ({@link meanOfSums}).
 */

/** Floats of a [K, N] weight copied out transposed at a time (1 MB). */
const SLICE_ELEMENTS = 2 ** 18;

/**
 * Adds x[at + k] for k < K against packed blocks (column n's [nb, blob] at B[bAt ..]) to 0 and
 * returns the sum; scales at scales[sAt + b], zero points packed at zps[zAt ..].
 */
function columnSse(x: Float32Array, at: number, K: number, bs: number, container: 4 | 8, B: Uint8Array, bAt: number, scales: Float32Array, sAt: number, zps: Uint8Array, zAt: number): number {
  const blob = (bs * container) / 8;
  const shift = container === 4 ? 1 : 0;
  const mask = container === 4 ? 15 : 255;
  let s = 0;
  for (let b = 0, k0 = 0; k0 < K; b++, k0 += bs) {
    const scale = scales[sAt + b]!;
    const zp = container === 4 ? (zps[zAt + (b >> 1)]! >> ((b & 1) * 4)) & 15 : zps[zAt + b]!;
    const o = bAt + b * blob;
    const i0 = at + k0;
    const full = Math.min(bs, K - k0);
    for (let t = 0; t < full; t++) {
      const d = x[i0 + t]! - (((B[o + (t >> shift)]! >> ((t & shift) * 4)) & mask) - zp) * scale;
      s += d * d;
    }
  }
  return s;
}

/**
 * Error sums of columns n0 .. n0+r-1 of `w` [K, N] into `sse[n]`, from their packed blocks `B`
 * [r, nb, blob] (column n0 first), scales [N, nb] and packed zero points [N, zpBytes].
 */
export function columnErrors(w: Float32Array, K: number, N: number, n0: number, r: number, bs: number, container: 4 | 8, B: Uint8Array, scales: Float32Array, zps: Uint8Array, sse: Float64Array): void {
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  if (!K) return void sse.fill(0, n0, n0 + r);
  // a slice of C columns is copied out transposed (read along rows, never down a column, whose
  // power-of-two stride maps every row to one cache set; the copy's rows padded off powers of two)
  const C = Math.max(1, Math.min(r, Math.floor(SLICE_ELEMENTS / K)));
  const Kp = K + 16;
  const T = new Float32Array(C * Kp);
  for (let c0 = 0; c0 < r; c0 += C) {
    const cw = Math.min(C, r - c0);
    for (let k = 0; k < K; k++) {
      const row = k * N + n0 + c0;
      for (let c = 0; c < cw; c++) T[c * Kp + k] = w[row + c]!;
    }
    for (let c = 0; c < cw; c++) {
      const n = n0 + c0 + c;
      sse[n] = columnSse(T, c * Kp, K, bs, container, B, (c0 + c) * nb * blob, scales, n * nb, zps, n * zpBytes);
    }
  }
}

/**
 * Error sums of the r columns of B stored as rows of `tile` ([r, K], column n0 first) into
 * `sse[n]`; outputs laid out as in {@link columnErrors}.
 */
export function rowErrors(tile: Float32Array, K: number, n0: number, r: number, bs: number, container: 4 | 8, B: Uint8Array, scales: Float32Array, zps: Uint8Array, sse: Float64Array): void {
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  for (let j = 0; j < r; j++) {
    const n = n0 + j;
    sse[n] = columnSse(tile, j * K, K, bs, container, B, j * nb * blob, scales, n * nb, zps, n * zpBytes);
  }
}

/** (Σ sums[i], i in order from 0) / count: a weight's mean squared error from its column sums; 0 when count is 0. */
export function meanOfSums(sums: ArrayLike<number>, count: number): number {
  let s = 0;
  for (let i = 0; i < sums.length; i++) s += sums[i]!;
  return count ? s / count : 0;
}
