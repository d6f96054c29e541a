/**
 * The band quantizer's buffers (nbits_bands.ts on this thread, nbits_band_jobs.ts on band
 * threads): a band of float32 rows and one weight's outputs, in WASM memory when the SIMD tier
 * runs, else in JS memory. No package imports: a band thread loads only the kernel.
 */
import { type NBitsSpec, quantizeBandJs } from './nbits_kernel.js';
import { type WasmBandArena, wasmBandArena } from './nbits_wasm.js';

/**
 * Band rows of a weight [*, maxN] for bands of at most `bandBytes` (whole blocks, at least one):
 * the banding of {@link nbitsBands}, shared with the worker pool (nbits_pool.ts).
 */
export function bandRows(blockSize: number, maxN: number, bandBytes: number): number {
  return Math.max(blockSize, Math.floor(bandBytes / (4 * Math.max(1, maxN)) / blockSize) * blockSize);
}

/** A band buffer and output buffers for the kernel: in WASM memory when the SIMD tier runs, else in JS memory. */
export function bandArena(spec: NBitsSpec, bandBytes: number, bB: number, sB: number, zB: number): WasmBandArena {
  return wasmBandArena(bandBytes, bB, sB, zB) ?? jsArena(spec, bandBytes, bB, sB, zB);
}

/** The same buffers in JS memory, run by the JS loops (no WebAssembly SIMD here). */
function jsArena(spec: NBitsSpec, bandBytes: number, bB: number, sB: number, zB: number): WasmBandArena {
  const band = new Uint8Array(bandBytes);
  const B = new Uint8Array(bB);
  const scales = new Float32Array(sB / 4);
  const zps = new Uint8Array(zB);
  return {
    band,
    B,
    scales,
    zps,
    run: (rows, N, _bits, _symmetric, _bs, _container, nbT, b0) => quantizeBandJs(new Float32Array(band.buffer, 0, rows * N), rows, N, spec, B, scales, zps, nbT, b0),
  };
}
