import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { matmul, gemm, tensor, transpose, sliceView } from '@whittle/tensor/node';
import { expectClose, randomData } from '@whittle/testing';
import { forceSgemmTier, type SgemmTier } from '../src/backends/cpu/sgemm.js';
import { forceWasmSgemmVariant, setWasmBlocking, wasmSgemmVariant, wasmSimdAvailable, type WasmSgemmVariant } from '../src/wasm/sgemm_wasm.js';
import { SGEMM_RELAXED_WASM_BASE64, SGEMM_WASM_BASE64 } from '../src/wasm/sgemm_bytes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** float64 reference of opA(a) @ opB(b) for row-major stored a [ra, ca], b [rb, cb]. */
function ref(a: Float64Array, b: Float64Array, M: number, N: number, K: number, transA: boolean, transB: boolean): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[transA ? k * M + i : i * K + k]! * b[transB ? j * K + k : k * N + j]!;
      out[i * N + j] = s;
    }
  return out;
}

describe('cpu sgemm tiers (JS blocked, WASM SIMD)', () => {
  afterEach(() => {
    forceSgemmTier(null);
    setWasmBlocking(null);
    forceWasmSgemmVariant(null);
  });

  it('the committed module validates (Node 20 has WebAssembly SIMD) and exposes its register tile', () => {
    const bytes = Buffer.from(SGEMM_WASM_BASE64, 'base64');
    expect(WebAssembly.validate(bytes)).toBe(true);
    const names = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['macro', 'mr', 'nr']));
    expect(wasmSimdAvailable()).toBe(true);
  });

  it('the relaxed-SIMD build uses fused multiply-add, validates under @whittle/tensor/node and is chosen by default', () => {
    const bytes = Buffer.from(SGEMM_RELAXED_WASM_BASE64, 'base64');
    expect(WebAssembly.validate(bytes)).toBe(true); // the node entry enabled relaxed SIMD on Node 20
    // f32x4.relaxed_madd is opcode 0xfd 0x85 0x02 (LEB128 261); the plain build has none
    const has = (b: Uint8Array): boolean => b.some((x, i) => x === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02);
    expect(has(bytes)).toBe(true);
    expect(has(Buffer.from(SGEMM_WASM_BASE64, 'base64'))).toBe(false);
    expect(wasmSgemmVariant()).toBe('relaxed-simd');
    forceWasmSgemmVariant('simd');
    expect(wasmSgemmVariant()).toBe('simd');
  });

  it('the committed module matches a rebuild of sgemm.as', () => {
    const out = execFileSync(process.execPath, [join(root, 'scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8' });
    expect(out).toMatch(/matches/);
    expect(readFileSync(join(root, 'src/wasm/sgemm.as'), 'utf8')).toMatch(/f32x4\.mul/);
  });

  const tiers: [SgemmTier, WasmSgemmVariant | null][] = [['small', null], ['js', null], ['wasm', 'simd'], ['wasm', 'relaxed-simd']];
  for (const [tier, variant] of tiers) {
    it(`${tier}${variant ? ` (${variant})` : ''} tier agrees with float64 on odd sizes, transposes and edge blocks`, async () => {
      forceSgemmTier(tier);
      if (variant) {
        forceWasmSgemmVariant(variant);
        expect(wasmSgemmVariant()).toBe(variant);
      }
      // tiny blocks: K, M and N blocking edges, partial panels inside blocks, C row chunks
      if (tier === 'wasm') setWasmBlocking({ kc: 7, mc: 10, nc: 12, maxC: 50 });
      const shapes: [number, number, number][] = [[1, 1, 1], [5, 3, 9], [13, 17, 11], [37, 29, 45]];
      for (const [M, K, N] of shapes) {
        for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as [boolean, boolean][]) {
          const a = randomData(M * K, M * 7 + K);
          const b = randomData(K * N, N * 5 + K);
          const at = tensor(Array.from(a), ta ? [K, M] : [M, K]);
          const bt = tensor(Array.from(b), tb ? [N, K] : [K, N]);
          await expectClose(matmul(at, bt, { transA: ta, transB: tb }), ref(a, b, M, N, K, ta, tb), [M, N]);
        }
        // sparse views (every 4th row of a taller matrix): the WASM tier gathers instead of copying the span
        const tall = randomData(4 * M * K, M + 99);
        const rows = new Float64Array(M * K);
        for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) rows[i * K + k] = tall[4 * i * K + k]!;
        const b = randomData(K * N, N + 98);
        const view = sliceView(tensor(Array.from(tall), [4 * M, K]), [0, 0], [4 * M, K], [4, 1]);
        await expectClose(matmul(view, tensor(Array.from(b), [K, N])), ref(rows, b, M, N, K, false, false), [M, N]);
      }
    });
  }

  it('wasm tier: default blocking on a product spanning K blocks, with gemm accumulation and views', async () => {
    forceSgemmTier('wasm');
    const [M, K, N] = [67, 300, 45];
    const a = randomData(K * M, 3);
    const b = randomData(K * N, 4);
    const c = randomData(N, 5);
    const expect64 = ref(a, b, M, N, K, true, false);
    for (let i = 0; i < M * N; i++) expect64[i] = 2 * expect64[i]! + 0.5 * c[i % N]!;
    const y = gemm(transpose(tensor(Array.from(a), [K, M])), tensor(Array.from(b), [K, N]), tensor(Array.from(c), [N]), { alpha: 2, beta: 0.5 });
    await expectClose(y, expect64, [M, N], 1e-4, 1e-4);
  });
});
