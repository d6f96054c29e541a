/**
 * Shared helpers of the exporter-style fixtures: seeded weights, int64/float constants, and
 * torch-style value names (`/path/Op_output_0`).
 */
import type { GraphBuilder } from '@whittle/graph';
import { type Rng, type Tensor, tensor } from '@whittle/tensor';

/** A float32 cpu tensor. */
export function f32(values: Float32Array | readonly number[], shape: readonly number[]): Tensor {
  return tensor(values instanceof Float32Array ? values : Float32Array.from(values), [...shape], 'float32', { backend: 'cpu' });
}

/** An int64 cpu tensor. */
export function i64(values: readonly number[], shape: readonly number[] = [values.length]): Tensor {
  return tensor(BigInt64Array.from(values, (v) => BigInt(v)), [...shape], 'int64', { backend: 'cpu' });
}

/** `n` normal draws times `std`. */
export function normal(rng: Rng, n: number, std: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
  return a;
}

/** A float32 tensor of `shape` drawn from normal(mean, std). */
export function normalTensor(rng: Rng, shape: readonly number[], std: number, mean = 0): Tensor {
  const a = normal(rng, shape.reduce((p, d) => p * d, 1), std);
  if (mean !== 0) for (let i = 0; i < a.length; i++) a[i]! += mean;
  return f32(a, shape);
}

/** Sizes of a Llama-family decoder fixture (each fixture states its defaults). */
export interface DecoderSizeOptions {
  /** Seed of the weights. */
  seed: number;
  /** Decoder layers. */
  layers?: number;
  /** Hidden size. */
  hidden?: number;
  /** Query heads. */
  heads?: number;
  /** Key/value heads (must divide heads). */
  kvHeads?: number;
  /** Width of the gated MLP. */
  intermediate?: number;
  /** Vocabulary size. */
  vocab?: number;
  /** The LM head reads the embedding table through a Transpose instead of its own weight. */
  tiedEmbeddings?: boolean;
}

/** `n` uniform draws in [lo, hi). */
export function uniform(rng: Rng, n: number, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

const names = new WeakMap<GraphBuilder, Map<string, number>>();

/**
 * Add a node named the way torch.onnx.export names it: node `/scope/Op` (with a `_k` suffix when
 * the scope already has one), output `/scope/Op_output_0`.
 */
export function torchNode(b: GraphBuilder, scope: string, op: string, inputs: readonly string[], attrs: Parameters<GraphBuilder['node']>[2] = {}, opts: { floatAttrs?: string[]; outputName?: string } = {}): string {
  let seen = names.get(b);
  if (!seen) names.set(b, (seen = new Map()));
  const stem = `${scope}/${op}`;
  const k = seen.get(stem) ?? 0;
  seen.set(stem, k + 1);
  const name = k === 0 ? stem : `${stem}_${k}`;
  return b.node(op, inputs, attrs, { name, outputNames: [opts.outputName ?? `${name}_output_0`], ...(opts.floatAttrs ? { floatAttrs: opts.floatAttrs } : {}) });
}

/** A `Constant` node holding `t`, named like torch's (`/scope/Constant`). */
export function torchConstant(b: GraphBuilder, scope: string, t: Tensor): string {
  return torchNode(b, scope, 'Constant', [], { value: t });
}
