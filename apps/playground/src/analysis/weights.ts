/**
 * The effective weight tensor of a layer: its largest constant input of rank >= 2, evaluated
 * through the constant nodes in front of it (DequantizeLinear, Reshape, …) with Whittle's
 * interpreter on the cpu backend, so a quantized layer shows the values it computes with.
 */
import { type Model, type Node, isDefaultDomain, producingNodes, runModel, tensorValues } from '@whittle/graph';
import type { Tensor } from '@whittle/tensor';
import type { GraphLayer } from './layers.js';

export type LayerWeight = { values: ArrayLike<number>; shape: number[]; note?: string } | { reason: string };

async function evaluateConstants(model: Model, names: string[]): Promise<Map<string, Tensor>> {
  if (!names.length) return new Map();
  const g = model.graph;
  const sub: Model = { ...model, graph: { ...g, nodes: producingNodes(g, names), inputs: [], outputs: names.map((name) => ({ name, type: null })), valueInfo: new Map() } };
  return runModel(sub, {}, { backend: 'cpu' });
}

/** The layer's effective weight values, or why there are none to show. */
export async function layerWeight(model: Model, layer: GraphLayer, producers: ReadonlyMap<string, Node>): Promise<LayerWeight> {
  const node = layer.node;
  if (!isDefaultDomain(node.domain)) return { reason: `weights are packed for ${node.domain}:${node.opType}` };
  const g = model.graph;
  const direct = layer.constantInputs.filter((i) => g.initializers.has(i));
  const computed = layer.constantInputs.filter((i) => producers.has(i));
  let evaluated: Map<string, Tensor>;
  try {
    evaluated = await evaluateConstants(model, computed);
  } catch (e) {
    return { reason: `its weights could not be evaluated: ${(e as Error).message}` };
  }
  const candidates: Tensor[] = [...direct.map((n) => g.initializers.get(n)!), ...computed.map((n) => evaluated.get(n)).filter((t): t is Tensor => !!t)];
  const best = candidates.filter((t) => t.shape.length >= 2 && t.dtype !== 'bool').sort((a, b) => b.size - a.size)[0];
  if (!best) return { reason: 'no weight tensor of rank >= 2' };
  // evaluated tensors are not disposed: outputs of view ops may share an initializer's storage
  const float = best.dtype === 'float32' || best.dtype === 'float16';
  // float32 storage as is: a copy to float64 of a 100 MB model's weights costs seconds and 200 MB
  const values = best.dtype === 'float32' ? (best.dataSync() as Float32Array) : tensorValues(best);
  return { values, shape: [...best.shape], ...(float ? {} : { note: `${best.dtype} codes (rescaled after the op)` }) };
}
