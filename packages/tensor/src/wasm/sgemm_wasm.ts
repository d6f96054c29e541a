import type { MatView } from '../backends/cpu/sgemm.js';
import { SGEMM_RELAXED_WASM_BASE64, SGEMM_WASM_BASE64 } from './sgemm_bytes.js';

interface SgemmExports {
  mr(): number;
  nr(): number;
  macro(mc: number, nc: number, kc: number, pa: number, pb: number, c: number, ldc: number, scratch: number, acc: number): void;
  packA(src: number, rs: number, cs: number, mc: number, kc: number, alpha: number, dst: number): void;
  packB(src: number, rs: number, cs: number, kc: number, nc: number, dst: number): void;
}

/** Which build of the kernel runs: relaxed SIMD (fused multiply-add) or plain SIMD. */
export type WasmSgemmVariant = 'relaxed-simd' | 'simd';

interface WasmState {
  readonly variant: WasmSgemmVariant;
  readonly exports: SgemmExports;
  readonly memory: WebAssembly.Memory;
  readonly mr: number;
  readonly nr: number;
  heap: Float32Array;
}

// Blocking of the WASM tier: KC×NR B micro-panels stay in L1, the MC×KC A block in L1/L2,
// the KC×NC B block (1 MB) in L2. Swept on a Xeon (48 KB L1d, 2 MB L2 per core): MC 48 /
// NC 1024 is ~8 % faster on 1024³ than MC 120 / NC 4096. MC is a multiple of the kernel's
// 5-row tile, so only the last block of A can end in a short panel. KC also sets where float32
// partial sums are split, so it is part of every trained model's bytes (the zoo reproduces its
// files byte for byte): KC 512 was 2-3 % faster on an AMD EPYC but changes those sums; kept at 256.
const DEFAULT = { kc: 256, mc: 60, nc: 1024 };
let KC = DEFAULT.kc;
let MC = DEFAULT.mc;
let NC = DEFAULT.nc;

/** Override the cache blocking (tests use tiny blocks to exercise every edge path). */
export function setWasmBlocking(b: { kc?: number; mc?: number; nc?: number; maxC?: number } | null): void {
  MAX_C = b?.maxC ?? 8 * 1024 * 1024;
  KC = b?.kc ?? DEFAULT.kc;
  MC = b?.mc ?? DEFAULT.mc;
  NC = b?.nc ?? DEFAULT.nc;
}
/** Largest C staged in linear memory at once (floats); bigger products run in row chunks. */
let MAX_C = 8 * 1024 * 1024;
/** Our data starts after the module's own first page. */
const BASE = 65536;

let state: WasmState | null | undefined;
let forced: WasmSgemmVariant | null = null;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The module bytes of one build of the kernel. */
export function wasmSgemmBytes(variant: WasmSgemmVariant): Uint8Array<ArrayBuffer> {
  return decodeBase64(variant === 'relaxed-simd' ? SGEMM_RELAXED_WASM_BASE64 : SGEMM_WASM_BASE64);
}

/** Instantiate one build; null when the engine rejects it (no SIMD, or no relaxed SIMD). */
function instantiate(variant: WasmSgemmVariant): WasmState | null {
  try {
    const bytes = wasmSgemmBytes(variant);
    if (!WebAssembly.validate(bytes)) return null;
    const memory = new WebAssembly.Memory({ initial: 2 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const exports = instance.exports as unknown as SgemmExports;
    return { variant, exports, memory, mr: exports.mr(), nr: exports.nr(), heap: new Float32Array(memory.buffer) };
  } catch {
    return null;
  }
}

/**
 * Instantiate the module once: the relaxed-SIMD build where the engine accepts it (Chromium
 * 114+, Node 22+, Node 20 through `@whittle/tensor/node`), else plain SIMD; null without either.
 */
function init(): WasmState | null {
  if (state !== undefined) return state;
  state = null;
  if (typeof WebAssembly === 'undefined' || typeof atob === 'undefined') return null;
  state = forced ? instantiate(forced) : instantiate('relaxed-simd') ?? instantiate('simd');
  return state;
}

/** Whether the WASM SIMD tier can run here. */
export function wasmSimdAvailable(): boolean {
  return init() !== null;
}

/** The build of the WASM tier in use, or null when the tier cannot run here. */
export function wasmSgemmVariant(): WasmSgemmVariant | null {
  return init()?.variant ?? null;
}

/**
 * Pin the WASM tier to one build; null restores automatic choice. Returns the previous pin, so a
 * caller can restore it. Pinning a build the engine rejects makes the tier unavailable (callers
 * use JS). Plain SIMD rounds every product and sum separately, as JS does, so its results are the
 * same bits on every engine and CPU; the fused build's can differ in the last bits between
 * engines that fuse and engines that do not (the zoo's reproducible training pins 'simd').
 */
export function forceWasmSgemmVariant(v: WasmSgemmVariant | null): WasmSgemmVariant | null {
  const prev = forced;
  forced = v;
  state = undefined;
  return prev;
}

/** Grow linear memory (once, reused by later calls) to hold `bytes` past BASE. */
function reserve(s: WasmState, bytes: number): void {
  const need = BASE + bytes;
  const have = s.memory.buffer.byteLength;
  if (need > have) {
    s.memory.grow(Math.ceil((need - have) / 65536));
    s.heap = new Float32Array(s.memory.buffer);
  } else if (s.heap.buffer !== s.memory.buffer) {
    s.heap = new Float32Array(s.memory.buffer);
  }
}

/** The tier's linear memory, grown to hold at least `bytes` from `base` (a byte offset). */
export interface WasmScratch {
  readonly memory: WebAssembly.Memory;
  readonly heap: Float32Array;
  readonly base: number;
}

/**
 * @internal Linear memory for another WASM kernel instantiated on the same memory (im2col): it
 * stages its operands from `base` on, between sgemm calls. Null when the tier cannot run here.
 */
export function wasmScratch(bytes: number): WasmScratch | null {
  const s = init();
  if (!s) return null;
  reserve(s, bytes);
  return { memory: s.memory, heap: s.heap, base: BASE };
}

/**
 * C[cOff + i*ldc + j] += alpha * (A @ B)[i, j] with the WASM SIMD macro-kernel. Operands are
 * packed from any strides into linear memory; C is staged there and copied back (`cZero`: the
 * caller's C is all zeros, so it is not copied in and the first K block overwrites). Returns
 * false (doing nothing) when the tier is unavailable.
 */
export function wasmSgemm(M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number, cZero = false): boolean {
  const s = init();
  if (!s) return false;
  const rowsPerChunk = Math.max(1, Math.floor(MAX_C / N));
  for (let r0 = 0; r0 < M; r0 += rowsPerChunk) {
    const m = Math.min(rowsPerChunk, M - r0);
    chunk(s, m, N, K, alpha, { data: A.data, off: A.off + r0 * A.rs, rs: A.rs, cs: A.cs }, B, C, cOff + r0 * ldc, ldc, cZero);
  }
  return true;
}

/** Where an operand lives in linear memory: float index of element (0, 0) and its strides. */
interface Staged {
  readonly at: number;
  readonly rs: number;
  readonly cs: number;
}

/** Whether an operand's span is small enough to copy whole (one block copy) rather than gather. */
function compact(v: MatView, rows: number, cols: number): boolean {
  return (rows - 1) * v.rs + (cols - 1) * v.cs + 1 <= 2 * rows * cols + 64;
}

/** Floats an operand needs in linear memory: its whole span when compact enough, else rows×cols. */
function stagedSize(v: MatView, rows: number, cols: number): number {
  return compact(v, rows, cols) ? (rows - 1) * v.rs + (cols - 1) * v.cs + 1 : rows * cols;
}

/** Copy an operand into linear memory at float index `at` (one block copy when compact). */
function stage(heap: Float32Array, at: number, v: MatView, rows: number, cols: number): Staged {
  if (compact(v, rows, cols)) {
    const span = (rows - 1) * v.rs + (cols - 1) * v.cs + 1;
    heap.set(v.data.subarray(v.off, v.off + span), at);
    return { at, rs: v.rs, cs: v.cs };
  }
  const d = v.data;
  for (let i = 0; i < rows; i++) {
    const o = at + i * cols;
    for (let j = 0, s = v.off + i * v.rs; j < cols; j++, s += v.cs) heap[o + j] = d[s]!;
  }
  return { at, rs: cols, cs: 1 };
}

/**
 * C += alpha * A @ B, where B already sits in linear memory (row-major [K, N] from float index
 * `bAt`, written there by another kernel on this memory: the fused conv's unfold) and the floats
 * below `lo` are the caller's. Skips staging B. Returns false when the tier is unavailable.
 * @internal
 */
export function wasmSgemmResident(M: number, N: number, K: number, alpha: number, A: MatView, bAt: number, lo: number, C: Float32Array, cOff: number, ldc: number, cZero: boolean): boolean {
  const s = init();
  if (!s) return false;
  if (M === 0 || N === 0 || K === 0) return true;
  chunk(s, M, N, K, alpha, A, { at: bAt, rs: N, cs: 1 }, C, cOff, ldc, cZero, lo);
  return true;
}

function chunk(s: WasmState, M: number, N: number, K: number, alpha: number, A: MatView, B: MatView | Staged, C: Float32Array, cOff: number, ldc: number, cZero: boolean, lo = BASE / 4): void {
  const { mr, nr } = s;
  const ex = s.exports;
  const kcMax = Math.min(KC, K);
  const mcMax = Math.ceil(Math.min(MC, M) / mr) * mr;
  const ncMax = Math.ceil(Math.min(NC, N) / nr) * nr;
  // A B that is not resident is staged one K block (kcMax rows) at a time when such a block is a
  // compact span (row-major B): packB then reads rows just copied, from cache, instead of a whole
  // staged B that has gone back to memory (a 4096² B is 64 MB)
  const bView = 'at' in B ? null : B;
  const perBlock = bView !== null && K > kcMax && compact(bView, kcMax, N);
  // with several column blocks, A's K block is packed once (every row block) and reused by each
  const reuseA = N > NC;
  const aBlocks = reuseA ? Math.ceil(M / MC) : 1;
  // float offsets of scratch, packed A, packed B, staged A, staged B and C
  const fScratch = lo;
  const fA = fScratch + 64;
  const fB = fA + aBlocks * mcMax * kcMax;
  const fSa = fB + ncMax * kcMax;
  const fSb = fSa + stagedSize(A, M, K);
  const fC = fSb + (bView === null ? 0 : perBlock ? stagedSize(bView, kcMax, N) : stagedSize(bView, K, N));
  reserve(s, (fC - BASE / 4 + M * N) * 4);
  const heap = s.heap;
  const a = stage(heap, fSa, A, M, K);
  const whole = bView === null ? (B as Staged) : perBlock ? null : stage(heap, fSb, bView, K, N);
  if (cZero) {
    // nothing to copy in: the pc = 0 block writes C
  } else if (ldc === N) heap.set(C.subarray(cOff, cOff + M * N), fC);
  else for (let i = 0; i < M; i++) heap.set(C.subarray(cOff + i * ldc, cOff + i * ldc + N), fC + i * N);
  // K blocks in order (each C element adds its block sums in k order), then column and row blocks
  for (let pc = 0; pc < K; pc += KC) {
    const kc = Math.min(KC, K - pc);
    const b = whole ?? stage(heap, fSb, { data: bView!.data, off: bView!.off + pc * bView!.rs, rs: bView!.rs, cs: bView!.cs }, kc, N);
    const bRow = whole ? pc : 0;
    if (reuseA) {
      for (let ic = 0, q = 0; ic < M; ic += MC, q++) ex.packA((a.at + ic * a.rs + pc * a.cs) * 4, a.rs, a.cs, Math.min(MC, M - ic), kc, alpha, (fA + q * mcMax * kc) * 4);
    }
    for (let jc = 0; jc < N; jc += NC) {
      const nc = Math.min(NC, N - jc);
      ex.packB((b.at + bRow * b.rs + jc * b.cs) * 4, b.rs, b.cs, kc, nc, fB * 4);
      for (let ic = 0, q = 0; ic < M; ic += MC, q++) {
        const mc = Math.min(MC, M - ic);
        const ap = reuseA ? fA + q * mcMax * kc : fA;
        if (!reuseA) ex.packA((a.at + ic * a.rs + pc * a.cs) * 4, a.rs, a.cs, mc, kc, alpha, fA * 4);
        ex.macro(mc, nc, kc, ap * 4, fB * 4, (fC + ic * N + jc) * 4, N, fScratch * 4, cZero && pc === 0 ? 0 : 1);
      }
    }
  }
  if (ldc === N) C.set(heap.subarray(fC, fC + M * N), cOff);
  else for (let i = 0; i < M; i++) C.set(heap.subarray(fC + i * N, fC + i * N + N), cOff + i * ldc);
}
