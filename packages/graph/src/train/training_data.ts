import { type BackendName, type DType, type Rng, type Tensor, allocStorage, tensor } from '@whittle/tensor';
import type { Model } from '../ir/types.js';
import { PassDataError } from '../errors.js';
import type { SampleArray, TrainingData, TrainingLoss } from '../passes/contract.js';
import type { Augment } from './augment.js';
import type { Batch } from './fit.js';
import { isSoftmaxOutput } from './probability_output.js';

/**
 * Training data that does not fit the model or the task: no samples, an input the data does not
 * feed, sample counts that disagree, targets of the wrong kind for the loss, an unknown output.
 * The message says which pass, what is wrong and what to give instead. A {@link PassDataError}.
 */
export class TrainingDataError extends PassDataError {
  constructor(pass: string, message: string) {
    super(pass, `${pass}: ${message}`);
  }
}

/** A task with every default settled. */
export interface ResolvedTask {
  loss: TrainingLoss;
  output: string;
  /** Class axis (may be negative: counted from the end of the output's rank). */
  classAxis: number;
  ignoreIndex: number;
  /** The output is a Softmax's probabilities: losses read log(p) as logits (probability_output.ts). */
  probabilities?: boolean | undefined;
}

/** {@link TrainingData} in one form: feeds by input name, targets, settled task. */
export interface ResolvedTrainingData {
  count: number;
  feeds: Record<string, SampleArray>;
  /** Integer (labels) or float targets, first axis = samples. */
  targets: SampleArray | undefined;
  task: ResolvedTask;
  /** The one float input of rank >= 3 per sample (images): augmentations apply to it. */
  image: { input: string; sampleShape: readonly number[] } | undefined;
  /** `lm`: the token input and the padding mask input (if the model has one). */
  tokens: { ids: string; mask: string | undefined } | undefined;
}

/** Options of {@link resolveTrainingData}. */
export interface ResolveTrainingOptions {
  /** Pass name for messages. */
  pass: string;
  /** Loss when neither the task nor the targets decide (e.g. 'kl' for distillation). */
  defaultLoss?: TrainingLoss | undefined;
  /** Losses this caller can train with (default: all but `kl`). */
  losses?: readonly TrainingLoss[] | undefined;
}

const isIntDType = (d: DType): boolean => /^u?int/.test(d) || d === 'bool';
const sizeOf = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The graph inputs that are not initializers. */
function dataInputs(model: Model): string[] {
  return model.graph.inputs.filter((i) => !model.graph.initializers.has(i.name)).map((i) => i.name);
}

/**
 * Bring {@link TrainingData} of either form to one: feeds by input name checked against the
 * model's inputs and the sample count, targets, and the task with its defaults (loss from the
 * targets, the first graph output, class axis -1). Throws {@link TrainingDataError} naming what
 * does not fit.
 */
export function resolveTrainingData(data: TrainingData | undefined, model: Model, opts: ResolveTrainingOptions): ResolvedTrainingData {
  const { pass } = opts;
  if (!data) throw new TrainingDataError(pass, 'needs training data (ctx.training / --data <csv|npz|jsonl|folder|…>)');
  const inputs = dataInputs(model);
  const feeds: Record<string, SampleArray> = {};
  let count: number;
  if (data.feeds && Object.keys(data.feeds).length) {
    if (data.x) throw new TrainingDataError(pass, 'give either feeds (by input name) or x/sampleShape, not both');
    count = -1;
    for (const [name, a] of Object.entries(data.feeds)) {
      if (!inputs.includes(name)) throw new TrainingDataError(pass, `the data feeds '${name}', which is not an input of the model (inputs: ${inputs.join(', ')})`);
      const n = a.shape[0] ?? 0;
      if (a.data.length !== sizeOf(a.shape)) throw new TrainingDataError(pass, `input '${name}' holds ${a.data.length} values, not shape [${a.shape.join(', ')}]`);
      if (count >= 0 && n !== count) throw new TrainingDataError(pass, `input '${name}' has ${n} sample(s), the other inputs ${count}`);
      count = n;
      feeds[name] = a;
    }
  } else if (data.x) {
    const sampleShape = data.sampleShape;
    if (!sampleShape) throw new TrainingDataError(pass, 'x needs sampleShape (the shape of one sample, e.g. [1, 28, 28])');
    const name = data.inputName ?? inputs[0];
    if (!name || !inputs.includes(name)) throw new TrainingDataError(pass, `input '${name ?? '(none)'}' is not an input of the model (inputs: ${inputs.join(', ') || 'none'})`);
    const per = sizeOf(sampleShape);
    count = data.x.length / per;
    if (!Number.isInteger(count)) throw new TrainingDataError(pass, `${data.x.length} values are not a whole number of samples of shape [${sampleShape.join(', ')}]`);
    feeds[name] = { data: data.x, shape: [count, ...sampleShape], dtype: 'float32' };
  } else throw new TrainingDataError(pass, 'the training data holds no samples (neither feeds nor x)');
  if (count <= 0) throw new TrainingDataError(pass, 'the training data holds no samples');
  const missing = inputs.filter((i) => !feeds[i]);
  if (missing.length) throw new TrainingDataError(pass, `no data for model input(s) ${missing.map((m) => `'${m}'`).join(', ')}; the data feeds ${Object.keys(feeds).map((m) => `'${m}'`).join(', ')}`);

  let targets: SampleArray | undefined = data.targets;
  if (targets && data.labels) throw new TrainingDataError(pass, 'give either labels (one per sample) or targets, not both');
  if (!targets && data.labels) targets = { data: data.labels, shape: [data.labels.length], dtype: 'int32' };
  if (targets) {
    if (targets.shape[0] !== count) throw new TrainingDataError(pass, `${targets.shape[0]} target(s)/label(s) for ${count} sample(s); give one per sample`);
    if (targets.data.length !== sizeOf(targets.shape)) throw new TrainingDataError(pass, `targets hold ${targets.data.length} values, not shape [${targets.shape.join(', ')}]`);
  }

  const t = data.task ?? {};
  const outputs = model.graph.outputs.map((o) => o.name);
  // the loss needs float scores: skip a first output of integer labels (a classifier exported with
  // its argmax first, like skl2onnx's output_label beside output_probability)
  const floatOutput = model.graph.outputs.find((o) => o.type?.kind === 'tensor' && /^(float|bfloat)/.test(o.type.elemType ?? ''))?.name;
  const output = t.output ?? floatOutput ?? outputs[0];
  if (!output) throw new TrainingDataError(pass, 'the model has no output to train');
  if (!outputs.includes(output)) throw new TrainingDataError(pass, `'${output}' is not an output of the model (outputs: ${outputs.join(', ')}); name one with --loss-output`);
  const ids = feeds['input_ids'] && isIntDType(feeds['input_ids'].dtype) ? 'input_ids' : undefined;
  // a language model's logits are [batch, sequence, vocabulary]; a sequence classifier's are not
  const outType = model.graph.outputs.find((o) => o.name === output)?.type;
  const outRank = outType?.kind === 'tensor' ? outType.shape?.length : undefined;
  const lmShaped = ids !== undefined && (outRank === undefined || outRank === 3);
  const loss: TrainingLoss =
    t.loss ?? (targets ? (isIntDType(targets.dtype) ? 'ce' : 'mse') : lmShaped ? 'lm' : opts.defaultLoss ?? 'ce');
  const allowed = opts.losses ?? ['ce', 'lm', 'mse'];
  if (!allowed.includes(loss)) throw new TrainingDataError(pass, `loss '${loss}' is not one this pass trains with (${allowed.join(', ')})`);
  if (loss === 'ce' && !targets) {
    // the way out depends on the model: next-token loss needs token ids; otherwise a teacher
    const tokenModel = Object.values(feeds).some((f) => isIntDType(f.dtype));
    const way = tokenModel ? 'or --loss lm for a language model' : "or, without labels, learn from the original model's outputs (whittle distill --teacher)";
    throw new TrainingDataError(pass, `loss ce needs labeled training data (integer labels or targets); the data has none (give a label column / labels array, ${way})`);
  }
  if (loss === 'ce' && !isIntDType(targets!.dtype)) throw new TrainingDataError(pass, `loss ce needs integer class labels; the targets are ${targets!.dtype} (use --loss mse for regression)`);
  if (loss === 'mse' && !targets) throw new TrainingDataError(pass, 'loss mse needs float targets; the data has none');
  let tokens: ResolvedTrainingData['tokens'];
  if (loss === 'lm') {
    const tokenInput = ids ?? Object.keys(feeds).find((n) => isIntDType(feeds[n]!.dtype) && !/mask/i.test(n));
    if (!tokenInput) throw new TrainingDataError(pass, `loss lm needs an integer token input (input_ids); the data feeds ${Object.keys(feeds).join(', ')}`);
    if (feeds[tokenInput]!.shape.length < 2) throw new TrainingDataError(pass, `loss lm needs token sequences [samples, length]; '${tokenInput}' is [${feeds[tokenInput]!.shape.join(', ')}]`);
    const mask = feeds['attention_mask'] ? 'attention_mask' : undefined;
    tokens = { ids: tokenInput, mask };
  }
  const floatInputs = Object.entries(feeds).filter(([, a]) => a.dtype === 'float32');
  const image = Object.keys(feeds).length === 1 && floatInputs.length === 1 && floatInputs[0]![1].shape.length >= 3
    ? { input: floatInputs[0]![0], sampleShape: floatInputs[0]![1].shape.slice(1) }
    : undefined;
  return {
    count,
    feeds,
    targets,
    task: { loss, output, classAxis: t.classAxis ?? -1, ignoreIndex: t.ignoreIndex ?? -100, ...(isSoftmaxOutput(model, output, t.classAxis ?? -1) ? { probabilities: true } : {}) },
    image,
    tokens,
  };
}

/** Rows `idx` of an array (first axis = samples) as a new array. */
export function gatherRows(a: SampleArray, idx: ArrayLike<number>): SampleArray {
  const per = sizeOf(a.shape.slice(1));
  const out = allocStorage(a.dtype, idx.length * per);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    (out as Float32Array).set((a.data as Float32Array).subarray(i * per, (i + 1) * per), k * per);
  }
  return { data: out, shape: [idx.length, ...a.shape.slice(1)], dtype: a.dtype };
}

/** Options of {@link trainingBatches}. */
export interface TrainingBatchesOptions {
  batchSize: number;
  /** Shuffle with this generator (one permutation per call). */
  rng?: Rng | undefined;
  /** Image augmentation of the image input's batch copy (ignored for non-image data). */
  augment?: Augment | undefined;
  augmentRng?: Rng | undefined;
  backend?: BackendName | undefined;
}

/** Number of batches {@link trainingBatches} yields per epoch. */
export function batchCount(data: ResolvedTrainingData, batchSize: number): number {
  return Math.ceil(data.count / batchSize);
}

/**
 * Batches of resolved training data: `{ inputs, indices, targets? }` with every input of the
 * data as a tensor of its dtype (`targets`: the batch's targets in their dtype, int labels as
 * int64). Call once per epoch (a new shuffle each time when `rng` is given).
 */
export function* trainingBatches(data: ResolvedTrainingData, opts: TrainingBatchesOptions): Generator<Batch> {
  if (!(opts.batchSize >= 1)) throw new TrainingDataError('training', `batchSize must be >= 1, got ${opts.batchSize}`);
  const order = new Int32Array(data.count).map((_, i) => i);
  if (opts.rng) opts.rng.shuffle(order);
  const backend = opts.backend ? { backend: opts.backend } : {};
  for (let start = 0; start < data.count; start += opts.batchSize) {
    const idx = order.subarray(start, Math.min(data.count, start + opts.batchSize));
    const inputs: Record<string, Tensor> = {};
    for (const [name, a] of Object.entries(data.feeds)) {
      const rows = gatherRows(a, idx);
      if (opts.augment && data.image?.input === name) {
        const r = opts.augmentRng ?? opts.rng;
        if (!r) throw new TrainingDataError('training', 'augment needs a random generator (rng or augmentRng)');
        opts.augment(rows.data as Float32Array, idx.length, data.image.sampleShape, r);
      }
      inputs[name] = tensor(rows.data, [...rows.shape], rows.dtype, backend);
    }
    let labels: { values: ArrayLike<number | bigint>; shape: number[] } | undefined;
    let targets: Tensor | undefined;
    if (data.task.loss === 'lm' && data.tokens) {
      labels = shiftedTokens(gatherRows(data.feeds[data.tokens.ids]!, idx), data.tokens.mask ? gatherRows(data.feeds[data.tokens.mask]!, idx) : undefined, data.task.ignoreIndex);
    } else if (data.targets) {
      const rows = gatherRows(data.targets, idx);
      if (isIntDType(rows.dtype)) labels = { values: rows.data as ArrayLike<number | bigint>, shape: [...rows.shape] };
      else targets = tensor(rows.data, [...rows.shape], rows.dtype, backend);
    }
    if (labels) {
      // integer labels: ignored positions get weight 0 and a harmless class 0
      const n = labels.values.length;
      const ids = new BigInt64Array(n);
      const weights = new Float32Array(n);
      let weightSum = 0;
      let minLabel = Infinity;
      let maxLabel = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = Number(labels.values[i]!);
        if (v === data.task.ignoreIndex) continue;
        ids[i] = BigInt(v);
        weights[i] = 1;
        weightSum++;
        if (v < minLabel) minLabel = v;
        if (v > maxLabel) maxLabel = v;
      }
      // the label range lets the loss check the labels against the output's classes (see taskLoss)
      yield { inputs, indices: idx, targets: tensor(ids, labels.shape, 'int64', backend), weights: tensor(weights, labels.shape, 'float32', backend), weightSum, minLabel, maxLabel };
    } else yield { inputs, indices: idx, ...(targets ? { targets } : {}) };
  }
}

/**
 * Next-token labels of token sequences `[n, S]`: position t predicts token t + 1, so the labels
 * are `ids[:, 1:]` (shape `[n, S - 1]`), `ignoreIndex` where the attention mask marks padding.
 */
export function shiftedTokens(ids: SampleArray, mask: SampleArray | undefined, ignoreIndex = -100): { values: Float64Array; shape: number[] } {
  const [n, S] = [ids.shape[0]!, ids.shape[1]!];
  const rest = sizeOf(ids.shape.slice(2));
  if (rest !== 1) throw new TrainingDataError('training', `token ids must be [samples, length], got [${ids.shape.join(', ')}]`);
  if (S < 2) throw new TrainingDataError('training', `next-token training needs sequences of at least 2 tokens, got ${S}`);
  if (mask && (mask.shape[0] !== n || mask.shape[1] !== S)) throw new TrainingDataError('training', `attention_mask [${mask.shape.join(', ')}] does not match input_ids [${ids.shape.join(', ')}]`);
  const out = new Float64Array(n * (S - 1));
  for (let b = 0; b < n; b++) {
    for (let t = 1; t < S; t++) {
      const keep = !mask || Number((mask.data as ArrayLike<number | bigint>)[b * S + t]!) !== 0;
      out[b * (S - 1) + t - 1] = keep ? Number((ids.data as ArrayLike<number | bigint>)[b * S + t]!) : ignoreIndex;
    }
  }
  return { values: out, shape: [n, S - 1] };
}
