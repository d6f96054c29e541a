/**
 * `quantize-weights` quantizes block-wise 2-D weights through the MatMulNBits kernel (float32 in,
 * packed out). Everything it hands on must equal the float64 `quantizeRtn` path byte for byte:
 * codes, scales, zero points, the MatMulNBits / GatherBlockQuantized packings, the weight's MSE
 * (summed per canonical row, then over rows, in float64: {@link rowwiseReference}), and the
 * written model.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, cloneModel, runPass } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import { packMatMulNBits } from '../src/emit.js';
import { packGatherBlock } from '../src/emit_fallback.js';
import { setWasmNBits } from '../src/nbits_wasm.js';
import { prepareOpset, siteBlockSize, siteGranularity, uniqueWeights } from '../src/rtn.js';
import { kernelServes, packedMse, quantizeSiteRtn, quantizeWithKernel } from '../src/rtn_nbits.js';
import { type RtnSpec, canonical, dequantizeWeight, findModelWeightSites, quantizeRtn } from '../src/weights.js';
import { writeQuantizedWeights } from '../src/write_weights.js';
import '../src/index.js';

/**
 * The reported weight MSE, written out here: per canonical row Σ_k (a - b)² in float64, k in order
 * from 0, then the row sums added in row order, over rows * cols.
 */
function rowwiseReference(a: Float64Array, b: Float64Array, rows: number, cols: number): number {
  let s = 0;
  for (let r = 0; r < rows; r++) {
    let row = 0;
    for (let k = 0; k < cols; k++) {
      const d = a[r * cols + k]! - b[r * cols + k]!;
      row += d * d;
    }
    s += row;
  }
  return rows * cols ? s / (rows * cols) : 0;
}

/** Index of the first difference of two byte-like arrays, -1 when equal (no 1 MB vitest diffs). */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/**
 * A weight in native layout ([K, N] for rowAxis 1, [N, K] for rowAxis 0) with, per canonical row
 * (length K, blocks of `bs`): exact rounding ties (multiples of half a step of a block whose
 * maximum is ±7), an all-zero block, a block of large finite values (±1e38), subnormals, a block
 * holding one NaN, a constant block, and a normal spread elsewhere.
 */
function edgeWeight(K: number, N: number, bs: number, rowAxis: 0 | 1, seed: number): Float32Array {
  const rng = new Rng(seed);
  const w = new Float32Array(K * N);
  const at = (n: number, k: number): number => (rowAxis === 0 ? n * K + k : k * N + n);
  const nb = Math.ceil(K / bs);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = Math.floor(k / bs);
      const kind = (n + b) % 7;
      let v: number;
      if (kind === 0) v = k % bs === 0 ? (n % 2 ? -7 : 7) : Math.round(rng.uniform(-14, 14)) / 2;
      else if (kind === 1) v = 0;
      else if (kind === 2) v = k % 3 === 0 ? (n % 2 ? 1e38 : -1e38) : rng.normal() * 1e37;
      else if (kind === 3) v = k % 2 ? 1e-45 * (1 + (k % 5)) : -3e-39;
      else if (kind === 4) v = k % bs === 1 && b === nb - 1 && n % 3 === 0 ? NaN : rng.normal() * 0.05;
      else if (kind === 5) v = 0.25;
      else v = rng.normal() * (n % 2 ? 0.01 : 3) + (n % 4 === 3 ? 2 : 0);
      w[at(n, k)] = v;
    }
  }
  return w;
}

const CASES: [bits: number, symmetric: boolean, K: number, N: number, bs: number][] = [
  [4, true, 96, 40, 32],
  [4, false, 100, 37, 16],
  [3, true, 64, 20, 16],
  [2, false, 50, 9, 16],
  [8, true, 70, 24, 32],
  [8, false, 128, 33, 64],
  [5, false, 80, 16, 32],
  [4, true, 256, 130, 128],
  [4, false, 256, 72, 64],
];

describe.each([['WASM SIMD', true], ['JS', false]] as const)('quantizeWithKernel (%s) equals quantizeRtn', (_tier, wasm) => {
  for (const rowAxis of [1, 0] as const) {
    for (const [bits, symmetric, K, N, bs] of CASES) {
      it(`${bits}-bit ${symmetric ? 'symmetric' : 'asymmetric'} K=${K} N=${N} block ${bs}, native ${rowAxis ? '[K, N]' : '[N, K]'}: codes, scales, zero points, packings and MSE`, () => {
        const site = { rowAxis, rows: N, cols: K, shape: rowAxis ? [K, N] : [N, K] };
        const spec: RtnSpec = { bits, symmetric, granularity: 'block', blockSize: bs };
        const w = edgeWeight(K, N, bs, rowAxis, bits * 100 + K + N);
        expect(kernelServes(site, spec)).toBe(true);
        const canon = canonical(site, w);
        const ref = quantizeRtn(canon, N, K, spec);
        const prev = setWasmNBits(wasm);
        const q = quantizeWithKernel(site, w, spec);
        const viaSite = quantizeSiteRtn(site, w, spec, true);
        setWasmNBits(prev);
        const container = bits <= 4 ? 4 : 8;
        const refPack = packMatMulNBits(ref, container);
        const pack = packMatMulNBits(q, container);
        expect(pack.B).toBe(q.packed!.B);
        expect(firstDiff(pack.B, refPack.B)).toBe(-1);
        expect(firstDiff(pack.Z, refPack.Z)).toBe(-1);
        expect(firstDiff(q.scales, ref.scales)).toBe(-1);
        expect(firstDiff(q.zeroPoints, ref.zeroPoints)).toBe(-1);
        expect(firstDiff(q.codes, ref.codes)).toBe(-1);
        if (bits <= 4) {
          const g = packGatherBlock(q);
          const gRef = packGatherBlock(ref);
          expect(firstDiff(g.data, gRef.data)).toBe(-1);
          expect(firstDiff(g.zeroPoints, gRef.zeroPoints)).toBe(-1);
        }
        // the kernel computes the errors while quantizing (this tier), packedMse from the packed output
        expect(firstDiff(viaSite.q.packed!.B, q.packed!.B)).toBe(-1);
        const want = rowwiseReference(canon, dequantizeWeight(ref), N, K);
        expect(Object.is(packedMse(site, w, q), want)).toBe(true);
        expect(Object.is(viaSite.mse, want)).toBe(true);
        // again without the NaN (one NaN makes the MSE NaN, and NaN is NaN in any order)
        const clean = w.map((v) => (Number.isNaN(v) ? 0.5 : v));
        const cleanCanon = canonical(site, clean);
        const cleanWant = rowwiseReference(cleanCanon, dequantizeWeight(quantizeRtn(cleanCanon, N, K, spec)), N, K);
        setWasmNBits(wasm);
        const cleanSite = quantizeSiteRtn(site, clean, spec, true);
        setWasmNBits(prev);
        expect(Number.isFinite(cleanWant)).toBe(true);
        expect(Object.is(cleanSite.mse, cleanWant)).toBe(true);
        expect(Object.is(packedMse(site, clean, cleanSite.q), cleanWant)).toBe(true);
      });
    }
  }

  it('the float64 path keeps what the kernel cannot serve: per-channel / per-tensor scales, block sizes not a power of two', () => {
    const site = { rowAxis: 1 as const, rows: 12, cols: 48, shape: [48, 12] };
    const w = edgeWeight(48, 12, 16, 1, 7);
    for (const spec of [
      { bits: 4, symmetric: true, granularity: 'per-channel', blockSize: 0 },
      { bits: 8, symmetric: false, granularity: 'per-tensor', blockSize: 0 },
      { bits: 4, symmetric: true, granularity: 'block', blockSize: 24 },
    ] as RtnSpec[]) {
      expect(kernelServes(site, spec)).toBe(false);
      const { q, mse: e } = quantizeSiteRtn(site, w, spec, true);
      const ref = quantizeRtn(canonical(site, w), 12, 48, spec);
      expect(q.packed).toBeUndefined();
      expect(firstDiff(q.codes, ref.codes)).toBe(-1);
      expect(Object.is(e, rowwiseReference(canonical(site, w), dequantizeWeight(ref), 12, 48))).toBe(true);
    }
  });
});

/** MatMul [K, N] (ragged last block), Gemm transB=1 [N, K], Gemm [K, N] and a Gather table [V, D], all with edge values. */
function edgeModel(seed: number): Model {
  const b = new GraphBuilder('edges');
  const t = (w: Float32Array, shape: number[]): ReturnType<typeof tensor> => tensor(w, shape, 'float32', { backend: 'cpu' });
  const x = b.input('x', 'float32', ['N', 100]);
  const ids = b.input('ids', 'int64', ['N']);
  let h = b.node('MatMul', [x, b.initializer('w1', t(edgeWeight(100, 64, 32, 1, seed), [100, 64]))], {}, { name: 'mm1' });
  const emb = b.node('Gather', [b.initializer('emb', t(edgeWeight(64, 50, 32, 0, seed + 1), [50, 64])), ids], { axis: 0 }, { name: 'embed' });
  h = b.node('Add', [h, emb], {}, { name: 'add_emb' });
  h = b.node('Gemm', [h, b.initializer('w2', t(edgeWeight(64, 48, 32, 0, seed + 2), [48, 64])), b.initializer('b2', t(new Float32Array(48).fill(0.1), [48]))], { transB: 1 }, { name: 'gemm2' });
  h = b.node('Gemm', [h, b.initializer('w3', t(edgeWeight(48, 10, 32, 1, seed + 3), [48, 10]))], {}, { name: 'gemm3' });
  b.output(h, 'float32', ['N', 10]);
  return b.model([{ domain: '', version: 17 }]);
}

/** The pass's former path: every weight through quantizeRtn on its canonical float64 copy. */
async function float64Path(model: Model, o: { bits: number; symmetric: boolean; blockSize: number; format: 'qdq' | 'matmulnbits' }): Promise<{ bytes: Uint8Array; mse: Record<string, number> }> {
  const out = prepareOpset(cloneModel(model), o.bits, 'block', o.format).model;
  const entries = [];
  const errors: Record<string, number> = {};
  for (const group of uniqueWeights(findModelWeightSites(out, ['MatMul', 'Gemm', 'Gather']))) {
    const site = group[0]!;
    const w = canonical(site, (await site.tensor.data()) as Float32Array);
    const q = quantizeRtn(w, site.rows, site.cols, { bits: o.bits, symmetric: o.symmetric, granularity: siteGranularity(site, 'block'), blockSize: siteBlockSize(site, o.blockSize) });
    errors[site.name] = rowwiseReference(w, dequantizeWeight(q), site.rows, site.cols);
    for (const s of group) entries.push({ site: s, q });
  }
  await writeQuantizedWeights(out, entries, o.format);
  return { bytes: writeModel(out), mse: errors };
}

describe('quantize-weights through the kernel', () => {
  for (const format of ['matmulnbits', 'qdq'] as const) {
    for (const [bits, symmetric, blockSize] of [[4, true, 32], [4, false, 16], [8, false, 32], [3, true, 16]] as const) {
      it(`${format} ${bits}-bit ${symmetric ? 'symmetric' : 'asymmetric'} block ${blockSize}: the model equals the float64 path byte for byte, same weight MSEs`, async () => {
        const model = edgeModel(bits * 10 + blockSize);
        const o = { bits, symmetric, blockSize, format, ops: ['MatMul', 'Gemm', 'Gather'] };
        const r = await runPass('quantize-weights', model, o);
        const ref = await float64Path(model, o);
        expect(firstDiff(writeModel(r.model), ref.bytes)).toBe(-1);
        const layers = (r.report.details as { layers: { weight: string; weightMse: number; emitted: string }[] }).layers;
        expect(layers.length).toBe(4);
        if (format === 'matmulnbits') expect(new Set(layers.map((l) => l.emitted))).toEqual(new Set(bits <= 4 ? ['MatMulNBits', 'GatherBlockQuantized'] : ['MatMulNBits', 'DequantizeLinear']));
        for (const l of layers) expect(Object.is(l.weightMse, ref.mse[l.weight])).toBe(true);
      });
    }
  }
});
