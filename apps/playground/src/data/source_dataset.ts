/**
 * A @whittle/eval DataSource (picked files, synthetic inputs) read into the page's in-memory
 * dataset. Samples are stacked along the model's batch axis when every input has one; otherwise
 * (a recurrent state [2, 1, 128], a scalar sample rate, a fixed [1, 3, H, W]) each sample is kept
 * as a whole feed of its own shape, as @whittle/eval's batching feeds it.
 */
import { type DataSource, type DatasetInput, type EvalDataset, type ModelInputSpec, batchesOf } from '@whittle/eval';
import type { IoInfo } from '../worker/protocol.js';
import { type NpyArray, toNpyArray } from './npy.js';

/** The model inputs as @whittle/eval input specs. */
export function inputSpecs(inputs: readonly IoInfo[]): ModelInputSpec[] {
  return inputs.map((i) => ({ name: i.name, elemType: i.elemType, shape: i.shape ?? undefined, ...(i.comparedWith ? { comparedWith: i.comparedWith } : {}), ...(i.minDims ? { minDims: i.minDims } : {}) }));
}

/** Whether samples stack along a batch axis: every input's first dim is dynamic (the rule of @whittle/eval's `batchesOf`). */
export function stacksSamples(specs: readonly ModelInputSpec[]): boolean {
  return specs.every((s) => !s.shape || (s.shape.length >= 1 && typeof s.shape[0] !== 'number'));
}

/** Up to `limit` samples of `source` as a dataset (with labels when every sample has one). */
export async function datasetFromSource(source: DataSource, specs: readonly ModelInputSpec[], limit: number): Promise<{ dataset: EvalDataset; count: number }> {
  const whole = !stacksSamples(specs);
  const parts: Record<string, NpyArray[]> = {};
  const labels: number[] = [];
  let count = 0;
  for await (const b of batchesOf(source, { inputs: specs, batchSize: 256, limit })) {
    for (const [name, t] of Object.entries(b.feeds)) (parts[name] ??= []).push(toNpyArray({ data: t.dataSync(), shape: [...t.shape], dtype: t.dtype }, name));
    if (b.labels) labels.push(...b.labels);
    count += b.count;
  }
  if (!count) throw new Error(`${source.description}: no samples`);
  const ds: EvalDataset = { inputs: {} };
  for (const [name, ps] of Object.entries(parts)) {
    const sampleShape = whole ? ps[0]!.shape : ps[0]!.shape.slice(1);
    if (ps.some((p) => (whole ? p.shape : p.shape.slice(1)).join() !== sampleShape.join())) throw new Error(`input '${name}': samples of different shapes; the page evaluates samples of one shape (fixed-length windows, one image size)`);
    const Ctor = ps[0]!.data.constructor as new (n: number) => NpyArray['data'];
    const data = new Ctor(ps.reduce((s, p) => s + p.data.length, 0));
    let off = 0;
    for (const p of ps) {
      (data as Float32Array).set(p.data as Float32Array, off);
      off += p.data.length;
    }
    const entry: DatasetInput = { data, sampleShape, type: ps[0]!.type, ...(whole ? { wholeFeed: true } : {}) };
    ds.inputs[name] = entry;
  }
  if (labels.length === count) ds.labels = Int32Array.from(labels);
  return { dataset: ds, count };
}
