import { wasmSgemm } from '../../wasm/sgemm_wasm.js';
import { packPanelsA, packPanelsB } from './sgemm_pack.js';

/** A strided 2-D float32 matrix view: element (i, j) is `data[off + i*rs + j*cs]`. */
export interface MatView {
  readonly data: Float32Array;
  readonly off: number;
  /** Stride between rows. */
  readonly rs: number;
  /** Stride between columns. */
  readonly cs: number;
}

// Blocking for the JS tier: MR×NR register tile, KC×NC packed B block, MC×KC packed A block.
const MR = 4;
const NR = 4;
const KC = 256;
const MC = 64;
const NC = 1024;

let packA = new Float32Array(0);
let packB = new Float32Array(0);

/** Problems below this many multiply-adds use the simple strided loop. */
const SMALL = 32 * 32 * 32;
/** Problems from this many multiply-adds use the WASM SIMD tier when it is available. */
export const WASM_THRESHOLD = 48 * 48 * 48;

/** Which tier `sgemm` picks for a problem size (exposed for tests and the benchmark). */
export type SgemmTier = 'small' | 'js' | 'wasm';

let forcedTier: SgemmTier | null = null;

/** Force one tier (tests and benchmarks); `null` restores automatic selection. */
export function forceSgemmTier(tier: SgemmTier | null): void {
  forcedTier = tier;
}

/**
 * C[cOff + i*ldc + j] = C[cOff + i*ldc + j]! + alpha * sum_k A(i,k) * B(k,j) for an M×K view A and a K×N view B (any
 * strides). Picks the WASM SIMD tier for large problems when available, else blocked JS.
 * `cZero` promises that C's M×N block is all zeros (the WASM tier then skips copying it in).
 */
export function sgemm(M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number, cZero = false): void {
  if (M === 0 || N === 0 || K === 0) return;
  const work = M * N * K;
  const tier = forcedTier ?? (work < SMALL ? 'small' : work >= WASM_THRESHOLD ? 'wasm' : 'js');
  if (tier === 'wasm' && wasmSgemm(M, N, K, alpha, A, B, C, cOff, ldc, cZero)) return;
  if (tier === 'small') sgemmSmall(M, N, K, alpha, A, B, C, cOff, ldc);
  else sgemmBlocked(M, N, K, alpha, A, B, C, cOff, ldc);
}

/** Straightforward strided triple loop (float64 accumulation). */
export function sgemmSmall(M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number): void {
  const a = A.data;
  const b = B.data;
  for (let i = 0; i < M; i++) {
    const ai = A.off + i * A.rs;
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0, pa = ai, pb = B.off + j * B.cs; k < K; k++, pa += A.cs, pb += B.rs) s += a[pa]! * b[pb]!;
      C[cOff + i * ldc + j] = C[cOff + i * ldc + j]! + alpha * s;
    }
  }
}

/** Cache-blocked JS sgemm with packed panels and a 4×4 register tile. */
export function sgemmBlocked(M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number): void {
  const ncMax = Math.ceil(Math.min(NC, N) / NR) * NR;
  const kcMax = Math.min(KC, K);
  const mcMax = Math.ceil(Math.min(MC, M) / MR) * MR;
  if (packA.length < mcMax * kcMax) packA = new Float32Array(mcMax * kcMax);
  if (packB.length < ncMax * kcMax) packB = new Float32Array(ncMax * kcMax);
  const pa = packA;
  const pb = packB;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = Math.min(KC, K - pc);
      packPanelsB(pb, 0, B, pc, jc, kc, nc, NR);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        packPanelsA(pa, 0, A, ic, pc, mc, kc, alpha, MR);
        for (let jr = 0; jr < nc; jr += NR) {
          const bo = (jr / NR) * kc * NR;
          for (let ir = 0; ir < mc; ir += MR) {
            micro4x4(pa, (ir / MR) * kc * MR, pb, bo, kc, C, cOff + (ic + ir) * ldc + jc + jr, ldc, Math.min(MR, mc - ir), Math.min(NR, nc - jr));
          }
        }
      }
    }
  }
}

function micro4x4(a: Float32Array, ao: number, b: Float32Array, bo: number, kc: number, C: Float32Array, co: number, ldc: number, rows: number, cols: number): void {
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let k = 0; k < kc; k++, ao += 4, bo += 4) {
    const a0 = a[ao]!, a1 = a[ao + 1]!, a2 = a[ao + 2]!, a3 = a[ao + 3]!;
    const b0 = b[bo]!, b1 = b[bo + 1]!, b2 = b[bo + 2]!, b3 = b[bo + 3]!;
    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    C[co] = C[co]! + c00; C[co + 1] = C[co + 1]! + c01; C[co + 2] = C[co + 2]! + c02; C[co + 3] = C[co + 3]! + c03; co += ldc;
    C[co] = C[co]! + c10; C[co + 1] = C[co + 1]! + c11; C[co + 2] = C[co + 2]! + c12; C[co + 3] = C[co + 3]! + c13; co += ldc;
    C[co] = C[co]! + c20; C[co + 1] = C[co + 1]! + c21; C[co + 2] = C[co + 2]! + c22; C[co + 3] = C[co + 3]! + c23; co += ldc;
    C[co] = C[co]! + c30; C[co + 1] = C[co + 1]! + c31; C[co + 2] = C[co + 2]! + c32; C[co + 3] = C[co + 3]! + c33;
    return;
  }
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) C[co + i * ldc + j] = C[co + i * ldc + j]! + t[i * 4 + j]!;
}
