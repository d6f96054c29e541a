/** Float16 models for the weight-only tests: made by `convert-float16`, run in onnxruntime with float16 inputs. */
import { type Model, cloneModel, graphScopes, runPass } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { type Tensor, float16BitsToFloat32, float32ToFloat16Bits, tensor } from '@whittle/tensor';
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import { convertFloat16Pass } from '../src/float16.js';

type Feed = { data: Float32Array | BigInt64Array; dims: number[] };

/** The model in float16 as a float16 export is: float16 weights, activations, inputs and outputs. */
export async function halfModel(model: Model, blockOps: string[] = []): Promise<Model> {
  return (await runPass(convertFloat16Pass, model, { keepIoTypes: false, blockOps })).model;
}

/** The same graph with every float16 initializer decoded to float32 (values unchanged). */
export function decodedWeights(model: Model): Model {
  const out = cloneModel(model);
  for (const s of graphScopes(out.graph)) {
    for (const [k, t] of [...s.graph.initializers]) {
      if (t.dtype !== 'float16') continue;
      s.graph.initializers.set(k, tensor(Float32Array.from(t.dataSync() as Uint16Array, float16BitsToFloat32), [...t.shape], 'float32', { backend: 'cpu' }));
    }
  }
  return out;
}

/** Element types of the graph inputs and outputs. */
export function ioTypes(model: Model): string[] {
  return [...model.graph.inputs, ...model.graph.outputs].map((v) => (v.type?.kind === 'tensor' ? (v.type.elemType ?? '?') : '?'));
}

/**
 * Run in onnxruntime-node; float32 feeds go in as float16 where the graph input is float16. Returns
 * the outputs decoded to float32 and the element type onnxruntime gave each.
 */
export async function ortRunHalf(model: Model, feeds: Record<string, Feed>): Promise<{ outputs: Record<string, Float32Array>; types: Record<string, string> }> {
  const session = await ort.InferenceSession.create(writeModel(model));
  const f: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    const input = model.graph.inputs.find((i) => i.name === k);
    const half = input?.type?.kind === 'tensor' && input.type.elemType === 'float16';
    if (v.data instanceof BigInt64Array) f[k] = new ort.Tensor('int64', v.data, v.dims);
    else if (half) f[k] = new ort.Tensor('float16', Uint16Array.from(v.data, float32ToFloat16Bits), v.dims);
    else f[k] = new ort.Tensor('float32', v.data, v.dims);
  }
  const out = await session.run(f);
  const outputs: Record<string, Float32Array> = {};
  const types: Record<string, string> = {};
  for (const [k, v] of Object.entries(out)) {
    types[k] = v.type;
    outputs[k] = v.data instanceof Uint16Array ? Float32Array.from(v.data, float16BitsToFloat32) : Float32Array.from(v.data as Float32Array);
  }
  await session.release();
  return { outputs, types };
}

const bytesOf = (t: Tensor): Buffer => {
  const d = t.dataSync() as Uint8Array;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};

/** Every initializer of `reference` is in `streamed` with the same type, shape and bytes, and no other. */
export function expectSameInitializers(streamed: Model, reference: Model): void {
  expect([...streamed.graph.initializers.keys()].sort()).toEqual([...reference.graph.initializers.keys()].sort());
  for (const [name, t] of reference.graph.initializers) {
    const s = streamed.graph.initializers.get(name)!;
    expect([s.dtype, s.shape], name).toEqual([t.dtype, t.shape]);
    expect(bytesOf(s).equals(bytesOf(t)), name).toBe(true);
  }
}
