import type { MatView } from '../backends/cpu/sgemm.js';
import { packPanelsA, packPanelsB } from '../backends/cpu/sgemm_pack.js';
import { SGEMM_WASM_BASE64 } from './sgemm_bytes.js';

interface SgemmExports {
  mr(): number;
  nr(): number;
  macro(mc: number, nc: number, kc: number, pa: number, pb: number, c: number, ldc: number, scratch: number): void;
}

interface WasmState {
  readonly exports: SgemmExports;
  readonly memory: WebAssembly.Memory;
  readonly mr: number;
  readonly nr: number;
  heap: Float32Array;
}

// Blocking of the WASM tier: KC×NR B micro-panels stay in L1, the MC×KC A block in L2,
// the KC×NC B block in L2/L3.
let KC = 256;
let MC = 120;
let NC = 4096;

/** Override the cache blocking (tests use tiny blocks to exercise every edge path). */
export function setWasmBlocking(b: { kc?: number; mc?: number; nc?: number; maxC?: number } | null): void {
  MAX_C = b?.maxC ?? 8 * 1024 * 1024;
  KC = b?.kc ?? 256;
  MC = b?.mc ?? 120;
  NC = b?.nc ?? 4096;
}
/** Largest C staged in linear memory at once (floats); bigger products run in row chunks. */
let MAX_C = 8 * 1024 * 1024;
/** Our data starts after the module's own first page. */
const BASE = 65536;

let state: WasmState | null | undefined;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Instantiate the module once; null when WebAssembly or its SIMD extension is unavailable. */
function init(): WasmState | null {
  if (state !== undefined) return state;
  state = null;
  try {
    if (typeof WebAssembly === 'undefined' || typeof atob === 'undefined') return null;
    const bytes = decodeBase64(SGEMM_WASM_BASE64);
    if (!WebAssembly.validate(bytes)) return null; // engines without SIMD reject v128 code
    const memory = new WebAssembly.Memory({ initial: 2 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    const exports = instance.exports as unknown as SgemmExports;
    state = { exports, memory, mr: exports.mr(), nr: exports.nr(), heap: new Float32Array(memory.buffer) };
  } catch {
    state = null;
  }
  return state;
}

/** Whether the WASM SIMD tier can run here. */
export function wasmSimdAvailable(): boolean {
  return init() !== null;
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

/**
 * C[cOff + i*ldc + j] += alpha * (A @ B)[i, j] with the WASM SIMD macro-kernel. Operands are
 * packed from any strides into linear memory; C is staged there and copied back. Returns false
 * (doing nothing) when the tier is unavailable.
 */
export function wasmSgemm(M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number): boolean {
  const s = init();
  if (!s) return false;
  const rowsPerChunk = Math.max(1, Math.floor(MAX_C / N));
  for (let r0 = 0; r0 < M; r0 += rowsPerChunk) {
    const m = Math.min(rowsPerChunk, M - r0);
    chunk(s, m, N, K, alpha, { data: A.data, off: A.off + r0 * A.rs, rs: A.rs, cs: A.cs }, B, C, cOff + r0 * ldc, ldc);
  }
  return true;
}

function chunk(s: WasmState, M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number): void {
  const { mr, nr } = s;
  const kcMax = Math.min(KC, K);
  const mcMax = Math.ceil(Math.min(MC, M) / mr) * mr;
  const ncMax = Math.ceil(Math.min(NC, N) / nr) * nr;
  // float offsets (from BASE) of scratch, packed A, packed B and C
  const fScratch = BASE / 4;
  const fA = fScratch + 64;
  const fB = fA + mcMax * kcMax;
  const fC = fB + ncMax * kcMax;
  reserve(s, (fC - fScratch + M * N) * 4);
  const heap = s.heap;
  for (let i = 0; i < M; i++) heap.set(C.subarray(cOff + i * ldc, cOff + i * ldc + N), fC + i * N);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packPanelsB(heap, fB, B, pc, jc, kc, nc, nr);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packPanelsA(heap, fA, A, ic, pc, mc, kc, alpha, mr);
        s.exports.macro(mc, nc, kc, fA * 4, fB * 4, (fC + ic * N + jc) * 4, N, fScratch * 4);
      }
    }
  }
  for (let i = 0; i < M; i++) C.set(heap.subarray(fC + i * N, fC + i * N + N), cOff + i * ldc);
}
