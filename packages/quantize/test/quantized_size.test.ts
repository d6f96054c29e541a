/**
 * Parameter counts and sparsity of quantized models (@whittle/eval's measureSize): a pruned float
 * model and each of its quantized forms (MatMulNBits 4- and 2-bit, symmetric and with zero points,
 * GatherBlockQuantized, block-wise DequantizeLinear, bnb4, dynamic int8) report the same number of
 * parameters, and as many zero weights as the dequantized weights onnxruntime computes hold —
 * read back by running the model on an identity matrix and on every token id.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, runPass } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { measureSize } from '@whittle/eval';
import { Rng, tensor } from '@whittle/tensor';
import { quantizeWeightsPass } from '../src/rtn.js';
import { quantizeBnb4Pass } from '../src/bnb4.js';
import { quantizeDynamicPass } from '../src/dynamic.js';
import { clusterWeightsPass } from '../src/cluster_pass.js';
import { materializeComputedWeights } from '@whittle/eval/node';
import { ortRun, randomArray } from './helpers.js';

const K = 96;
const N = 40;
const V = 50;
const D = 64;

/** A MatMul weight [K, N] and an embedding table [V, D], half of each set to zero. */
function prunedModel(): Model {
  const rng = new Rng(11);
  const prune = (a: Float32Array): Float32Array => a.map((v) => (rng.uniform() < 0.5 ? 0 : v));
  const w = prune(randomArray(K * N, rng, 0.1));
  const e = prune(randomArray(V * D, rng, 0.5));
  const b = new GraphBuilder('pruned');
  b.output(b.node('MatMul', [b.input('x', 'float32', ['B', K]), b.initializer('w', tensor(w, [K, N], 'float32', { backend: 'cpu' }))], {}, { name: 'mm', outputNames: ['y'] }), 'float32', ['B', N]);
  b.output(b.node('Gather', [b.initializer('table', tensor(e, [V, D], 'float32', { backend: 'cpu' })), b.input('ids', 'int64', ['T'])], {}, { name: 'embed', outputNames: ['e'] }), 'float32', ['T', D]);
  return b.model([{ domain: '', version: 21 }]);
}

/** Zero weights of the model as onnxruntime dequantizes them: x = I_K gives W, ids 0..V-1 the table. */
async function zerosInOrt(m: Model): Promise<number> {
  const eye = new Float32Array(K * K);
  for (let i = 0; i < K; i++) eye[i * K + i] = 1;
  const ids = BigInt64Array.from({ length: V }, (_, i) => BigInt(i));
  // unoptimized: fused DequantizeLinear → MatMul kernels fold the zero point into an offset (±1.5e-8, not 0)
  const out = await ortRun(m, { x: { data: eye, dims: [K, K] }, ids: { data: ids, dims: [V] } }, { graphOptimizationLevel: 'disabled' });
  expect(out.y!.length).toBe(K * N);
  expect(out.e!.length).toBe(V * D);
  return [...out.y!, ...out.e!].filter((v) => v === 0).length;
}

describe('measureSize on quantized models: parameters and zero weights', () => {
  it('every quantized form reports the float model’s parameters and the zeros onnxruntime’s dequantized weights hold', async () => {
    const float = prunedModel();
    const base = measureSize(writeModel(float));
    expect(base.parameters).toBe(K * N + V * D);
    expect(base.zeroWeights).toBe(await zerosInOrt(float));
    expect(base.sparsity).toBeGreaterThan(0.45);

    const variants: [string, Model][] = [
      ['matmulnbits 4-bit symmetric', (await runPass(quantizeWeightsPass, float, { format: 'matmulnbits', bits: 4, blockSize: 32 })).model],
      ['matmulnbits 4-bit with zero points', (await runPass(quantizeWeightsPass, float, { format: 'matmulnbits', bits: 4, blockSize: 32, symmetric: false })).model],
      ['matmulnbits 2-bit with zero points', (await runPass(quantizeWeightsPass, float, { format: 'matmulnbits', bits: 2, blockSize: 32, symmetric: false })).model],
      ['qdq 4-bit blocks with zero points', (await runPass(quantizeWeightsPass, float, { format: 'qdq', bits: 4, blockSize: 32, symmetric: false })).model],
      ['qdq 8-bit per channel', (await runPass(quantizeWeightsPass, float, { format: 'qdq', bits: 8, granularity: 'per-channel' })).model],
      ['bnb4 nf4', (await runPass(quantizeBnb4Pass, float, { blockSize: 64 })).model],
      ['dynamic uint8', (await runPass(quantizeDynamicPass, float, { weightType: 'uint8' })).model],
    ];
    const ops = new Set<string>();
    for (const [name, m] of variants) {
      m.graph.nodes.forEach((n) => ops.add(n.opType));
      const s = measureSize(writeModel(m));
      expect(s.parameters, name).toBe(base.parameters);
      const zeros = await zerosInOrt(m);
      // pruned weights stay zero once quantized (rounding may add more)
      expect(zeros, name).toBeGreaterThanOrEqual(base.zeroWeights);
      expect(s.zeroWeights, name).toBe(zeros);
    }
    // the forms the counts were checked on
    for (const op of ['MatMulNBits', 'GatherBlockQuantized', 'DequantizeLinear', 'MatMulBnb4', 'MatMulInteger']) expect(ops, op).toContain(op);
  });

  it('weights the graph decodes from constants (clustered, sparse and packed-index storage) count as decoded: the float model’s parameters, its zeros', async () => {
    const float = prunedModel();
    for (const storage of ['sparse', 'indices'] as const) {
      const r = (await runPass(clusterWeightsPass, float, { clusters: 16, storage, ops: ['MatMul'] })).model;
      expect(r.graph.initializers.has('w'), storage).toBe(false);
      const weights = await materializeComputedWeights(r);
      expect(weights, storage).toBeDefined();
      const s = measureSize(writeModel(r), { model: r, weightsModel: weights! });
      const stored = measureSize(writeModel(r), { model: r });
      expect(s.parameters, storage).toBe(K * N + V * D);
      // the reference: the weight onnxruntime computes (x = I_K) and the untouched table
      const zeros = await zerosInOrt(r);
      expect(s.zeroWeights, storage).toBe(zeros);
      expect(zeros).toBeGreaterThanOrEqual(measureSize(writeModel(float)).zeroWeights);
      // counted as stored, the decoder's streams are neither the parameters nor their zeros
      expect(stored.parameters, storage).not.toBe(K * N + V * D);
    }
  });
});
