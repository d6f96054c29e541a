/**
 * Fused RTN + MatMulNBits packing of output columns of a float32 weight B [K, N]: per column and
 * block of K, the group parameters, the codes and the packed bytes in one pass over a Float32
 * tile, with no Float64 copy and no intermediate code array. Same math as `quantizeRtn` (block
 * granularity) followed by `packMatMulNBits`, so the bytes are identical.
 */
import { groupParams, roundEven } from './quant_math.js';

/** Rows of B per transpose strip. */
const TK = 16;

/** 1.5 * 2^52: adding and subtracting it rounds a double to an integer, ties to even (IEEE). */
const MAGIC = 6755399441055744;

/**
 * Round half to even, equal to {@link roundEven} for |x| < 2^51 (codes are within ±2^bits of the
 * grid, far inside), without Math.round's extra tie check; larger |x| take roundEven itself.
 */
function rne(x: number): number {
  return x < 2 ** 51 && x > -(2 ** 51) ? x + MAGIC - MAGIC : roundEven(x);
}

/** Grid and layout of {@link quantizeColumnsNBits}. */
export interface NBitsSpec {
  bits: number;
  symmetric: boolean;
  blockSize: number;
  /** Container bits: 4 (two codes per byte) or 8. */
  container: 4 | 8;
}

/**
 * Quantize columns n0 .. n0+r-1 of `w` ([K, N] row-major). Writes the packed blocks of those
 * columns to `B` (from 0: r * nb * blockSize * container / 8 bytes), their scales to
 * `scales[n * nb + b]` and packed zero points to `zps[n * zpBytes ..]` (n global). `tile` holds at
 * least r * K floats (the columns transposed).
 */
export function quantizeColumnsNBits(w: Float32Array, K: number, N: number, n0: number, r: number, spec: NBitsSpec, tile: Float32Array, B: Uint8Array, scales: Float32Array, zps: Uint8Array): void {
  // transpose the column slice in strips of TK rows of B: a strip (TK x r floats) stays in cache
  // while each column's TK values are written contiguously (4x the plain row-by-row loop)
  for (let k0 = 0; k0 < K; k0 += TK) {
    const k1 = Math.min(K, k0 + TK);
    for (let j = 0; j < r; j++) {
      const dst = j * K;
      for (let k = k0; k < k1; k++) tile[dst + k] = w[k * N + n0 + j]!;
    }
  }
  quantizeRowsNBits(tile, K, n0, r, spec, B, scales, zps);
}

/**
 * Like {@link quantizeColumnsNBits} for a weight stored transposed: `tile` holds columns n0 ..
 * n0+r-1 of B as r contiguous rows of K floats (a tied token table [V, D] is B = tableᵀ with K = D,
 * N = V, already in this layout), so no transpose is needed.
 */
export function quantizeRowsNBits(tile: Float32Array, K: number, n0: number, r: number, spec: NBitsSpec, B: Uint8Array, scales: Float32Array, zps: Uint8Array): void {
  const { bits, symmetric, blockSize: bs, container } = spec;
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  const max = 2 ** bits - 1;
  zps.fill(0, n0 * zpBytes, (n0 + r) * zpBytes);
  for (let j = 0; j < r; j++) {
    const n = n0 + j;
    const row = j * K;
    for (let b = 0; b < nb; b++) {
      const c0 = row + b * bs;
      const c1 = row + Math.min(K, (b + 1) * bs);
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = c0; i < c1; i++) {
        const v = tile[i]!;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      if (lo !== lo || hi !== hi) [lo, hi] = rangeSkippingNaN(tile, c0, c1);
      const p = groupParams(lo, hi, { bits, symmetric });
      const scale = p.scale;
      const zp = p.zeroPoint;
      scales[n * nb + b] = scale;
      const out = (j * nb + b) * blob;
      const full = c1 - c0;
      if (container === 4) {
        for (let t = 0; t < bs; t += 2) {
          let a = zp;
          let c = zp;
          if (t < full) {
            const q = rne(tile[c0 + t]! / scale) + zp;
            a = q < 0 ? 0 : q > max ? max : q;
          }
          if (t + 1 < full) {
            const q = rne(tile[c0 + t + 1]! / scale) + zp;
            c = q < 0 ? 0 : q > max ? max : q;
          }
          B[out + (t >> 1)] = (a & 15) | ((c & 15) << 4);
        }
        const zb = n * zpBytes + (b >> 1);
        zps[zb] = zps[zb]! | ((zp & 15) << ((b & 1) * 4));
      } else {
        for (let t = 0; t < bs; t++) {
          let code = zp;
          if (t < full) {
            const q = rne(tile[c0 + t]! / scale) + zp;
            code = q < 0 ? 0 : q > max ? max : q;
          }
          B[out + t] = code & 255;
        }
        zps[n * zpBytes + b] = zp & 255;
      }
    }
  }
}

/** Min and max of `v[c0..c1)` ignoring NaN (what quantizeRtn's compare loop does). */
function rangeSkippingNaN(v: Float32Array, c0: number, c1: number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = c0; i < c1; i++) {
    const x = v[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}
