import { type Model, type PassResult, createGraph, createModel, createNode, runPass, tensorInfo, type AttributeValue, type Dim, type Node } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import * as ort from 'onnxruntime-node';
import '../src/index.js';

export { Rng };

export function randn(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

export const t = (values: Float32Array | number[], shape: number[]): Tensor =>
  tensor(values instanceof Float32Array ? values : Float32Array.from(values), shape, 'float32', { backend: 'cpu' });

/** A random weight of approximately the given rank (plus small noise), K×N, row-major. */
export function lowRankish(rng: Rng, k: number, n: number, rank: number, noise = 0.01): Float32Array {
  const a = randn(rng, k * rank);
  const b = randn(rng, rank * n);
  const w = new Float32Array(k * n);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let r = 0; r < rank; r++) s += a[i * rank + r]! * b[r * n + j]! / (1 + r);
    w[i * n + j] = s / Math.sqrt(rank) + noise * rng.normal();
  }
  return w;
}

export const node = (op: string, inputs: string[], outputs: string[], attrs: Record<string, AttributeValue> = {}, name = outputs[0] ?? op): Node =>
  createNode(op, inputs, outputs, attrs, { name });

export function model(nodes: Node[], inputs: Record<string, Dim[]>, outputs: string[], initializers: Record<string, Tensor>): Model {
  return createModel(createGraph({
    nodes,
    inputs: Object.entries(inputs).map(([k, s]) => tensorInfo(k, 'float32', s)),
    outputs: outputs.map((o) => ({ name: o, type: null })),
    initializers,
  }));
}

/** Run a model in onnxruntime-node (written by @whittle/onnx); outputs by name. */
export async function runOrt(m: Model, feeds: Record<string, { data: Float32Array; shape: number[] }>): Promise<Record<string, Float32Array>> {
  const bytes = await writeModel(m);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.shape);
    const out = await session.run(f);
    const res: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) res[k] = v.data as Float32Array;
    return res;
  } finally {
    await session.release();
  }
}

/** max |a-b| and relative Frobenius difference ‖a-b‖/‖b‖. */
export function diff(a: Float32Array, b: Float32Array): { maxAbs: number; rel: number } {
  let maxAbs = 0;
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    const d = a[i]! - b[i]!;
    maxAbs = Math.max(maxAbs, Math.abs(d));
    num += d * d;
    den += b[i]! * b[i]!;
  }
  return { maxAbs, rel: Math.sqrt(num / (den || 1)) };
}

/** Run a pass, then original and result in ORT on `feeds`; returns the pass result and output diffs. */
export async function passVsOriginal(
  pass: string,
  m: Model,
  options: Record<string, unknown>,
  feeds: Record<string, { data: Float32Array; shape: number[] }>,
  ctx: Parameters<typeof runPass>[3] = {},
): Promise<{ result: PassResult; diffs: Record<string, { maxAbs: number; rel: number }>; before: Record<string, Float32Array>; after: Record<string, Float32Array> }> {
  const result = await runPass(pass, m, options, ctx);
  const before = await runOrt(m, feeds);
  const after = await runOrt(result.model, feeds);
  const diffs: Record<string, { maxAbs: number; rel: number }> = {};
  for (const k of Object.keys(before)) diffs[k] = diff(after[k]!, before[k]!);
  return { result, diffs, before, after };
}

export interface LayerLine {
  name: string;
  op: string;
  kind: string;
  shape: string;
  ranks: number[];
  paramsBefore: number;
  paramsAfter: number;
  relativeError: number;
  randomizedSvd: boolean;
  activationAware: string;
}

export const layersOf = (r: PassResult): LayerLine[] => (r.report.details?.['layers'] ?? []) as LayerLine[];
