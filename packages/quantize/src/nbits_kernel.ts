/**
 * Fused RTN + MatMulNBits packing of output columns of a float32 weight B [K, N]: per column and
 * block of K, the group parameters, the codes and the packed bytes, with no Float64 copy and no
 * intermediate code array. Same math as `quantizeRtn` (block granularity) followed by
 * `packMatMulNBits`, so the bytes are identical.
 *
 * Why it is shaped this way (measured on a 1 GB model): B is read row by row, a block of K rows
 * times a chunk of columns at a time — never down a column, whose stride (N floats, a power of two
 * in most models) maps every row to the same cache set. Codes are x * (1 / scale) rounded with a
 * truncation; the rare value within 1e-9 of a rounding tie takes the exact x / scale with ties to
 * even, so the codes equal the division's.
 */
import { columnErrors, rowErrors } from './nbits_error.js';
import { quantizeColumnsWasm, quantizeRowsWasm } from './nbits_wasm.js';
import { roundEven } from './quant_math.js';

/** Columns per chunk: a block of rows of the chunk (bs x C floats) stays in L1/L2. */
const C = 128;

/** 1.5 * 2^52: adding and subtracting it rounds a double to an integer, ties to even (IEEE). */
const MAGIC = 6755399441055744;

/**
 * Distance from a rounding tie below which the code is recomputed with the exact division: the
 * reciprocal product differs from x / scale by a few ulp of a number below 2^9 (≤ 1e-13).
 */
const TIE = 1e-9;

/**
 * Round half to even, equal to {@link roundEven} for |x| < 2^51 (codes are within ±2^bits of the
 * grid, far inside), without Math.round's extra tie check; larger |x| take roundEven itself.
 */
function rne(x: number): number {
  return x < 2 ** 51 && x > -(2 ** 51) ? x + MAGIC - MAGIC : roundEven(x);
}

/** The code of x exactly as quantizeRtn computes it (NaN stays NaN: packed as 0). */
function exactCode(x: number, scale: number, zp: number, max: number): number {
  const q = rne(x / scale) + zp;
  return q < 0 ? 0 : q > max ? max : q;
}

/** Grid and layout of {@link quantizeColumnsNBits}. */
export interface NBitsSpec {
  bits: number;
  symmetric: boolean;
  blockSize: number;
  /** Container bits: 4 (two codes per byte) or 8. */
  container: 4 | 8;
}

/** Per-chunk working memory, reused across calls (fresh allocations per weight cost page faults). */
interface Scratch {
  rows: Float32Array;
  stage: Uint8Array;
  lo: Float64Array;
  hi: Float64Array;
  scale: Float64Array;
  inv: Float64Array;
  zp: Float64Array;
}

let scratch: Scratch | undefined;

function scratchFor(bs: number, blob: number): Scratch {
  if (!scratch || scratch.rows.length < bs * C || scratch.stage.length < C * blob) {
    scratch = { rows: new Float32Array(bs * C), stage: new Uint8Array(C * blob), lo: new Float64Array(C), hi: new Float64Array(C), scale: new Float64Array(C), inv: new Float64Array(C), zp: new Float64Array(C) };
  }
  return scratch;
}

/**
 * Quantize columns n0 .. n0+r-1 of `w` ([K, N] row-major). Writes the packed blocks of those
 * columns to `B` (from 0: r * nb * blockSize * container / 8 bytes), their scales to
 * `scales[n * nb + b]` and packed zero points to `zps[n * zpBytes ..]` (n global). `tile` is not
 * used (kept for callers that size one; the kernel has its own small scratch). Runs the WASM SIMD
 * tier (nbits_wasm.ts) where it can, these JS loops otherwise; both give the same bytes. With
 * `sse`, each column's sum of squared errors goes to `sse[n]` (n global; order of nbits_error.ts,
 * computed while quantizing in the WASM tier, from the packed output in the JS tier).
 */
export function quantizeColumnsNBits(w: Float32Array, K: number, N: number, n0: number, r: number, spec: NBitsSpec, _tile: Float32Array, B: Uint8Array, scales: Float32Array, zps: Uint8Array, sse?: Float64Array): void {
  const { bits, symmetric, blockSize: bs, container } = spec;
  if (quantizeColumnsWasm(w, K, N, n0, r, bits, symmetric, bs, container, B, scales, zps, sse)) return;
  const nb = Math.ceil(K / bs);
  const zpBytes = Math.ceil((nb * container) / 8);
  zps.fill(0, n0 * zpBytes, (n0 + r) * zpBytes);
  quantizeColumnsJs(w, K, N, n0, r, spec, B, scales, zps, nb, 0);
  if (sse) columnErrors(w, K, N, n0, r, bs, container, B, scales, zps, sse);
}

/**
 * Rows 0 .. rows-1 of `band` ([rows, N]) as blocks b0 .. of a weight with `nbT` blocks per column,
 * all N columns, by the JS loops (the fallback of the band quantizer in nbits_bands.ts).
 */
export function quantizeBandJs(band: Float32Array, rows: number, N: number, spec: NBitsSpec, B: Uint8Array, scales: Float32Array, zps: Uint8Array, nbT: number, b0: number): void {
  quantizeColumnsJs(band, rows, N, 0, N, spec, B, scales, zps, nbT, b0);
}

/**
 * The JS loops: rows 0 .. K-1 of `w` are blocks b0 .. of a weight with `nbT` blocks per column
 * (K a multiple of the block size unless these rows end the weight); B from column n0 as
 * [r, nbT, blob], scales and zero points at global column n (zero points OR-ed into zeroed bytes).
 */
function quantizeColumnsJs(w: Float32Array, K: number, N: number, n0: number, r: number, spec: NBitsSpec, B: Uint8Array, scales: Float32Array, zps: Uint8Array, nbT: number, b0: number): void {
  const { bits, symmetric, blockSize: bs, container } = spec;
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nbT * container) / 8);
  const max = 2 ** bits - 1;
  const levels = max;
  const half = 2 ** (bits - 1);
  const qmax = Math.max(1, half - 1);
  const s = scratchFor(bs, blob);
  const { rows, stage, lo, hi, scale, inv, zp } = s;
  for (let c0 = 0; c0 < r; c0 += C) {
    const cw = Math.min(C, r - c0);
    for (let bl = 0; bl < nb; bl++) {
      const b = b0 + bl;
      const k0 = bl * bs;
      const full = Math.min(bs, K - k0);
      // pass 1: copy the block's rows of this chunk contiguous, with per-column range (NaN skipped,
      // as quantizeRtn's compare loop does)
      if (symmetric) {
        for (let c = 0; c < cw; c++) hi[c] = -1;
        for (let t = 0; t < full; t++) {
          const src = (k0 + t) * N + n0 + c0;
          const dst = t * cw;
          for (let c = 0; c < cw; c++) {
            const v = w[src + c]!;
            rows[dst + c] = v;
            const a = v < 0 ? -v : v;
            if (a > hi[c]!) hi[c] = a;
          }
        }
      } else {
        for (let c = 0; c < cw; c++) {
          lo[c] = Infinity;
          hi[c] = -Infinity;
        }
        for (let t = 0; t < full; t++) {
          const src = (k0 + t) * N + n0 + c0;
          const dst = t * cw;
          for (let c = 0; c < cw; c++) {
            const v = w[src + c]!;
            rows[dst + c] = v;
            if (v < lo[c]!) lo[c] = v;
            if (v > hi[c]!) hi[c] = v;
          }
        }
      }
      // group parameters: groupParams' formulas, inlined (no object per block)
      for (let c = 0; c < cw; c++) {
        const n = n0 + c0 + c;
        let sc: number;
        let z: number;
        if (symmetric) {
          // an all-NaN block has range [Infinity, -Infinity], so max |x| = Infinity
          const amax = hi[c]! < 0 ? Infinity : hi[c]!;
          sc = amax > 0 ? amax / qmax : 1;
          z = half;
        } else {
          const l = Math.min(lo[c]!, 0);
          const h = Math.max(hi[c]!, 0);
          if (h - l <= 0) {
            sc = 1;
            z = 0;
          } else {
            sc = (h - l) / levels;
            z = Math.min(levels, Math.max(0, roundEven(-l / sc)));
          }
        }
        scales[n * nbT + b] = sc;
        scale[c] = sc;
        inv[c] = 1 / sc;
        zp[c] = z;
        if (container === 4) {
          const zb = n * zpBytes + (b >> 1);
          zps[zb] = zps[zb]! | ((z & 15) << ((b & 1) * 4));
        } else zps[n * zpBytes + b] = z & 255;
      }
      // pass 2: codes into stage [c][blob]
      if (full === bs) {
        if (container === 4) quantizePairs(rows, cw, bs, blob, max, scale, inv, zp, stage);
        else quantizeBytes(rows, cw, bs, blob, max, scale, inv, zp, stage);
      } else quantizeRagged(rows, cw, full, bs, blob, container, max, scale, zp, stage);
      for (let c = 0; c < cw; c++) {
        const dst = ((c0 + c) * nbT + b) * blob;
        const src = c * blob;
        for (let i = 0; i < blob; i++) B[dst + i] = stage[src + i]!;
      }
    }
  }
}

/** Codes of a full block in 4-bit containers: rows t, t+1 of column c → stage[c * blob + t / 2]. */
function quantizePairs(rows: Float32Array, cw: number, bs: number, blob: number, max: number, scale: Float64Array, inv: Float64Array, zp: Float64Array, stage: Uint8Array): void {
  for (let t = 0; t < bs; t += 2) {
    const r0 = t * cw;
    const r1 = r0 + cw;
    const o = t >> 1;
    for (let c = 0; c < cw; c++) {
      const iv = inv[c]!;
      const h = zp[c]! + 0.5;
      // floor(y + zp + 0.5) by truncation: y + zp + 0.5 is > -1 wherever the code is not clamped to 0
      const x0 = rows[r0 + c]!;
      const v0 = x0 * iv + h;
      let a = v0 | 0;
      const f0 = v0 - a;
      if (f0 < TIE || f0 > 1 - TIE) a = exactCode(x0, scale[c]!, zp[c]!, max) | 0;
      const x1 = rows[r1 + c]!;
      const v1 = x1 * iv + h;
      let d = v1 | 0;
      const f1 = v1 - d;
      if (f1 < TIE || f1 > 1 - TIE) d = exactCode(x1, scale[c]!, zp[c]!, max) | 0;
      a = a < 0 ? 0 : a > max ? max : a;
      d = d < 0 ? 0 : d > max ? max : d;
      stage[c * blob + o] = a | (d << 4);
    }
  }
}

/** Codes of a full block in 8-bit containers. */
function quantizeBytes(rows: Float32Array, cw: number, bs: number, blob: number, max: number, scale: Float64Array, inv: Float64Array, zp: Float64Array, stage: Uint8Array): void {
  for (let t = 0; t < bs; t++) {
    const r0 = t * cw;
    for (let c = 0; c < cw; c++) {
      const x = rows[r0 + c]!;
      const v = x * inv[c]! + (zp[c]! + 0.5);
      let a = v | 0;
      const f = v - a;
      if (f < TIE || f > 1 - TIE) a = exactCode(x, scale[c]!, zp[c]!, max) | 0;
      stage[c * blob + t] = a < 0 ? 0 : a > max ? max : a;
    }
  }
}

/** The last block of a K that is not a multiple of the block size: exact codes, padding = zero point. */
function quantizeRagged(rows: Float32Array, cw: number, full: number, bs: number, blob: number, container: 4 | 8, max: number, scale: Float64Array, zp: Float64Array, stage: Uint8Array): void {
  for (let c = 0; c < cw; c++) {
    const z = zp[c]!;
    const code = (t: number): number => (t < full ? exactCode(rows[t * cw + c]!, scale[c]!, z, max) : z);
    if (container === 4) for (let t = 0; t < bs; t += 2) stage[c * blob + (t >> 1)] = (code(t) & 15) | ((code(t + 1) & 15) << 4);
    else for (let t = 0; t < bs; t++) stage[c * blob + t] = code(t) & 255;
  }
}

/**
 * Like {@link quantizeColumnsNBits} for a weight stored transposed: `tile` holds columns n0 ..
 * n0+r-1 of B as r contiguous rows of K floats (a tied token table [V, D] is B = tableᵀ with K = D,
 * N = V, already in this layout), so no transpose is needed. WASM SIMD where it runs, else JS.
 * `sse` as in {@link quantizeColumnsNBits}.
 */
export function quantizeRowsNBits(tile: Float32Array, K: number, n0: number, r: number, spec: NBitsSpec, B: Uint8Array, scales: Float32Array, zps: Uint8Array, sse?: Float64Array): void {
  const { bits, symmetric, blockSize: bs, container } = spec;
  if (quantizeRowsWasm(tile, K, n0, r, bits, symmetric, bs, container, B, scales, zps, sse)) return;
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  const max = 2 ** bits - 1;
  const half = 2 ** (bits - 1);
  const qmax = Math.max(1, half - 1);
  zps.fill(0, n0 * zpBytes, (n0 + r) * zpBytes);
  for (let j = 0; j < r; j++) {
    const n = n0 + j;
    const row = j * K;
    for (let b = 0; b < nb; b++) {
      const c0 = row + b * bs;
      const c1 = row + Math.min(K, (b + 1) * bs);
      // range skipping NaN (compares are false for NaN), the group parameters of groupParams
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = c0; i < c1; i++) {
        const v = tile[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      let scale: number;
      let zp: number;
      if (symmetric) {
        const amax = Math.max(Math.abs(lo), Math.abs(hi));
        scale = amax > 0 ? amax / qmax : 1;
        zp = half;
      } else {
        const l = Math.min(lo, 0);
        const h = Math.max(hi, 0);
        if (h - l <= 0) {
          scale = 1;
          zp = 0;
        } else {
          scale = (h - l) / max;
          zp = Math.min(max, Math.max(0, roundEven(-l / scale)));
        }
      }
      scales[n * nb + b] = scale;
      const inv = 1 / scale;
      const h = zp + 0.5;
      const out = (j * nb + b) * blob;
      const full = c1 - c0;
      if (container === 4) {
        for (let t = 0; t < bs; t += 2) {
          const a = t < full ? rowCode(tile[c0 + t]!, inv, h, scale, zp, max) : zp;
          const c = t + 1 < full ? rowCode(tile[c0 + t + 1]!, inv, h, scale, zp, max) : zp;
          B[out + (t >> 1)] = (a & 15) | ((c & 15) << 4);
        }
        const zb = n * zpBytes + (b >> 1);
        zps[zb] = zps[zb]! | ((zp & 15) << ((b & 1) * 4));
      } else {
        for (let t = 0; t < bs; t++) B[out + t] = (t < full ? rowCode(tile[c0 + t]!, inv, h, scale, zp, max) : zp) & 255;
        zps[n * zpBytes + b] = zp & 255;
      }
    }
  }
  if (sse) rowErrors(tile, K, n0, r, bs, container, B, scales, zps, sse);
}

/** floor(x * inv + zp + 0.5) by truncation, clamped; the exact division within TIE of a tie (as quantizePairs). */
function rowCode(x: number, inv: number, h: number, scale: number, zp: number, max: number): number {
  const v = x * inv + h;
  let q = v | 0;
  const f = v - q;
  if (f < TIE || f > 1 - TIE) q = exactCode(x, scale, zp, max) | 0;
  return q < 0 ? 0 : q > max ? max : q;
}
