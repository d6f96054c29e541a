import { outputClassColumns, type Model } from '@whittle/graph';
import {
  type DataSource, type MetricArray, type ModelInputSpec, type OrtFeed, type TaskInfo, type UserMetric, type VariantResult,
  EvaluationError, FidelityAccumulator, PerplexityAccumulator, RegressionAccumulator, TopKAccumulator, batchesOf, compareEmbeddings, createOrtRunner, measureLatencyOrt, measureSize, materializeComputedWeights, memorySource, poolEmbeddings,
} from '@whittle/eval/node';
import { readModel } from '@whittle/onnx';
import { DataError, scoreMidpoint } from '@whittle/eval';
import { WhittleError } from '@whittle/tensor';
import type { LabeledSplit } from './data.js';
import { UsageError } from './errors.js';
import { classLabelCount, defaultOutput, isLabelVector, labelsAsScores } from './label_outputs.js';
import { cliInputSpecs } from './folder_shapes.js';

/** Tasks `whittle evaluate` measures. */
export const TASKS = ['classification', 'fidelity', 'lm', 'regression', 'embedding'] as const;
export type Task = (typeof TASKS)[number];

/** One batch as run: the measured output, the feeds, and what the data says about it. */
export interface RunBatch {
  /** The measured output (float32) and its dims. */
  out: Float32Array;
  dims: number[];
  /** Every output, when kept (a user metric sees them all). */
  outputs?: Record<string, MetricArray> | undefined;
  feeds: Record<string, MetricArray>;
  labels?: Int32Array | undefined;
  targets?: Record<string, MetricArray> | undefined;
  count: number;
}

/** Outputs of one model over a data source. */
export interface SourceOutputs {
  /** Name of the measured output. */
  output: string;
  batches: RunBatch[];
  /** The measured output of every batch, concatenated. */
  logits: Float32Array;
  /** Last dim of the measured output (class count of a classifier). */
  classes: number;
  /** Labels of the samples, when the data has them. */
  labels?: Int32Array | undefined;
  /** Samples run. */
  count: number;
  /** Shape of one sample of the first input, and whether its batch axis is dynamic (for latency). */
  sampleShape: number[];
  dynamicBatch: boolean;
}

function toMetricArray(t: { dataSync(): unknown; shape: readonly number[] }): MetricArray {
  return { data: t.dataSync() as MetricArray['data'], dims: [...t.shape] };
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Options of {@link ortOutputs}. */
export interface OrtOutputsOptions {
  batchSize?: number;
  /** Output to measure (default: the model's first). */
  output?: string | undefined;
  /** Keep every output of every batch (for a user metric). */
  keepAll?: boolean;
  /** The model's name in errors (default 'the model'). */
  name?: string;
  /**
   * Class count of a classifier whose measured output holds predicted labels ([N] integers): the
   * labels are read as one-hot rows of this width (see label_outputs.ts).
   */
  labelClasses?: number | undefined;
}

/**
 * One batch's outputs. onnxruntime's own message names a node deep in the graph but not the model,
 * the batch or the shapes fed: a failure says them (e.g. data-free samples too short for an STFT).
 */
async function runBatch<T>(run: Promise<T>, name: string | undefined, batch: number, feeds: Readonly<Record<string, { shape: readonly number[] }>>, data: string): Promise<T> {
  try {
    return await run;
  } catch (e) {
    if (e instanceof WhittleError) throw e;
    const shapes = Object.entries(feeds).map(([n, t]) => `${n} [${t.shape.join(', ')}]`).join(', ');
    throw new EvaluationError(`onnxruntime could not run ${name ? `'${name}'` : 'the model'} on batch ${batch} of ${data} (${shapes}): ${(e as Error).message.trim()}`, { cause: e });
  }
}

/** Run a model in onnxruntime-node over every batch of a source (inputs checked against the model). */
export async function ortOutputs(bytes: Uint8Array, source: DataSource, inputs: readonly ModelInputSpec[], opts: OrtOutputsOptions = {}): Promise<SourceOutputs> {
  const runner = await createOrtRunner(bytes);
  try {
    const output = opts.output ?? defaultOutput(runner.outputNames, runner.outputTypes);
    if (output === undefined || runner.nonTensorOutputs.includes(output)) {
      const which = output === undefined ? `every output of the model (${runner.nonTensorOutputs.join(', ')}) is` : `output '${output}' is`;
      throw new UsageError(`${which} a sequence or map (such as the class probabilities skl2onnx writes through ZipMap), which onnxruntime-node cannot return to JavaScript; ${runner.outputNames.length ? `measure a tensor output with --output (${runner.outputNames.join(', ')})` : 'export the model with tensor outputs'}, or convert the classifier with options={'zipmap': False} to get the probabilities as a tensor`);
    }
    if (!runner.outputNames.includes(output)) throw new UsageError(`the model has no output '${output}' (outputs: ${runner.outputNames.join(', ')}); pick one with --output`);
    const batches: RunBatch[] = [];
    const labels: number[] = [];
    let classes = 0;
    let count = 0;
    let sampleShape: number[] = [];
    for await (const b of batchesOf(source, { inputs, batchSize: opts.batchSize ?? 64 })) {
      const feeds: Record<string, OrtFeed> = {};
      for (const [name, t] of Object.entries(b.feeds)) feeds[name] = { data: t.dataSync(), dims: [...t.shape], type: t.dtype } as OrtFeed;
      if (!batches.length) sampleShape = [...(Object.values(b.feeds)[0]?.shape.slice(1) ?? [])];
      const res = await runBatch(runner.run(feeds), opts.name, batches.length, b.feeds, source.description);
      const raw = res[output]!;
      const out = opts.labelClasses !== undefined && isLabelVector(raw.type, raw.dims) ? labelsAsScores(raw.data, opts.labelClasses) : raw;
      classes = out.dims[out.dims.length - 1] ?? 1;
      const rb: RunBatch = { out: out.data, dims: [...out.dims], feeds: Object.fromEntries(Object.entries(b.feeds).map(([k, t]) => [k, toMetricArray(t)])), count: b.count };
      if (opts.keepAll) rb.outputs = Object.fromEntries(Object.entries(res).map(([k, o]) => [k, { data: o.data, dims: [...o.dims] }]));
      if (b.labels) rb.labels = b.labels;
      if (b.targets) rb.targets = Object.fromEntries(Object.entries(b.targets).map(([k, t]) => [k, toMetricArray(t)]));
      batches.push(rb);
      if (b.labels) labels.push(...b.labels);
      count += b.count;
    }
    if (!count) throw new UsageError(`the data (${source.description}) holds no samples`);
    const s0 = inputs[0]?.shape?.[0];
    const dynamicBatch = inputs.length === 1 && typeof s0 !== 'number' && inputs[0]?.elemType === 'float32';
    return { output, batches, logits: concat(batches.map((b) => b.out)), classes, labels: labels.length === count ? Int32Array.from(labels) : undefined, count, sampleShape, dynamicBatch };
  } finally {
    await runner.release();
  }
}

/** One score per sample → [0, score − threshold] rows: argmax is class 1 above the threshold. */
function twoColumns(scores: Float32Array, threshold: number): Float32Array {
  const out = new Float32Array(scores.length * 2);
  scores.forEach((x, i) => (out[2 * i + 1] = x - threshold));
  return out;
}

/** Labels outside the output's classes are a data error, named with the data and the output. */
function checkLabels(labels: Int32Array, classes: number, output: string, data: string): void {
  const bad = labels.findIndex((y) => y < 0 || y >= classes);
  if (bad < 0) return;
  throw new DataError(`label ${labels[bad]} is not a class of output '${output}', which scores ${classes} class(es) (0…${classes - 1}); class folders named by numbers are those indices, other names count 0… in sorted order; map the data's names to the model's with classes: in a data spec`, { file: data });
}

/** Fraction of samples whose argmax over `classes` scores equals the label. */
export function accuracyOf(logits: Float32Array, classes: number, labels: Int32Array): number {
  return new TopKAccumulator(1).add(logits, classes, labels).result().top1;
}

/** A labeled split (e.g. MNIST's test split) as a source for the model's first input. */
function splitSource(s: LabeledSplit, inputs: readonly ModelInputSpec[]): DataSource {
  const flat = inputs[0]?.shape?.length === 2;
  const shape = flat ? [s.sampleShape.reduce((a, b) => a * b, 1)] : s.sampleShape;
  return memorySource({ [inputs[0]?.name ?? 'input']: { data: s.x, shape: [s.labels.length, ...shape], dtype: 'float32' } }, { labels: s.labels });
}

/** The task when none is given: classification with labels, regression with float targets, fidelity to the baseline without. */
export function defaultTask(source: DataSource): Task {
  return source.hasLabels ? 'classification' : source.hasTargets ? 'regression' : 'fidelity';
}

/** What a task measures, for the report. */
export function taskInfo(task: Task, output: string | undefined, metricModule?: string): TaskInfo {
  const d: Record<Task, string> = {
    classification: "top-1 (accuracy) and top-5 accuracy from the data's labels; fidelity to the baseline (cosine, SQNR, top-1 agreement)",
    fidelity: "fidelity to the baseline's outputs on the same inputs: cosine, SQNR, max abs error, top-1 agreement over the last axis (no labels used)",
    lm: 'language-model perplexity: next-token negative log-likelihood of the input ids from the logits, padding (attention mask 0) left out; fidelity to the baseline',
    regression: "MSE, MAE, RMSE and R² against the data's targets; fidelity to the baseline",
    embedding: "cosine of each sample's embedding (mean-pooled over unmasked positions) to the baseline's, and retrieval agreement@5 (shared nearest neighbours)",
  };
  return { task, ...(output ? { output } : {}), description: d[task], ...(metricModule ? { metricModule } : {}) };
}

const ID_INPUT = /(^|[_.])input_ids$/;
const MASK_INPUT = /attention_mask$/;

function intInput(feeds: Record<string, MetricArray>, re: RegExp): MetricArray | undefined {
  const named = Object.entries(feeds).find(([k]) => re.test(k))?.[1];
  return named ?? Object.values(feeds).find((f) => !(f.data instanceof Float32Array) && f.dims.length === 2);
}

/** Arrays of every batch joined along axis 0 (refused when trailing dims differ, e.g. varying sequence lengths). */
function joinBatches(parts: readonly MetricArray[], what: string): MetricArray {
  const first = parts[0]!;
  const tail = first.dims.slice(1).join();
  if (parts.some((p) => p.dims.slice(1).join() !== tail)) throw new UsageError(`${what} changes shape between batches; a metric module needs samples of one shape (fixed-length windows)`);
  const Ctor = first.data.constructor as new (n: number) => MetricArray['data'];
  const data = new Ctor(parts.reduce((s, p) => s + p.data.length, 0));
  let off = 0;
  for (const p of parts) {
    (data as Float32Array).set(p.data as Float32Array, off);
    off += p.data.length;
  }
  return { data, dims: [parts.reduce((s, p) => s + (p.dims[0] ?? 1), 0), ...first.dims.slice(1)] };
}

function joinAll(batches: readonly RunBatch[], pick: (b: RunBatch) => Record<string, MetricArray> | undefined, what: string): Record<string, MetricArray> | undefined {
  const first = pick(batches[0]!);
  if (!first) return undefined;
  return Object.fromEntries(Object.keys(first).map((k) => [k, joinBatches(batches.map((b) => pick(b)![k]!), `${what} '${k}'`)]));
}

/**
 * Values of the inputs' symbolic dims as the data feeds them, for the per-sample FLOPs estimate:
 * a sequence length of 128 counts as 128, not 1. The leading (batch) axis of an input of rank ≥ 2
 * counts as 1 (FLOPs are per sample). Undefined when nothing binds.
 */
export function symbolicDimsFromData(inputs: readonly ModelInputSpec[], feeds: Record<string, { dims: readonly number[] }> | undefined): Record<string, number> | undefined {
  if (!feeds) return undefined;
  const out: Record<string, number> = {};
  for (const i of inputs) {
    const dims = feeds[i.name]?.dims;
    if (!dims || !i.shape || i.shape.length !== dims.length) continue;
    i.shape.forEach((d, k) => {
      if (typeof d !== 'string' || !d || d in out) return;
      out[d] = k === 0 && dims.length >= 2 ? 1 : dims[k]!;
    });
  }
  return Object.keys(out).length ? out : undefined;
}

/** Options of {@link evaluateVariant}. */
export interface EvaluateVariantOptions {
  /** Baseline run on the same data (or its measured output, concatenated), for fidelity. */
  reference?: Float32Array | SourceOutputs;
  /** Task (default: classification with labels, fidelity without). */
  task?: Task;
  /** Output to measure (default: the first). */
  output?: string;
  /** A user metric, run on every model. */
  metric?: UserMetric;
  /** Time batch-1 / batch-N latency (default true; single float input models only). */
  latency?: boolean;
  /** Batch N of the latency (default 64, lowered to what memory allows; the baseline's for the variants, so rows compare). */
  latencyBatchN?: number;
  model?: Model;
  path?: string;
}

/** Size, task metrics, fidelity and latency of one encoded model, measured in onnxruntime-node. */
export async function evaluateVariant(name: string, technique: string, bytes: Uint8Array, data: DataSource | LabeledSplit, opts: EvaluateVariantOptions = {}): Promise<VariantResult & { logits: Float32Array; run: SourceOutputs }> {
  const model = opts.model ?? readModel(bytes);
  const inputs = cliInputSpecs(model);
  const source = 'chunks' in data ? data : splitSource(data, inputs);
  const task = opts.task ?? defaultTask(source);
  const o = await ortOutputs(bytes, source, inputs, { output: opts.output, keepAll: opts.metric !== undefined, name, labelClasses: classLabelCount(model) });
  const dims = symbolicDimsFromData(inputs, o.batches[0]?.feeds);
  // weights the graph decodes from constants (Deep Compression's sparse streams) count as decoded
  const weightsModel = await materializeComputedWeights(model);
  const v = { name, technique, size: measureSize(bytes, { model, ...(dims ? { dims } : {}), ...(weightsModel ? { weightsModel } : {}) }), logits: o.logits } as VariantResult & { logits: Float32Array; run: SourceOutputs };
  // not enumerable: callers that spread or serialize the result (reports, the demo) leave the run out
  Object.defineProperty(v, 'run', { value: o, enumerable: false });
  const metrics: Record<string, number> = {};
  const ref = opts.reference instanceof Float32Array ? undefined : opts.reference;
  const refLogits = opts.reference instanceof Float32Array ? opts.reference : opts.reference?.logits;
  if (refLogits) {
    if (refLogits.length !== o.logits.length) throw new UsageError(`'${name}' gives ${o.logits.length} output values on the data, the baseline ${refLogits.length}; compare variants of the same model`);
    // top-1 agreement only where the last axis holds classes (not an image mask's columns, not a
    // recurrent state's hidden units)
    const classes = outputClassColumns(model, o.output, o.batches[0]?.dims ?? [o.count, o.classes]);
    v.fidelity = new FidelityAccumulator(classes !== undefined && o.logits.length % classes === 0 ? { numClasses: classes } : {}).add(refLogits, o.logits).result();
  }
  switch (task) {
    case 'classification': {
      if (!o.labels) throw new UsageError(`--task classification needs labels; ${source.description} has none (use --task fidelity, or data with labels)`);
      const k = new TopKAccumulator(5);
      // one score per sample (a sigmoid or a logit): class 1 above the midpoint, as two columns
      const binary = o.classes === 1 ? scoreMidpoint(o.logits) : undefined;
      for (const b of o.batches) {
        checkLabels(b.labels!, binary === undefined ? o.classes : 2, o.output, source.description);
        k.add(binary === undefined ? b.out : twoColumns(b.out, binary), binary === undefined ? o.classes : 2, b.labels!);
      }
      const r = k.result();
      v.accuracy = r.top1;
      // top-k only says something when k < classes
      if (r.k < (binary === undefined ? o.classes : 2)) metrics[`top${r.k}`] = r.topK;
      break;
    }
    case 'fidelity':
      // outputs against the baseline's only: the data's labels are not read
      break;
    case 'lm': {
      const p = new PerplexityAccumulator();
      for (const b of o.batches) {
        const ids = intInput(b.feeds, ID_INPUT);
        if (!ids) throw new UsageError(`--task lm needs the token ids among the inputs (an integer input named input_ids); the inputs are ${Object.keys(b.feeds).join(', ')}`);
        const mask = Object.entries(b.feeds).find(([k]) => MASK_INPUT.test(k))?.[1];
        p.add(b.out, b.dims, ids.data as ArrayLike<number | bigint>, mask?.data as ArrayLike<number | bigint> | undefined);
      }
      const r = p.result();
      Object.assign(metrics, { perplexity: r.perplexity, meanNll: r.meanNll, nextTokenAccuracy: r.nextTokenAccuracy, tokens: r.tokens });
      break;
    }
    case 'regression': {
      const acc = new RegressionAccumulator();
      for (const b of o.batches) {
        const t = b.targets?.[o.output] ?? (b.targets && Object.keys(b.targets).length === 1 ? Object.values(b.targets)[0] : undefined);
        if (t) acc.add(b.out, Float64Array.from(t.data as ArrayLike<number>, Number));
        else if (b.labels && b.out.length === b.labels.length) acc.add(b.out, b.labels);
        else throw new UsageError(`--task regression needs targets for output '${o.output}' (an ONNX test-data folder with output_K.pb, a float labels.npy / targets.npy beside the inputs, or one integer label per sample for a single-value output); ${source.description} has none`);
      }
      const r = acc.result();
      Object.assign(metrics, { mse: r.mse, mae: r.mae, rmse: r.rmse, r2: r.r2 });
      break;
    }
    case 'embedding': {
      if (ref) {
        const pool = (run: SourceOutputs): { rows: number[]; dim: number } => {
          const rows: number[] = [];
          let dim = 0;
          for (const b of run.batches) {
            const mask = Object.entries(b.feeds).find(([k]) => MASK_INPUT.test(k))?.[1];
            const p = poolEmbeddings(b.out, b.dims, mask?.data as ArrayLike<number | bigint> | undefined);
            dim = p.dim;
            for (const x of p.rows) rows.push(x);
          }
          return { rows, dim };
        };
        const a = pool(ref);
        const c = pool(o);
        const r = compareEmbeddings(a.rows, c.rows, a.dim, 5);
        Object.assign(metrics, { embeddingCosine: r.meanCosine, minEmbeddingCosine: r.minCosine, [`retrievalAgreement@${r.k}`]: r.retrievalAgreement });
      }
      break;
    }
  }
  if (opts.metric) {
    const user = await opts.metric({
      outputs: joinAll(o.batches, (b) => b.outputs, 'output')!,
      reference: ref ? joinAll(ref.batches, (b) => b.outputs, 'baseline output') : undefined,
      inputs: joinAll(o.batches, (b) => b.feeds, 'input') ?? {},
      labels: o.labels,
      targets: o.batches[0]?.targets ? joinAll(o.batches, (b) => b.targets, 'target') : undefined,
    });
    Object.assign(metrics, user);
  }
  if (Object.keys(metrics).length) v.metrics = metrics;
  if (opts.latency !== false && o.dynamicBatch) v.latency = await measureLatencyOrt(bytes, { sampleShape: o.sampleShape, batchN: opts.latencyBatchN ?? 64, runs: 30 });
  else if (opts.latency !== false && inputs.length === 1 && inputs[0]?.elemType === 'float32') v.latency = await measureLatencyOrt(bytes, { sampleShape: o.sampleShape, batchN: 0, runs: 30 });
  if (opts.path) v.path = opts.path;
  return v;
}
