/**
 * MatMulNBits quantization of whole weights B [K, N] read a band of rows at a time, into output
 * buffers reused from weight to weight. Why: a weight-sized input buffer costs its size in memory
 * and, the first time, a page fault per 4 KB (slower than reading the file); a band of a few MB
 * stays warm in cache. The outputs ([N, nb, blob] bytes, scales, zero points) are written by block into
 * buffers sized for the largest weight, in WASM memory when the SIMD tier runs (no copies).
 */
import { ArgumentError } from '@whittle/tensor';
import { bandArena, bandRows } from './nbits_arena.js';
import type { NBitsSpec, quantizeColumnsNBits } from './nbits_kernel.js';

/**
 * Bytes of B read per band (rows rounded down to whole blocks, at least one block). Measured on
 * a 1 GB model: 2 MB used less cpu than 8 MB (the band stays in cache between read and quantize).
 */
export const BAND_BYTES = 2 * 2 ** 20;

/** One weight's outputs: views valid until the next {@link NBitsBands.quantize}. */
export interface NBitsOutputs {
  /** Packed blocks [N, nb, blob]. */
  B: Uint8Array;
  /** Scales [N, nb]. */
  scales: Float32Array;
  /** Packed zero points [N, zpBytes]. */
  zps: Uint8Array;
}

/** Quantizer of weights of the shapes it was made for; see {@link nbitsBands}. */
export interface NBitsBands {
  /**
   * Quantize B [K, N]: `load(k0, rows, into)` must fill `into` with rows k0 .. k0+rows-1 of B
   * (rows * N float32 values, little-endian bytes, from its start).
   */
  quantize(K: number, N: number, load: (k0: number, rows: number, into: Uint8Array) => void): NBitsOutputs;
}

/**
 * A band quantizer with `spec` for weights of the given [K, N] shapes (buffers sized for the
 * largest); `bandBytes` bounds a band (default 8 MB; at least two blocks of rows). Bytes equal
 * {@link quantizeColumnsNBits} on the whole weight.
 */
export function nbitsBands(spec: NBitsSpec, shapes: readonly (readonly [number, number])[], bandBytes = BAND_BYTES): NBitsBands {
  const { bits, symmetric, blockSize: bs, container } = spec;
  const blob = (bs * container) / 8;
  const maxN = Math.max(1, ...shapes.map((s) => s[1]));
  // whole blocks per band (zero points are OR-ed into zeroed bytes, so a band may split a byte)
  const rows = bandRows(bs, maxN, bandBytes);
  let bB = 0;
  let sB = 0;
  let zB = 0;
  for (const [K, N] of shapes) {
    const nb = Math.ceil(K / bs);
    bB = Math.max(bB, N * nb * blob);
    sB = Math.max(sB, N * nb * 4);
    zB = Math.max(zB, N * Math.ceil((nb * container) / 8));
  }
  const band = rows * maxN * 4;
  const arena = bandArena(spec, band, bB, sB, zB);
  return {
    quantize(K, N, load) {
      const nb = Math.ceil(K / bs);
      const zpBytes = Math.ceil((nb * container) / 8);
      if (N > maxN || N * nb * blob > bB) throw new ArgumentError(`nbitsBands: weight [${K}, ${N}] is larger than the shapes the quantizer was made for`);
      arena.zps.fill(0, 0, N * zpBytes);
      for (let k0 = 0; k0 < K; k0 += rows) {
        const r = Math.min(rows, K - k0);
        load(k0, r, arena.band.subarray(0, r * N * 4));
        arena.run(r, N, bits, symmetric, bs, container, nb, k0 / bs);
      }
      return { B: arena.B.subarray(0, N * nb * blob), scales: arena.scales.subarray(0, N * nb), zps: arena.zps.subarray(0, N * zpBytes) };
    },
  };
}
