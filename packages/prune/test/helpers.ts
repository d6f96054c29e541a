import { type Model, runModel } from '@whittle/graph';
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

export interface OrtResult {
  outputs: Record<string, Float32Array>;
  dims: Record<string, number[]>;
  bytes: Uint8Array;
}

/** Write with @whittle/onnx, load and run in onnxruntime-node. */
export async function runOrt(m: Model, feeds: Record<string, { data: Float32Array; shape: number[] }>): Promise<OrtResult> {
  const bytes = await writeModel(m);
  const session = await ort.InferenceSession.create(bytes);
  try {
    const f: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor('float32', v.data, v.shape);
    const out = await session.run(f);
    const outputs: Record<string, Float32Array> = {};
    const dims: Record<string, number[]> = {};
    for (const [k, v] of Object.entries(out)) {
      outputs[k] = v.data as Float32Array;
      dims[k] = [...v.dims];
    }
    return { outputs, dims, bytes };
  } finally {
    await session.release();
  }
}

/** Whittle interpreter outputs on cpu. */
export async function runWhittle(m: Model, feeds: Record<string, { data: Float32Array; shape: number[] }>): Promise<Record<string, Float32Array>> {
  const f: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) f[k] = t(v.data, v.shape);
  const r = await runModel(m, f, { backend: 'cpu' });
  const out: Record<string, Float32Array> = {};
  for (const [k, v] of r) out[k] = Float32Array.from((await v.data()) as Float32Array);
  return out;
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

export async function values(m: Model, name: string): Promise<Float32Array> {
  return Float32Array.from((await m.graph.initializers.get(name)!.data()) as Float32Array);
}

export function zeroFraction(v: Float32Array): number {
  let z = 0;
  for (const x of v) if (x === 0) z++;
  return z / v.length;
}

/** Calibration batches as an async iterable of feeds. */
export function calibration(name: string, batches: { data: Float32Array; shape: number[] }[]): AsyncIterable<Record<string, Tensor>> {
  return {
    async *[Symbol.asyncIterator]() {
      for (const b of batches) yield { [name]: t(b.data, b.shape) };
    },
  };
}
