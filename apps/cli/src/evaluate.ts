import type { Model } from '@whittle/graph';
import { type DataSource, type ModelInputSpec, type OrtFeed, type VariantResult, FidelityAccumulator, batchesOf, createOrtRunner, measureLatencyOrt, measureSize, memorySource, modelInputSpecs } from '@whittle/eval/node';
import { readModel } from '@whittle/onnx';
import type { LabeledSplit } from './data.js';
import { UsageError } from './errors.js';

/** Outputs of one model over a data source: its first output, flattened, batch after batch. */
export interface SourceOutputs {
  /** First output of every batch, concatenated. */
  logits: Float32Array;
  /** Last dim of the first output (class count of a classifier). */
  classes: number;
  /** Labels of the samples, when the data has them. */
  labels?: Int32Array | undefined;
  /** Samples run. */
  count: number;
  /** Shape of one sample of the first input, and whether its batch axis is dynamic (for latency). */
  sampleShape: number[];
  dynamicBatch: boolean;
}

/** Run a model in onnxruntime-node over every batch of a source (inputs checked against the model). */
export async function ortOutputs(bytes: Uint8Array, source: DataSource, inputs: readonly ModelInputSpec[], batchSize = 64): Promise<SourceOutputs> {
  const runner = await createOrtRunner(bytes);
  try {
    const parts: Float32Array[] = [];
    const labels: number[] = [];
    let classes = 0;
    let count = 0;
    let sampleShape: number[] = [];
    for await (const b of batchesOf(source, { inputs, batchSize })) {
      const feeds: Record<string, OrtFeed> = {};
      for (const [name, t] of Object.entries(b.feeds)) feeds[name] = { data: t.dataSync(), dims: [...t.shape], type: t.dtype } as OrtFeed;
      if (!parts.length) sampleShape = [...(Object.values(b.feeds)[0]?.shape.slice(1) ?? [])];
      const out = (await runner.run(feeds))[runner.outputNames[0]!]!;
      classes = out.dims[out.dims.length - 1] ?? 1;
      parts.push(out.data);
      if (b.labels) labels.push(...b.labels);
      count += b.count;
    }
    if (!count) throw new UsageError(`the data (${source.description}) holds no samples`);
    const logits = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let off = 0;
    for (const p of parts) {
      logits.set(p, off);
      off += p.length;
    }
    const s0 = inputs[0]?.shape?.[0];
    const dynamicBatch = inputs.length === 1 && typeof s0 !== 'number' && inputs[0]?.elemType === 'float32';
    return { logits, classes, labels: labels.length === count ? Int32Array.from(labels) : undefined, count, sampleShape, dynamicBatch };
  } finally {
    await runner.release();
  }
}

/** Fraction of samples whose argmax over `classes` scores equals the label. */
export function accuracyOf(logits: Float32Array, classes: number, labels: Int32Array): number {
  if (logits.length !== labels.length * classes) throw new UsageError(`the model gives ${logits.length / Math.max(1, labels.length)} score(s) per sample, not one row of ${classes} classes; accuracy needs a classifier`);
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    if (best === labels[i]) correct++;
  }
  return correct / labels.length;
}

/** A labeled split (e.g. MNIST's test split) as a source for the model's first input. */
function splitSource(s: LabeledSplit, inputs: readonly ModelInputSpec[]): DataSource {
  const flat = inputs[0]?.shape?.length === 2;
  const shape = flat ? [s.sampleShape.reduce((a, b) => a * b, 1)] : s.sampleShape;
  return memorySource({ [inputs[0]?.name ?? 'input']: { data: s.x, shape: [s.labels.length, ...shape], dtype: 'float32' } }, { labels: s.labels });
}

/** Options of {@link evaluateVariant}. */
export interface EvaluateVariantOptions {
  /** Baseline outputs on the same data, for fidelity. */
  reference?: Float32Array;
  /** Time batch-1 / batch-N latency (default true; single float input models only). */
  latency?: boolean;
  model?: Model;
  path?: string;
}

/** Size, accuracy (with labels), fidelity and latency of one encoded model, measured in onnxruntime-node. */
export async function evaluateVariant(name: string, technique: string, bytes: Uint8Array, data: DataSource | LabeledSplit, opts: EvaluateVariantOptions = {}): Promise<VariantResult & { logits: Float32Array }> {
  const model = opts.model ?? readModel(bytes);
  const inputs = modelInputSpecs(model);
  const source = 'chunks' in data ? data : splitSource(data, inputs);
  const o = await ortOutputs(bytes, source, inputs);
  const v: VariantResult & { logits: Float32Array } = { name, technique, size: measureSize(bytes, { model }), logits: o.logits };
  if (o.labels) v.accuracy = accuracyOf(o.logits, o.classes, o.labels);
  if (opts.reference) {
    if (opts.reference.length !== o.logits.length) throw new UsageError(`'${name}' gives ${o.logits.length} output values on the data, the baseline ${opts.reference.length}; compare variants of the same model`);
    v.fidelity = new FidelityAccumulator(o.logits.length % o.classes === 0 ? { numClasses: o.classes } : {}).add(opts.reference, o.logits).result();
  }
  if (opts.latency !== false && o.dynamicBatch) v.latency = await measureLatencyOrt(bytes, { sampleShape: o.sampleShape, batchN: 64, runs: 30 });
  else if (opts.latency !== false && inputs.length === 1 && inputs[0]?.elemType === 'float32') v.latency = await measureLatencyOrt(bytes, { sampleShape: o.sampleShape, batchN: 0, runs: 30 });
  if (opts.path) v.path = opts.path;
  return v;
}
