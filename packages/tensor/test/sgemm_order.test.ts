import { afterEach, describe, expect, it } from 'vitest';
import { type MatView, forceSgemmTier, sgemm } from '../src/backends/cpu/sgemm.js';
import { forceWasmSgemmVariant, setWasmBlocking, wasmSgemmVariant } from '../src/wasm/sgemm_wasm.js';

// The plain-SIMD WASM tier is what reproducible training pins, so its exact float32 results are
// part of every trained model's bytes. Whatever the register tile, packing or loop order, each
// C element must get: per K block of KC, acc = +0 then acc = acc + alpha*a(i,k) * b(k,j) for k in
// order, each product and sum rounded to float32; then C = C + acc (C = acc for the first block
// of a zero-promised C). This checks the tier bit for bit against that recipe written in scalars.
const KC = 256;

function lcg(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function reference(M: number, N: number, K: number, alpha: number, A: MatView, B: MatView, C: Float32Array, cOff: number, ldc: number, cZero: boolean): void {
  const f = Math.fround;
  const al = f(alpha);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let c = C[cOff + i * ldc + j]!;
      for (let pc = 0; pc < K; pc += KC) {
        let acc = 0;
        for (let k = pc; k < Math.min(K, pc + KC); k++) {
          const a = f(al * A.data[A.off + i * A.rs + k * A.cs]!);
          acc = f(acc + f(a * B.data[B.off + k * B.rs + j * B.cs]!));
        }
        c = cZero && pc === 0 ? acc : f(c + acc);
      }
      C[cOff + i * ldc + j] = c;
    }
  }
}

describe('WASM sgemm (plain SIMD) accumulation order', () => {
  afterEach(() => {
    forceSgemmTier(null);
    forceWasmSgemmVariant(null);
    setWasmBlocking(null);
  });

  it('matches the scalar recipe bit for bit on edge shapes, strides, alpha and accumulation', () => {
    forceSgemmTier('wasm');
    forceWasmSgemmVariant('simd');
    expect(wasmSgemmVariant()).toBe('simd');
    // [M, K, N]: single element; M % MR tails of 1..4 rows; N % NR tails; K across KC blocks with
    // a short last block; M across the MC blocking; N across the NC blocking (1024)
    const shapes: [number, number, number][] = [[1, 1, 1], [7, 300, 13], [64, 40, 9], [61, 513, 17], [124, 257, 24], [9, 260, 1030]];
    let seed = 1;
    for (const [M, K, N] of shapes) {
      for (const [transA, transB, alpha, cZero] of [[false, false, 1, true], [true, false, 0.75, false], [false, true, 1.5, true], [true, true, 1, false]] as [boolean, boolean, number, boolean][]) {
        const a = lcg(M * K, seed++);
        const b = lcg(K * N, seed++);
        const A: MatView = { data: a, off: 0, rs: transA ? 1 : K, cs: transA ? M : 1 };
        const B: MatView = { data: b, off: 0, rs: transB ? 1 : N, cs: transB ? K : 1 };
        // C inside a wider buffer (ldc > N, offset) so stores outside the M×N block would show
        const ldc = N + 3;
        const c0 = cZero ? new Float32Array(2 + M * ldc) : lcg(2 + M * ldc, seed++);
        const got = c0.slice();
        const want = c0.slice();
        sgemm(M, N, K, alpha, A, B, got, 2, ldc, cZero);
        reference(M, N, K, alpha, A, B, want, 2, ldc, cZero);
        const g = new Uint32Array(got.buffer);
        const w = new Uint32Array(want.buffer);
        let bad = 0;
        for (let i = 0; i < w.length; i++) if (g[i] !== w[i]) bad++;
        expect(bad, `${M}x${K}x${N} transA=${transA} transB=${transB} alpha=${alpha} cZero=${cZero}`).toBe(0);
      }
    }
  });
});
