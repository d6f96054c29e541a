/**
 * The WASM SIMD tier of the MatMulNBits kernel (source: wasm/nbits.as). Its linear memory is
 * [work area | band arena]: the band quantizer (nbits_bands.ts) loads rows of B straight into the
 * arena and takes its outputs from there (no copies); a B in JS memory (the column API) is copied
 * in a slice of columns at a time. Bytes are identical to the JS kernel.
 */
import { NBITS_WASM_BASE64 } from './wasm/nbits_bytes.js';

type QuantizeRows = (src: number, K: number, r: number, bits: number, sym: number, bs: number, container: number, outB: number, outS: number, outZ: number, outE: number) => void;
type QuantizeCols = (w: number, stride: number, K: number, cols: number, bits: number, sym: number, bs: number, container: number, outB: number, outS: number, outZ: number, scratch: number, nbT: number, b0: number, outE: number) => void;

/** Work area: scratch, a staging copy of B's columns, and the outputs of one slice. */
const SCRATCH = 64 * 1024;
const COPY = 16 * 2 ** 20;
const OUT = 16 * 2 ** 20;
const WORK = SCRATCH + COPY + OUT;
const PAGE = 65536;

let module: WebAssembly.Module | null | undefined;
let bound: { memory: WebAssembly.Memory; fn: QuantizeCols; rows: QuantizeRows; weightBytes: number } | undefined;
let enabled = true;

/** Turn the WASM tier off (tests compare it with the JS loops); returns the previous setting. */
export function setWasmNBits(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

function compiled(): WebAssembly.Module | null {
  if (module === undefined) {
    try {
      const bin = atob(NBITS_WASM_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      module = new WebAssembly.Module(bytes);
    } catch {
      // no WebAssembly SIMD here: the JS kernel runs
      module = null;
    }
  }
  return module;
}

/** An instance whose memory holds the work area plus `weightBytes` (new memory when too small). */
function instance(weightBytes: number): typeof bound {
  if (bound && bound.weightBytes >= weightBytes) return bound;
  const mod = compiled();
  if (!mod) return undefined;
  try {
    const memory = new WebAssembly.Memory({ initial: Math.ceil((WORK + weightBytes) / PAGE) });
    const ex = new WebAssembly.Instance(mod, { env: { memory } }).exports as unknown as { quantizeCols: QuantizeCols; quantizeRows: QuantizeRows };
    bound = { memory, fn: ex.quantizeCols, rows: ex.quantizeRows, weightBytes };
    return bound;
  } catch {
    // memory of that size refused: the caller falls back
    return undefined;
  }
}

/** Byte offset of the f64 error sums after `end`. */
const align8 = (end: number): number => Math.ceil(end / 8) * 8;

/**
 * Quantize columns n0 .. n0+r-1 of `w` [K, N] with the WASM kernel (same contract as
 * quantizeColumnsNBits; `sse`, when given, receives each column's sum of squared errors at
 * `sse[n]`). Returns false, writing nothing, when the WASM tier cannot run.
 */
export function quantizeColumnsWasm(w: Float32Array, K: number, N: number, n0: number, r: number, bits: number, symmetric: boolean, bs: number, container: 4 | 8, B: Uint8Array, scales: Float32Array, zps: Uint8Array, sse?: Float64Array): boolean {
  if (!enabled) return false;
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  // outputs per column, with its f64 error sum (and room to align the sums)
  const perCol = nb * blob + nb * 4 + zpBytes + 8;
  const b = bound?.memory.buffer === w.buffer ? bound : instance(0);
  if (!b) return false;
  const inPlace = b.memory.buffer === w.buffer;
  // columns per call: outputs fit OUT; a copied slice [K, S] fits COPY
  let S = Math.floor((OUT - 8) / perCol);
  if (!inPlace) S = Math.min(S, Math.floor(COPY / (4 * K)));
  if (S < 1) return false;
  if (S >= 16) S -= S % 16;
  const heap = new Uint8Array(b.memory.buffer);
  const f32 = new Float32Array(b.memory.buffer);
  const outB = SCRATCH + COPY;
  for (let s0 = n0; s0 < n0 + r; s0 += S) {
    const m = Math.min(S, n0 + r - s0);
    let ptr: number;
    let stride: number;
    if (inPlace) {
      ptr = w.byteOffset + s0 * 4;
      stride = N;
    } else {
      ptr = SCRATCH;
      stride = m;
      for (let k = 0; k < K; k++) f32.set(w.subarray(k * N + s0, k * N + s0 + m), SCRATCH / 4 + k * m);
    }
    const outS = outB + m * nb * blob;
    const outZ = outS + m * nb * 4;
    const outE = align8(outZ + m * zpBytes);
    heap.fill(0, outZ, outZ + m * zpBytes);
    if (sse) heap.fill(0, outE, outE + m * 8);
    b.fn(ptr, stride, K, m, bits, symmetric ? 1 : 0, bs, container, outB, outS, outZ, 0, nb, 0, sse ? outE : 0);
    B.set(heap.subarray(outB, outB + m * nb * blob), (s0 - n0) * nb * blob);
    scales.set(f32.subarray(outS / 4, outS / 4 + m * nb), s0 * nb);
    zps.set(heap.subarray(outZ, outZ + m * zpBytes), s0 * zpBytes);
    if (sse) sse.set(new Float64Array(b.memory.buffer, outE, m), s0);
  }
  return true;
}

/**
 * quantizeRowsNBits with the WASM kernel: rows n0 .. n0+r-1 of B's transpose in `tile` ([r, K]),
 * copied into WASM memory a chunk of rows at a time (`sse`, when given, receives each row's sum of
 * squared errors at `sse[n]`). Returns false, writing nothing, when the WASM tier cannot run.
 */
export function quantizeRowsWasm(tile: Float32Array, K: number, n0: number, r: number, bits: number, symmetric: boolean, bs: number, container: 4 | 8, B: Uint8Array, scales: Float32Array, zps: Uint8Array, sse?: Float64Array): boolean {
  if (!enabled) return false;
  const nb = Math.ceil(K / bs);
  const blob = (bs * container) / 8;
  const zpBytes = Math.ceil((nb * container) / 8);
  const S = Math.min(Math.floor(COPY / (4 * K)), Math.floor((OUT - 8) / (nb * blob + nb * 4 + zpBytes + 8)));
  const b = S >= 1 ? instance(0) : undefined;
  if (!b) return false;
  const heap = new Uint8Array(b.memory.buffer);
  const f32 = new Float32Array(b.memory.buffer);
  const outB = SCRATCH + COPY;
  for (let j0 = 0; j0 < r; j0 += S) {
    const m = Math.min(S, r - j0);
    f32.set(tile.subarray(j0 * K, (j0 + m) * K), SCRATCH / 4);
    const outS = outB + m * nb * blob;
    const outZ = outS + m * nb * 4;
    const outE = align8(outZ + m * zpBytes);
    heap.fill(0, outZ, outZ + m * zpBytes);
    b.rows(SCRATCH, K, m, bits, symmetric ? 1 : 0, bs, container, outB, outS, outZ, sse ? outE : 0);
    B.set(heap.subarray(outB, outB + m * nb * blob), j0 * nb * blob);
    scales.set(f32.subarray(outS / 4, outS / 4 + m * nb), (n0 + j0) * nb);
    zps.set(heap.subarray(outZ, outZ + m * zpBytes), (n0 + j0) * zpBytes);
    if (sse) sse.set(new Float64Array(b.memory.buffer, outE, m), n0 + j0);
  }
  return true;
}

/** Buffers of {@link wasmBandArena}, all views of the WASM memory. */
export interface WasmBandArena {
  band: Uint8Array;
  B: Uint8Array;
  scales: Float32Array;
  zps: Uint8Array;
  /**
   * Quantize the `rows` rows of B [*, N] in `band` (rows k0 .. of the weight, k0 = b0 * blockSize)
   * into blocks b0 .. of the outputs, laid out for a weight of `nbT` blocks per column.
   */
  run(rows: number, N: number, bits: number, symmetric: boolean, bs: number, container: 4 | 8, nbT: number, b0: number): void;
}

const align = (x: number): number => Math.ceil(x / 64) * 64;

/**
 * A band buffer and one weight's output buffers in the WASM kernel's memory (the band is read in
 * place, outputs are written where the caller writes them from: no copies); undefined when the
 * WASM tier cannot run. Valid until the next call.
 */
export function wasmBandArena(bandBytes: number, bBytes: number, sBytes: number, zBytes: number): WasmBandArena | undefined {
  if (!enabled) return undefined;
  const [pB, pS, pZ] = [align(bandBytes), align(bandBytes) + align(bBytes), align(bandBytes) + align(bBytes) + align(sBytes)];
  const b = instance(pZ + zBytes);
  if (!b) return undefined;
  const buf = b.memory.buffer;
  return {
    band: new Uint8Array(buf, WORK, bandBytes),
    B: new Uint8Array(buf, WORK + pB, bBytes),
    scales: new Float32Array(buf, WORK + pS, sBytes / 4),
    zps: new Uint8Array(buf, WORK + pZ, zBytes),
    run: (rows, N, bits, symmetric, bs, container, nbT, b0) => b.fn(WORK, N, rows, N, bits, symmetric ? 1 : 0, bs, container, WORK + pB, WORK + pS, WORK + pZ, 0, nbT, b0, 0),
  };
}
