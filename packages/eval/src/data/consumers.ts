/** A data source as pass-context input: calibration feeds and training data. */
import type { Feeds, Model, SampleArray, TrainingData } from '@whittle/graph';
import { allocStorage } from '@whittle/tensor';
import { concatRows } from './arrays.js';
import { type BatchOptions, batchesOf } from './batches.js';
import { DataError } from './errors.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { modelInputSpecs, sizeOfShape } from './source.js';

/**
 * `ctx.calibration` from a source: feeds by input name, re-iterable (every pass of a recipe reads
 * all batches from the start), at most `limit` samples in batches of `batchSize`.
 */
export function calibrationFrom(source: DataSource, opts: BatchOptions = {}): AsyncIterable<Feeds> {
  const batches = batchesOf(source, opts);
  return {
    async *[Symbol.asyncIterator]() {
      for await (const b of batches) yield b.feeds;
    },
  };
}

/** Options of {@link trainingDataFrom}. */
export interface TrainingDataOptions {
  /** The model's inputs: every one is fed (ranks, fixed dims and element types checked). */
  inputs: readonly ModelInputSpec[];
  /** Shorthand form only: the input named by the returned `inputName` (default: the first). */
  inputName?: string | undefined;
  /** Read at most this many samples (default: all). */
  limit?: number | undefined;
  /** Require labels or targets (default: true with options, false when given a model). */
  requireLabels?: boolean | undefined;
}

/** A row-major array with its trailing dims padded with zeros to `shape` (rows kept). */
function padTo(a: DataArray, shape: readonly number[]): DataArray {
  const out = allocStorage(a.dtype, sizeOfShape(shape));
  const rank = shape.length;
  const src = a.shape;
  const idx = new Array<number>(rank).fill(0);
  const total = sizeOfShape(src);
  for (let i = 0; i < total; i++) {
    let rem = i;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k] = rem % src[k]!;
      rem = Math.floor(rem / src[k]!);
    }
    let o = 0;
    for (let k = 0; k < rank; k++) o = o * shape[k]! + idx[k]!;
    (out as Float32Array)[o] = (a.data as Float32Array)[i]!;
  }
  return { data: out, shape: [...shape], dtype: a.dtype };
}

/** Rows of several batches joined; trailing dims that differ (token sequences) padded with zeros. */
function joinRows(parts: readonly DataArray[]): { array: DataArray; padded: boolean } {
  const rank = parts[0]!.shape.length;
  const max = parts[0]!.shape.slice();
  let padded = false;
  for (const p of parts) {
    for (let k = 1; k < rank; k++) {
      if (p.shape[k] !== max[k]) padded = true;
      max[k] = Math.max(max[k]!, p.shape[k]!);
    }
  }
  const same = padded ? parts.map((p) => padTo(p, [p.shape[0]!, ...max.slice(1)])) : parts;
  return { array: concatRows(same), padded };
}

/**
 * In-memory {@link TrainingData} for the passes that train, from any data source (CSV/TSV,
 * .npy/.npz, JSONL token ids, image folders, ONNX test-data sets): the samples are read once and
 * held (bound them with `limit`). Every model input is fed by name in its own dtype (int64 token
 * ids, attention masks, float features); class labels become `labels`; expected outputs (ONNX
 * test-data `output_K.pb`) become `targets` for that output (integer: cross-entropy, float:
 * regression). Sequences of different lengths are padded with zeros, which needs an
 * `attention_mask` input to tell padding from tokens. A model with one float input and per-sample
 * labels gets the image shorthand (`x`, `sampleShape`, `inputName`, `labels`). Bad data throws a
 * {@link DataError} naming the file, the sample and the mismatch.
 */
export async function trainingDataFrom(source: DataSource, modelOrOptions: Model | TrainingDataOptions): Promise<TrainingData> {
  const fromModel = 'graph' in modelOrOptions;
  const opts: TrainingDataOptions = fromModel ? { inputs: modelInputSpecs(modelOrOptions) } : modelOrOptions;
  const requireLabels = opts.requireLabels ?? !fromModel;
  const names = opts.inputs.map((i) => i.name);
  if (!names.length) throw new DataError('training data: the model has no input');
  if (requireLabels && !source.hasLabels && !source.hasTargets) throw new DataError(`training needs labels; ${source.description} has none`);
  const parts = new Map<string, DataArray[]>(names.map((n) => [n, []]));
  const targetParts: DataArray[] = [];
  let targetName: string | undefined;
  const labels: number[] = [];
  let count = 0;
  for await (const b of batchesOf(source, { inputs: opts.inputs, batchSize: 256, limit: opts.limit })) {
    for (const name of names) {
      const t = b.feeds[name];
      if (!t) throw new DataError(`training data: no data for model input '${name}'`, { file: b.file, sample: b.first });
      if (t.shape.length === 0) throw new DataError(`training data: input '${name}' is a scalar; training needs a batch axis`, { file: b.file, sample: b.first });
      parts.get(name)!.push({ data: t.dataSync(), shape: [...t.shape], dtype: t.dtype });
    }
    const n = b.feeds[names[0]!]!.shape[0]!;
    if (b.labels) {
      if (b.labels.length !== n) throw new DataError(`training data: ${b.labels.length} label(s) for ${n} sample(s)`, { file: b.file, sample: b.first });
      labels.push(...b.labels);
    } else if (labels.length) throw new DataError('training data: some samples have labels, others not; label every sample', { file: b.file, sample: b.first });
    if (b.targets) {
      const [name, t] = Object.entries(b.targets)[0] ?? [];
      if (name && t) {
        if (targetName !== undefined && targetName !== name) throw new DataError(`training data: expected outputs name '${name}' here, '${targetName}' before`, { file: b.file, sample: b.first });
        targetName = name;
        const rows = t.shape.length && t.shape[0] === n ? [...t.shape] : n === 1 ? [1, ...t.shape] : undefined;
        if (!rows) throw new DataError(`training data: expected output '${name}' of shape [${t.shape.join(', ')}] does not hold one row per sample (${n})`, { file: b.file, sample: b.first });
        targetParts.push({ data: t.dataSync(), shape: rows, dtype: t.dtype });
      }
    }
    count += n;
  }
  if (!count) throw new DataError(`training data: ${source.description} holds no samples`);
  if (requireLabels && !labels.length && !targetParts.length) throw new DataError(`training needs labels; ${source.description} has none`);
  const feeds: Record<string, SampleArray> = {};
  let padded = false;
  for (const name of names) {
    const j = joinRows(parts.get(name)!);
    padded ||= j.padded;
    feeds[name] = j.array;
  }
  if (padded && !names.includes('attention_mask')) {
    // images and clips are not padded: they need one size, which the model's input leaves open
    const fix =
      source.kind === 'images'
        ? "the model's input size is not fixed, so the images keep theirs: give them one with a data spec (kind: images, path: …, preprocess: { resize: [height, width] })"
        : source.kind === 'audio'
          ? 'give clips of one length (a data spec with length:, in samples)'
          : "padding them needs an 'attention_mask' model input (or give sequences of one length)";
    throw new DataError(`training data: samples of ${source.description} differ in ${source.kind === 'images' ? 'size' : 'length'}; ${fix}`);
  }
  const only = names.length === 1 ? feeds[names[0]!]! : undefined;
  if (only && only.dtype === 'float32' && labels.length && !targetParts.length && (!opts.inputName || opts.inputName === names[0])) {
    return { x: only.data as Float32Array, sampleShape: only.shape.slice(1), inputName: names[0]!, labels: Int32Array.from(labels) };
  }
  const data: TrainingData = { feeds };
  if (labels.length) data.labels = Int32Array.from(labels);
  else if (targetParts.length) {
    data.targets = joinRows(targetParts).array;
    // targets named after a model output (ONNX test data) train that output; a table's target
    // column or a targets.npy names none, so the loss reads the default output
    const outputs = fromModel ? modelOrOptions.graph.outputs.map((o) => o.name) : undefined;
    if (targetName !== undefined && (!outputs || outputs.includes(targetName))) data.task = { output: targetName };
  }
  return data;
}

/** Options of {@link memorySource}. */
export interface MemorySourceOptions {
  labels?: Int32Array | undefined;
  description?: string | undefined;
  /** Samples per chunk (default 256). */
  chunk?: number | undefined;
}

/** In-memory arrays (first axis = samples) by input name as a source, e.g. a built-in data set. */
export function memorySource(arrays: Readonly<Record<string, DataArray>>, opts: MemorySourceOptions = {}): DataSource {
  const entries = Object.entries(arrays);
  const n = entries[0]?.[1].shape[0] ?? 0;
  for (const [name, a] of entries) if (a.shape[0] !== n) throw new DataError(`input '${name}' has ${a.shape[0]} sample(s), '${entries[0]![0]}' has ${n}`);
  if (opts.labels && opts.labels.length !== n) throw new DataError(`${opts.labels.length} label(s) for ${n} sample(s)`);
  const step = opts.chunk ?? 256;
  return {
    kind: 'memory',
    description: opts.description ?? `${n} in-memory sample(s)`,
    dataFree: false,
    hasLabels: opts.labels !== undefined,
    size: n,
    async *chunks(): AsyncGenerator<DataChunk> {
      for (let s = 0; s < n; s += step) {
        const e = Math.min(n, s + step);
        const inputs: Record<string, DataArray> = {};
        for (const [name, a] of entries) {
          const per = sizeOfShape(a.shape.slice(1));
          inputs[name] = { data: a.data.subarray(s * per, e * per) as DataArray['data'], shape: [e - s, ...a.shape.slice(1)], dtype: a.dtype };
        }
        const c: DataChunk = { inputs, count: e - s, file: 'memory', first: s };
        if (opts.labels) c.labels = opts.labels.subarray(s, e);
        yield c;
      }
    },
  };
}
