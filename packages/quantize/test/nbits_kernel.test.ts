import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { packMatMulNBits } from '../src/emit.js';
import { quantizeColumnsNBits, quantizeRowsNBits } from '../src/nbits_kernel.js';
import { nbitsBands } from '../src/nbits_bands.js';
import { setWasmNBits } from '../src/nbits_wasm.js';
import { dequantizeWeight, quantizeRtn } from '../src/weights.js';

/** B [K, N] with exact ties (multiples of half a step), zeros, a constant column and a NaN-free spread. */
function weight(K: number, N: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const w = new Float32Array(K * N);
  for (let i = 0; i < w.length; i++) w[i] = i % 5 === 0 ? Math.round(rng.uniform(-14, 14)) / 2 : rng.normal() * 0.1;
  for (let k = 0; k < K; k++) w[k * N + 1] = 0.25;
  return w;
}

/** weight() with NaN, ±Infinity, subnormals, a huge value and an all-NaN block sprinkled in. */
function special(K: number, N: number, seed: number): Float32Array {
  const w = weight(K, N, seed);
  const put = [NaN, Infinity, -Infinity, 1e-45, -3e-39, 3e38, -0];
  for (let i = 0; i < put.length; i++) w[((i * 7 + 3) % K) * N + ((i * 5) % N)] = put[i]!;
  for (let k = 0; k < 16 && k < K; k++) w[k * N + N - 1] = NaN;
  for (let k = 16; k < 32 && k < K; k++) w[k * N + N - 1] = 1e-44;
  // columns 2..4, rows 48..63 (no infinity in their group): max |x| and a value whose x / scale (4-bit symmetric) is within
  // 2e-7 of a rounding tie on the other side of it from the float32 product x * (1 / scale)
  const nearTies = [[0.5928045511245728, 0.38108864426612854], [0.7562035918235779, -0.48613089323043823], [0.14691905677318573, 0.0524710938334465]];
  for (const [j, [amax, x]] of nearTies.entries()) {
    for (let k = 48; k < 64; k++) w[k * N + 2 + j] = ((k % 3) - 1) * 0.01;
    w[48 * N + 2 + j] = amax!;
    w[49 * N + 2 + j] = x!;
  }
  return w;
}

/**
 * The float64 reference of the kernel's error sums: per canonical row n, Σ_k (canon - deq)² with
 * deq = (code - zp) * scale as dequantizeWeight gives it, k in order from 0.
 */
function rowErrorSums(canon: Float64Array, deq: Float64Array, N: number, K: number): Float64Array {
  const out = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      const d = canon[n * K + k]! - deq[n * K + k]!;
      s += d * d;
    }
    out[n] = s;
  }
  return out;
}

describe.each([['WASM SIMD', true], ['JS', false]] as const)('quantizeColumnsNBits (%s)', (_tier, wasm) => {
  for (const [bits, symmetric, K, N, bs, make] of [
    [4, true, 256, 40, 16, special],
    [4, false, 256, 40, 16, special],
    [8, false, 96, 20, 32, special],
    [2, true, 64, 20, 16, special],
    [4, true, 96, 10, 32],
    [4, false, 100, 7, 32],
    [3, true, 64, 5, 16],
    [2, false, 40, 6, 16],
    [8, true, 70, 4, 32],
    [5, false, 128, 9, 64],
    [4, true, 128, 300, 32],
    [4, false, 64, 1100, 32],
  ] as const) {
    it(`${bits}-bit ${symmetric ? 'symmetric' : 'asymmetric'} K=${K} N=${N} block ${bs}${make ? ' (NaN, Infinity, subnormals)' : ''}: bytes equal quantizeRtn + packMatMulNBits, error sums equal the float64 reference`, () => {
      const w = (make ?? weight)(K, N, bits * 10 + K);
      const prev = setWasmNBits(wasm);
      const container = bits <= 4 ? 4 : 8;
      // reference: canonical rows are B's columns, in float64
      const canon = new Float64Array(N * K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) canon[n * K + k] = w[k * N + n]!;
      const q = quantizeRtn(canon, N, K, { bits, symmetric, granularity: 'block', blockSize: bs });
      const ref = packMatMulNBits(q, container);
      const nb = Math.ceil(K / bs);
      const blob = (bs * container) / 8;
      const zpBytes = Math.ceil((nb * container) / 8);
      const scales = new Float32Array(N * nb);
      const zps = new Uint8Array(N * zpBytes);
      const B = new Uint8Array(N * nb * blob);
      const sse = new Float64Array(N).fill(-1);
      // slices of 3 columns exercise the n0 offsets
      const r = N > 100 ? 150 : N >= 16 ? 20 : 3;
      const tile = new Float32Array(r * K);
      const part = new Uint8Array(r * nb * blob);
      for (let n0 = 0; n0 < N; n0 += r) {
        const m = Math.min(r, N - n0);
        quantizeColumnsNBits(w, K, N, n0, m, { bits, symmetric, blockSize: bs, container }, tile, part, scales, zps, sse);
        B.set(part.subarray(0, m * nb * blob), n0 * nb * blob);
      }
      setWasmNBits(prev);
      expect(B).toEqual(ref.B);
      expect(zps).toEqual(ref.Z);
      expect(scales).toEqual(Float32Array.from(q.scales));
      const want = rowErrorSums(canon, dequantizeWeight(q), N, K);
      for (let n = 0; n < N; n++) expect(Object.is(sse[n], want[n]), `column ${n}: ${sse[n]} vs ${want[n]}`).toBe(true);
      // the ordinary columns are finite (the test is not NaN = NaN everywhere)
      expect(want.filter(Number.isFinite).length).toBeGreaterThan(N / 2);
    });
  }
});

describe.each([['WASM SIMD', true], ['JS', false]] as const)('nbitsBands (%s)', (_tier, wasm) => {
  it('weights of two shapes, bands of 2 blocks, ragged last block: bytes equal quantizeColumnsNBits', () => {
    const prev = setWasmNBits(wasm);
    for (const [bits, symmetric] of [[4, true], [4, false], [8, false]] as const) {
      const spec = { bits, symmetric, blockSize: 16, container: bits <= 4 ? (4 as const) : (8 as const) };
      const shapes = [[100, 40], [64, 24]] as const;
      const bands = nbitsBands(spec, shapes, 32 * 40 * 4);
      for (const [K, N] of shapes) {
        const w = special(K, N, K + N + bits);
        const nb = Math.ceil(K / 16);
        const blob = (16 * spec.container) / 8;
        const zpBytes = Math.ceil((nb * spec.container) / 8);
        const ref = { B: new Uint8Array(N * nb * blob), scales: new Float32Array(N * nb), zps: new Uint8Array(N * zpBytes) };
        quantizeColumnsNBits(w, K, N, 0, N, spec, new Float32Array(0), ref.B, ref.scales, ref.zps);
        const loads: number[] = [];
        const got = bands.quantize(K, N, (k0, rows, into) => {
          loads.push(rows);
          into.set(new Uint8Array(w.buffer, k0 * N * 4, rows * N * 4));
        });
        expect(loads).toEqual(K === 100 ? [32, 32, 32, 4] : [32, 32]);
        expect(got.B).toEqual(ref.B);
        expect(got.scales).toEqual(ref.scales);
        expect(got.zps).toEqual(ref.zps);
      }
    }
    setWasmNBits(prev);
  });
});

describe.each([['WASM SIMD', true], ['JS', false]] as const)('quantizeRowsNBits (%s)', (_tier, wasm) => {
  for (const [bits, symmetric, K, N, bs] of [[4, true, 100, 40, 16], [4, false, 96, 24, 32], [4, true, 256, 30, 64], [8, false, 70, 20, 32]] as const) {
    it(`${bits}-bit ${symmetric ? 'symmetric' : 'asymmetric'} K=${K} (NaN, Infinity, near ties): bytes equal quantizeColumnsNBits on the transpose, error sums equal the float64 reference`, () => {
      const w = special(K, N, bits + K);
      const spec = { bits, symmetric, blockSize: bs, container: bits <= 4 ? (4 as const) : (8 as const) };
      const nb = Math.ceil(K / bs);
      const blob = (bs * spec.container) / 8;
      const zpBytes = Math.ceil((nb * spec.container) / 8);
      const ref = { B: new Uint8Array(N * nb * blob), scales: new Float32Array(N * nb), zps: new Uint8Array(N * zpBytes) };
      quantizeColumnsNBits(w, K, N, 0, N, spec, new Float32Array(0), ref.B, ref.scales, ref.zps);
      const tile = new Float32Array(N * K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) tile[n * K + k] = w[k * N + n]!;
      const got = { B: new Uint8Array(N * nb * blob), scales: new Float32Array(N * nb), zps: new Uint8Array(N * zpBytes) };
      // two calls: rows 0..9 and 10..N-1 (n0 offsets)
      const part = new Uint8Array(N * nb * blob);
      const sse = new Float64Array(N).fill(-1);
      const prev = setWasmNBits(wasm);
      quantizeRowsNBits(tile.subarray(0, 10 * K), K, 0, 10, spec, part, got.scales, got.zps, sse);
      got.B.set(part.subarray(0, 10 * nb * blob));
      quantizeRowsNBits(tile.subarray(10 * K), K, 10, N - 10, spec, part, got.scales, got.zps, sse);
      got.B.set(part.subarray(0, (N - 10) * nb * blob), 10 * nb * blob);
      setWasmNBits(prev);
      expect(got.B).toEqual(ref.B);
      expect(got.scales).toEqual(ref.scales);
      expect(got.zps).toEqual(ref.zps);
      const canon = Float64Array.from(tile);
      const q = quantizeRtn(canon, N, K, { bits, symmetric, granularity: 'block', blockSize: bs });
      const want = rowErrorSums(canon, dequantizeWeight(q), N, K);
      for (let n = 0; n < N; n++) expect(Object.is(sse[n], want[n]), `row ${n}: ${sse[n]} vs ${want[n]}`).toBe(true);
      expect(want.filter(Number.isFinite).length).toBeGreaterThan(N / 2);
    });
  }
});

describe('WASM nbits module', () => {
  it('the committed bytes match a rebuild of wasm/nbits.as', () => {
    const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'build-wasm.mjs');
    expect(execFileSync(process.execPath, [script, '--check'], { encoding: 'utf8' })).toMatch(/matches/);
  });
});
