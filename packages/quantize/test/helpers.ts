import type { Model } from '@whittle/graph';
import { GraphBuilder } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import * as ort from 'onnxruntime-node';

/** Write with @whittle/onnx, load in onnxruntime-node, run; outputs by name as Float32Array. */
export async function ortRun(
  model: Model,
  feeds: Record<string, { data: Float32Array | BigInt64Array; dims: number[] }>,
  opts: { graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all' } = {},
): Promise<Record<string, Float32Array>> {
  const bytes = writeModel(model);
  const session = await ort.InferenceSession.create(bytes, opts);
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.data instanceof BigInt64Array ? 'int64' : 'float32', v.data, v.dims);
  const out = await session.run(f);
  const res: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
  await session.release();
  return res;
}

export function modelBytes(model: Model): number {
  return writeModel(model).length;
}

export function randomArray(n: number, rng: Rng, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

export function randTensor(shape: number[], rng: Rng, scale = 1): Tensor {
  return tensor(randomArray(shape.reduce((a, b) => a * b, 1), rng, scale), shape, 'float32', { backend: 'cpu' });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += a[i]! ** 2;
  }
  return Math.sqrt(d / Math.max(n, 1e-30));
}

/**
 * A small model with every weight kind: MatMul [K,N], Gemm transB=1 with bias, Gemm transB=0,
 * and an embedding Gather on a second (int64) input added to the first layer's output.
 */
export function mixedModel(seed = 1, opset = 17): Model {
  const rng = new Rng(seed);
  const b = new GraphBuilder('mixed');
  const x = b.input('x', 'float32', ['N', 100]);
  const ids = b.input('ids', 'int64', ['N']);
  let h = b.node('MatMul', [x, b.initializer('w1', randTensor([100, 64], rng, 0.1))], {}, { name: 'mm1' });
  const emb = b.node('Gather', [b.initializer('emb', randTensor([50, 64], rng, 0.5)), ids], { axis: 0 }, { name: 'embed' });
  h = b.node('Add', [h, emb], {}, { name: 'add_emb' });
  h = b.node('Relu', [h]);
  h = b.node('Gemm', [h, b.initializer('w2', randTensor([48, 64], rng, 0.15)), b.initializer('b2', randTensor([48], rng, 0.1))], { transB: 1 }, { name: 'gemm2' });
  h = b.node('Tanh', [h]);
  h = b.node('Gemm', [h, b.initializer('w3', randTensor([48, 10], rng, 0.2)), b.initializer('b3', randTensor([10], rng, 0.1))], {}, { name: 'gemm3' });
  b.output(h, 'float32', ['N', 10]);
  return b.model([{ domain: '', version: opset }]);
}

export function mixedFeeds(n: number, seed = 2): Record<string, { data: Float32Array | BigInt64Array; dims: number[] }> {
  const rng = new Rng(seed);
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(rng.int(50));
  return { x: { data: randomArray(n * 100, rng), dims: [n, 100] }, ids: { data: ids, dims: [n] } };
}
