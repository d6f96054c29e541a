import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { sparseGptPrune } from '../src/sparsegpt.js';
import { pruneSparseGpt } from '../src/sparsegpt_pass.js';
import { checkNMPattern } from '../src/nm.js';
import '../src/index.js';
import { Rng, calibration, diff, randn, runOrt, t, values, zeroFraction } from './helpers.js';

/** Rows of correlated inputs (x_j mixes x_{j-1}) with a few loud features, as LLM activations have. */
function inputs(rng: Rng, rows: number, k: number): Float32Array {
  const x = randn(rng, rows * k);
  for (let r = 0; r < rows; r++) {
    for (let j = 1; j < k; j++) x[r * k + j] = 0.6 * x[r * k + j]! + 0.8 * x[r * k + j - 1]!;
    for (let j = 0; j < k; j += 16) x[r * k + j] = x[r * k + j]! * 6;
  }
  return x;
}

/** ‖(W − Ŵ) Xᵀ‖² for canonical W [rows, k] and X [n, k]. */
function outputError(w: ArrayLike<number>, wh: ArrayLike<number>, x: Float32Array, rows: number, k: number): number {
  let e = 0;
  for (let m = 0; m < x.length / k; m++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += (w[r * k + c]! - wh[r * k + c]!) * x[m * k + c]!;
      e += s * s;
    }
  }
  return e;
}

function gram(x: Float32Array, k: number): Float64Array {
  const g = new Float64Array(k * k);
  for (let m = 0; m < x.length / k; m++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) g[i * k + j] = g[i * k + j]! + x[m * k + i]! * x[m * k + j]!;
  return g;
}

/** Keep the largest scores of each row (fraction `keep`), zero the rest. */
function rowPrune(w: Float64Array, score: (r: number, c: number) => number, rows: number, k: number, keep: number): Float64Array {
  const out = Float64Array.from(w);
  for (let r = 0; r < rows; r++) {
    const idx = Array.from({ length: k }, (_, c) => c).sort((a, b) => score(r, a) - score(r, b));
    for (let j = 0; j < Math.round(k * (1 - keep)); j++) out[r * k + idx[j]!] = 0;
  }
  return out;
}

describe('sparseGptPrune', () => {
  const rng = new Rng(7);
  const rows = 24;
  const k = 64;
  const w = Float64Array.from(randn(rng, rows * k, 0.2));
  const x = inputs(rng, 256, k);
  const g = gram(x, k);
  const norms = Array.from({ length: k }, (_, c) => Math.sqrt(g[c * k + c]!));
  const magnitude = rowPrune(w, (r, c) => Math.abs(w[r * k + c]!), rows, k, 0.5);
  const wanda = rowPrune(w, (r, c) => Math.abs(w[r * k + c]!) * norms[c]!, rows, k, 0.5);

  it('50 % unstructured: exact sparsity, output error below Wanda and magnitude', () => {
    const r = sparseGptPrune(w, rows, k, g, { sparsity: 0.5, n: 0, m: 4, blockSize: 32, damping: 0.01 });
    expect(zeroFraction(Float32Array.from(r.w))).toBeCloseTo(0.5, 2);
    for (let i = 0; i < r.w.length; i++) if (!r.mask[i]) expect(r.w[i]).toBe(0);
    const [es, ew, em] = [outputError(w, r.w, x, rows, k), outputError(w, wanda, x, rows, k), outputError(w, magnitude, x, rows, k)];
    expect(es).toBeLessThan(ew);
    expect(ew).toBeLessThan(em);
  });

  it('2:4: every group of 4 inputs of a row keeps at most 2, error below magnitude 2:4', () => {
    const r = sparseGptPrune(w, rows, k, g, { sparsity: 0, n: 2, m: 4, blockSize: 32, damping: 0.01 });
    for (let row = 0; row < rows; row++) for (let c = 0; c < k; c += 4) expect([0, 1, 2, 3].filter((j) => r.w[row * k + c + j] !== 0).length).toBeLessThanOrEqual(2);
    const mag = Float64Array.from(w);
    for (let row = 0; row < rows; row++) {
      for (let c = 0; c < k; c += 4) {
        const idx = [0, 1, 2, 3].sort((a, b) => Math.abs(w[row * k + c + a]!) - Math.abs(w[row * k + c + b]!));
        mag[row * k + c + idx[0]!] = 0;
        mag[row * k + c + idx[1]!] = 0;
      }
    }
    expect(outputError(w, r.w, x, rows, k)).toBeLessThan(0.7 * outputError(w, mag, x, rows, k));
  });

  it('refuses n:m that does not divide the inputs', () => {
    expect(() => sparseGptPrune(w, rows, k, g, { sparsity: 0, n: 2, m: 3, blockSize: 32, damping: 0.01 })).toThrow(/multiple of m/);
  });
});

/** x [N, 64] → MatMul 64→48 → Relu → Gemm(transB) 48→16. */
function mlp(rng: Rng): Model {
  const b = new GraphBuilder('mlp');
  const x = b.input('x', 'float32', ['N', 64]);
  let h = b.node('MatMul', [x, b.initializer('w1', t(randn(rng, 64 * 48, 0.15), [64, 48]))], {}, { name: 'mm1' });
  h = b.node('Relu', [h], {}, { name: 'relu' });
  h = b.node('Gemm', [h, b.initializer('w2', t(randn(rng, 16 * 48, 0.2), [16, 48])), b.initializer('b2', t(randn(rng, 16, 0.1), [16]))], { transB: 1 }, { name: 'fc2' });
  b.output(h, 'float32', ['N', 16]);
  return b.model([{ domain: '', version: 17 }]);
}

describe('prune-sparsegpt', () => {
  const rng = new Rng(3);
  const model = mlp(rng);
  const batches = [0, 1, 2].map(() => ({ data: inputs(rng, 64, 64), shape: [64, 64] }));
  const test = { x: { data: inputs(rng, 32, 64), shape: [32, 64] } };

  it('50 %: MatMul and Gemm weights half zero; onnxruntime output closer to dense than magnitude', async () => {
    const { model: out, report } = await runPass(pruneSparseGpt, model, { sparsity: 0.5, blockSize: 16 }, { calibration: calibration('x', batches) });
    for (const w of ['w1', 'w2']) expect(zeroFraction(await values(out, w))).toBeCloseTo(0.5, 2);
    expect(report.details!.sequential).toBe(true);
    const mag = (await runPass('prune-unstructured', model, { sparsity: 0.5 })).model;
    const ref = (await runOrt(model, test)).outputs;
    const key = Object.keys(ref)[0]!;
    const eS = diff((await runOrt(out, test)).outputs[key]!, ref[key]!).rel;
    const eM = diff((await runOrt(mag, test)).outputs[key]!, ref[key]!).rel;
    expect(eS).toBeLessThan(eM);
  });

  it('2:4 along the input axis of each weight; one-shot mode too', async () => {
    for (const sequential of [true, false]) {
      const { model: out } = await runPass(pruneSparseGpt, model, { n: 2, m: 4, sequential }, { calibration: calibration('x', batches) });
      expect(checkNMPattern(out.graph.initializers.get('w1')!, 2, 4, 0).ok).toBe(true);
      expect(checkNMPattern(out.graph.initializers.get('w2')!, 2, 4, 1).ok).toBe(true);
    }
  });

  it('needs calibration data', async () => {
    await expect(runPass(pruneSparseGpt, model, {})).rejects.toThrow(/calibration/);
  });
});
