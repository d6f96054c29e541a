/**
 * Weights a graph decodes from stored constants, computed by onnxruntime-node and stored as
 * initializers, so sizes count what the layers compute with (node only).
 */
import * as ort from 'onnxruntime-node';
import { type Model, cloneModel, eliminateDeadCode, producingNodes } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { computedWeightNames } from './size.js';

/**
 * `model` with every layer weight its main graph computes from constants (see
 * `computedWeightNames`: Deep Compression's sparse streams, bit-packed codes) replaced by an
 * initializer holding the values onnxruntime computes for it; undefined when there is none or
 * onnxruntime cannot run the decoding nodes. A 95 %-pruned LeNet stored as 20k stream elements
 * then counts its 266k weights, 95 % of them zero.
 */
export async function materializeComputedWeights(model: Model): Promise<Model | undefined> {
  const names = computedWeightNames(model.graph);
  if (!names.length) return undefined;
  // the decoding nodes, in graph order, as a model of their own with the weights as outputs
  const decoder = cloneModel(model);
  decoder.graph.nodes = producingNodes(decoder.graph, names);
  decoder.graph.inputs = [];
  decoder.graph.outputs = names.map((name) => ({ name, type: null }));
  decoder.graph.valueInfo = new Map();
  // only what the decoding reads (onnxruntime warns of every unused initializer)
  const read = new Set(decoder.graph.nodes.flatMap((n) => n.inputs));
  for (const k of [...decoder.graph.initializers.keys()]) if (!read.has(k)) decoder.graph.initializers.delete(k);
  for (const k of [...decoder.graph.rawInitializers.keys()]) if (!read.has(k)) decoder.graph.rawInitializers.delete(k);
  let values: Record<string, ort.Tensor>;
  try {
    const s = await ort.InferenceSession.create(writeModel(decoder));
    values = await s.run({});
    await s.release();
  } catch {
    return undefined;
  }
  const out = cloneModel(model);
  for (const name of names) {
    const v = values[name];
    if (!v || v.type !== 'float32') return undefined;
    out.graph.initializers.set(name, tensor(Float32Array.from(v.data as Float32Array), [...v.dims], 'float32', { backend: 'cpu' }));
  }
  out.graph.nodes = out.graph.nodes.filter((n) => !n.outputs.some((y) => names.includes(y)));
  eliminateDeadCode(out.graph);
  return out;
}
