/**
 * Weights a graph decodes from stored constants, computed by onnxruntime-node and stored as
 * initializers, so sizes count what the layers compute with (node only).
 */
import * as ort from 'onnxruntime-node';
import type { Model } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { type Tensor, tensor } from '@whittle/tensor';
import { computedWeightNames, weightDecoder, withDecodedWeights } from './size.js';

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
  let values: Record<string, ort.Tensor>;
  try {
    const s = await ort.InferenceSession.create(writeModel(weightDecoder(model, names)));
    values = await s.run({});
    await s.release();
  } catch {
    return undefined;
  }
  const decoded = new Map<string, Tensor>();
  for (const name of names) {
    const v = values[name];
    if (!v || v.type !== 'float32') return undefined;
    decoded.set(name, tensor(Float32Array.from(v.data as Float32Array), [...v.dims], 'float32', { backend: 'cpu' }));
  }
  return withDecodedWeights(model, decoded);
}
