/** A data source as pass-context input: calibration feeds and training data. */
import type { Feeds, TrainingData } from '@whittle/graph';
import { type BatchOptions, batchesOf } from './batches.js';
import { DataError } from './errors.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';
import { sizeOfShape } from './source.js';

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
  /** The model's inputs; training feeds one float input (the first, or `inputName`). */
  inputs: readonly ModelInputSpec[];
  inputName?: string | undefined;
  /** Read at most this many samples (default: all). */
  limit?: number | undefined;
  /** Require labels (default true: the training passes classify). */
  requireLabels?: boolean | undefined;
}

/**
 * In-memory {@link TrainingData} (one float32 input, int labels) for the passes that fine-tune:
 * the samples are read once and held (bound them with `limit`).
 */
export async function trainingDataFrom(source: DataSource, opts: TrainingDataOptions): Promise<TrainingData> {
  const name = opts.inputName ?? opts.inputs[0]?.name;
  if (!name) throw new DataError('training data: the model has no input');
  if (opts.inputs.length > 1) throw new DataError(`training data feeds one input; the model has ${opts.inputs.length} (${opts.inputs.map((i) => i.name).join(', ')})`);
  if (opts.requireLabels !== false && !source.hasLabels) throw new DataError(`training needs labels; ${source.description} has none`);
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  let sampleShape: number[] | undefined;
  for await (const b of batchesOf(source, { inputs: opts.inputs, batchSize: 256, limit: opts.limit })) {
    const t = b.feeds[name]!;
    if (t.dtype !== 'float32') throw new DataError(`training data: input '${name}' is ${t.dtype}; the training passes take float32 inputs`, { file: b.file, sample: b.first });
    const s = t.shape.slice(1);
    if (!sampleShape) sampleShape = [...s];
    else if (s.join() !== sampleShape.join()) throw new DataError(`training data: sample shape [${s.join(', ')}] differs from [${sampleShape.join(', ')}]; training needs one shape`, { file: b.file, sample: b.first });
    parts.push(t.dataSync() as Float32Array);
    if (b.labels) labels.push(...b.labels);
  }
  if (!sampleShape) throw new DataError(`training data: ${source.description} holds no samples`);
  const n = parts.reduce((s, p) => s + p.length, 0);
  const x = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    x.set(p, at);
    at += p.length;
  }
  const count = n / sizeOfShape(sampleShape);
  if (labels.length && labels.length !== count) throw new DataError(`training data: ${labels.length} label(s) for ${count} sample(s)`);
  return { x, sampleShape, inputName: name, ...(labels.length ? { labels: Int32Array.from(labels) } : {}) };
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
