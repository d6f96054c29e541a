/** Datasets for evaluation: any named inputs (N samples each) plus optional labels. */
import { ArgumentError } from '@whittle/tensor';

/** Typed data of one input for all N samples, row-major. */
export type SampleData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array;

/** The element type an array of sample data stands for (Uint16Array holds float16 bits). */
export function sampleElementType(data: SampleData): 'float32' | 'int32' | 'int64' | 'int8' | 'uint8' | 'float16' {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Uint16Array) return 'float16';
  return 'uint8';
}

/** One model input over the whole dataset. */
export interface DatasetInput {
  data: SampleData;
  /** Shape of one sample (without the batch dim). */
  sampleShape: readonly number[];
  /** ORT element type when it is not implied by the array (e.g. 'float16' for Uint16Array). */
  type?: string;
  /**
   * Each sample is one whole feed of shape `sampleShape`: the input has no batch axis of its own
   * (a recurrent state [2, 1, 128], a scalar sample rate, a fixed [1, 3, 64, 64]), so
   * {@link sliceBatch} takes one sample at a time (see {@link maxBatchSize}).
   */
  wholeFeed?: boolean;
}

/** N samples: per model input name the data, and for classification N labels. */
export interface EvalDataset {
  inputs: Record<string, DatasetInput>;
  labels?: ArrayLike<number>;
}

/** One batch as plain feeds: `{ data, dims: [count, ...sampleShape] }` per input. */
export type BatchFeeds = Record<string, { data: SampleData; dims: number[]; type?: string }>;

/** Number of samples of a dataset (checked to be the same for every input and the labels). */
export function datasetSize(ds: EvalDataset): number {
  const names = Object.keys(ds.inputs);
  if (names.length === 0) throw new ArgumentError('EvalDataset: no inputs given');
  let n: number | undefined;
  for (const name of names) {
    const x = ds.inputs[name]!;
    const per = x.sampleShape.reduce((a, b) => a * b, 1);
    // an empty input (a decoder's first-step KV cache [1, heads, 0, d]) fits any number of samples
    if (per === 0 && x.data.length === 0 && x.sampleShape.length > 0) continue;
    if (per <= 0 || x.data.length % per !== 0) {
      throw new ArgumentError(`EvalDataset: input '${name}' holds ${x.data.length} values, not a whole number of samples of shape [${x.sampleShape.join(',')}]`);
    }
    const m = x.data.length / per;
    if (n !== undefined && m !== n) throw new ArgumentError(`EvalDataset: input '${name}' has ${m} samples, others ${n}`);
    n = m;
  }
  if (n === undefined) throw new ArgumentError('EvalDataset: every input is empty, so the number of samples is unknown');
  if (ds.labels && ds.labels.length !== n) throw new ArgumentError(`EvalDataset: ${ds.labels.length} labels for ${n} samples`);
  if (n === 0) throw new ArgumentError('EvalDataset: no samples');
  return n!;
}

/** The largest batch {@link sliceBatch} gives of a dataset: 1 when an input is fed whole, else `wanted`. */
export function maxBatchSize(ds: EvalDataset, wanted: number): number {
  return Object.values(ds.inputs).some((x) => x.wholeFeed) ? 1 : wanted;
}

/**
 * Feeds for samples [start, start + count) (views, no copies); an input fed whole
 * ({@link DatasetInput.wholeFeed}) takes one sample at a time, with dims `sampleShape`.
 */
export function sliceBatch(ds: EvalDataset, start: number, count: number): BatchFeeds {
  const feeds: BatchFeeds = {};
  for (const [name, x] of Object.entries(ds.inputs)) {
    if (x.wholeFeed && count !== 1) throw new ArgumentError(`sliceBatch: input '${name}' has no batch axis (each sample is a whole feed), so batches hold one sample, not ${count}`);
    const per = x.sampleShape.reduce((a, b) => a * b, 1);
    const f: BatchFeeds[string] = { data: x.data.subarray(start * per, (start + count) * per), dims: x.wholeFeed ? [...x.sampleShape] : [count, ...x.sampleShape] };
    if (x.type !== undefined) f.type = x.type;
    feeds[name] = f;
  }
  return feeds;
}

/** A dataset with the first `count` samples (for quick evaluations). */
export function takeSamples(ds: EvalDataset, count: number): EvalDataset {
  const n = Math.min(count, datasetSize(ds));
  const inputs: Record<string, DatasetInput> = {};
  for (const [name, x] of Object.entries(ds.inputs)) {
    const per = x.sampleShape.reduce((a, b) => a * b, 1);
    inputs[name] = { ...x, data: x.data.subarray(0, n * per) };
  }
  const out: EvalDataset = { inputs };
  if (ds.labels) out.labels = Array.prototype.slice.call(ds.labels, 0, n) as number[];
  return out;
}
