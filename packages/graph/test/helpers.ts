import { type DType, Rng, type Tensor, tensor } from '@whittle/tensor';
import { createGraph, createModel, createNode, tensorInfo } from '../src/ir/graph.js';
import type { AttributeValue, Dim, Graph, Model, Node } from '../src/ir/types.js';
import { tensorValues } from '../src/ir/dtypes.js';

export const t = (values: number[], shape: number[], dtype: DType = 'float32'): Tensor =>
  tensor(values, shape, dtype, { backend: 'cpu' });

export const vals = (x: Tensor): number[] => Array.from(tensorValues(x));

export function randomValues(rng: Rng, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

export function randTensor(rng: Rng, shape: number[], lo = -1, hi = 1): Tensor {
  return t(randomValues(rng, shape.reduce((a, b) => a * b, 1), lo, hi), shape);
}

export const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttributeValue> = {},
  name = outputs[0] ?? op,
): Node => createNode(op, inputs, outputs, attrs, { name });

/** A model with float32 inputs/outputs of the given shapes. */
export function model(
  nodes: Node[],
  inputs: Record<string, Dim[]>,
  outputs: string[] | Record<string, Dim[] | undefined>,
  initializers: Record<string, Tensor> = {},
  extra: Partial<Graph> = {},
): Model {
  const outs = Array.isArray(outputs) ? Object.fromEntries(outputs.map((o) => [o, undefined])) : outputs;
  const g = createGraph({
    nodes,
    inputs: Object.entries(inputs).map(([k, s]) => tensorInfo(k, 'float32', s)),
    outputs: Object.entries(outs).map(([k, s]) => (s ? tensorInfo(k, 'float32', s) : { name: k, type: null })),
    initializers,
  });
  Object.assign(g, extra);
  return createModel(g);
}

export { Rng };
