/**
 * Wanda (unstructured per output row, 2:4) and SparseGPT on a GPT-style decoder's MatMul weights
 * ([K, N]: an output row is a column of the stored matrix); the pruned decoders run in
 * onnxruntime-node without NaN.
 */
import { describe, expect, it } from 'vitest';
import { type Feeds, type Model, runPass } from '@whittle/graph';
import { tensor } from '@whittle/tensor';
import { buildDecoderLm, decoderFeeds } from '@whittle/testing/lm';
import { checkNMPattern } from '../src/nm.js';
import '../src/index.js';
import { values } from './helpers.js';
import * as ort from 'onnxruntime-node';
import { writeModel } from '@whittle/onnx';

const lm = buildDecoderLm({ seed: 6, layers: 2, dModel: 32, heads: 4, vocab: 64, maxPositions: 32 });
const rows = (seed: number) => [0, 1].map((r) => Array.from({ length: 16 }, (_, t) => (seed * 11 + r * 7 + t * 3) % 64));
async function* calib(): AsyncGenerator<Feeds> {
  for (const s of [1, 2]) {
    const out: Feeds = {};
    for (const [k, v] of Object.entries(decoderFeeds(lm.config, rows(s)))) out[k] = v.data instanceof BigInt64Array ? tensor(v.data, v.dims, 'int64', { backend: 'cpu' }) : tensor(v.data, v.dims, 'float32', { backend: 'cpu' });
    yield out;
  }
}
const matmulWeights = lm.model.graph.nodes.filter((n) => n.opType === 'MatMul' && lm.model.graph.initializers.has(n.inputs[1]!)).map((n) => n.inputs[1]!);

async function logits(m: Model): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(writeModel(m));
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(decoderFeeds(lm.config, rows(9)))) f[k] = new ort.Tensor(v.data instanceof BigInt64Array ? 'int64' : 'float32', v.data, v.dims);
  const out = (await s.run(f)).logits!.data as Float32Array;
  await s.release();
  return out;
}

/** Zero fraction of each output row (column n of a [K, N] weight). */
async function rowSparsity(m: Model, w: string): Promise<number[]> {
  const [K, N] = m.graph.initializers.get(w)!.shape as [number, number];
  const v = await values(m, w);
  return Array.from({ length: N }, (_, n) => {
    let z = 0;
    for (let k = 0; k < K; k++) if (v[k * N + n] === 0) z++;
    return z / K;
  });
}

describe('decoder LM MatMul weights', () => {
  it('wanda 50 %: every output row of every MatMul weight exactly half zero; runs without NaN', async () => {
    const { model } = await runPass('prune-unstructured', lm.model, { sparsity: 0.5, method: 'wanda' }, { calibration: calib() });
    expect(matmulWeights.length).toBe(12);
    for (const w of matmulWeights) for (const s of await rowSparsity(model, w)) expect(s).toBe(0.5);
    expect((await logits(model)).every(Number.isFinite)).toBe(true);
  });
  it('wanda 2:4 and sparsegpt 2:4 along the input axis (axis 0 of [K, N])', async () => {
    for (const [pass, opts] of [['prune-nm', { n: 2, m: 4, method: 'wanda' }], ['prune-sparsegpt', { n: 2, m: 4 }]] as const) {
      const { model } = await runPass(pass, lm.model, opts, { calibration: calib() });
      for (const w of matmulWeights) expect(checkNMPattern(model.graph.initializers.get(w)!, 2, 4, 0).ok).toBe(true);
      expect((await logits(model)).every(Number.isFinite)).toBe(true);
    }
  });
  it('sparsegpt 50 %: each MatMul weight half zero, tied embedding untouched', async () => {
    const { model } = await runPass('prune-sparsegpt', lm.model, { sparsity: 0.5 }, { calibration: calib() });
    for (const w of matmulWeights) {
      const v = await values(model, w);
      expect(v.filter((x) => x === 0).length / v.length).toBeCloseTo(0.5, 2);
    }
    expect(await values(model, 'transformer.wte.weight')).toEqual(await values(lm.model, 'transformer.wte.weight'));
    expect((await logits(model)).every(Number.isFinite)).toBe(true);
  });
});
