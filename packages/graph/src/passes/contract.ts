import type { BackendName, DType, Rng, StorageArray, Tensor } from '@whittle/tensor';
import type { Model } from '../ir/types.js';
import type { OptionsSchema } from './options.js';
import type { ActivationRuntime, CalibrationRuntimeChoice } from './activations.js';

/** Model inputs by name. */
export type Feeds = Record<string, Tensor>;

/** Minimal logger interface (console-compatible). */
export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/** An n-d array of samples as read from data: row-major storage; the first axis counts the samples. */
export interface SampleArray {
  data: StorageArray;
  shape: readonly number[];
  dtype: DType;
}

/**
 * The loss a training pass optimizes: `ce` cross-entropy against integer labels (any shape, class
 * axis configurable), `lm` next-token loss of a language model (labels are `input_ids` shifted
 * by one, padding masked by `attention_mask`), `mse` against float targets (regression), `kl`
 * Kullback–Leibler divergence to a teacher's outputs (distillation).
 */
export type TrainingLoss = 'ce' | 'lm' | 'mse' | 'kl';

/** What the samples train for: the loss and the graph output it reads. */
export interface TrainingTask {
  /**
   * Default: `ce` with integer targets/labels, `mse` with float targets, `lm` without targets when
   * the model has an integer `input_ids` input (distillation: `kl`).
   */
  loss?: TrainingLoss | undefined;
  /** Graph output the loss reads (default: the first graph output). */
  output?: string | undefined;
  /** Class axis of the output for `ce`/`kl` (default -1, the last). */
  classAxis?: number | undefined;
  /** Labels equal to this are ignored by `ce`/`lm` (default -100, as in PyTorch). */
  ignoreIndex?: number | undefined;
}

/**
 * In-memory samples for passes that train: fine-tuning, fine-tuning after pruning or
 * factorization, quantization-aware training, centroid fine-tuning, distillation.
 *
 * Two forms. The general one: `feeds` by graph input name (several inputs per sample, any dtype —
 * float features, int64 token ids, attention masks; the first axis counts the samples, the other
 * dims are the model's, dynamic ones taken from the data) with `labels` (one integer class per
 * sample), `targets` (integer labels of any shape, e.g. one per position, or float regression
 * targets) or neither (distillation; language models derive next-token labels from `input_ids`).
 * The image-classifier shorthand: `x` (float32 samples of `sampleShape`) with `labels`, feeding
 * `inputName` (default: the first input). Image augmentations apply when a single float input of
 * rank >= 3 per sample is fed.
 */
export interface TrainingData {
  /** Samples by graph input name; every array's first axis counts the samples. */
  feeds?: Readonly<Record<string, SampleArray>> | undefined;
  /** Targets of any shape `[count, ...]`: integer class labels (`ce`) or float values (`mse`). */
  targets?: SampleArray | undefined;
  /** What to train for (loss, output, class axis); defaults from the targets. */
  task?: TrainingTask | undefined;
  /** Shorthand: samples, row-major, `count * prod(sampleShape)` float32 values. */
  x?: Float32Array | undefined;
  /** One integer class label per sample (either form); absent for label-free training. */
  labels?: Int32Array | undefined;
  /** Shorthand: shape of one sample, e.g. [1, 28, 28]. */
  sampleShape?: readonly number[] | undefined;
  /** Shorthand: graph input the samples feed (default: the first non-initializer input). */
  inputName?: string | undefined;
}

/** What a pass receives besides the model. */
export interface PassContext<O = Record<string, unknown>> {
  /** Backend to compute on ('cpu' or 'webgpu'). */
  backend: BackendName;
  /** Sample inputs for calibration (quantization ranges, pruning statistics, …). */
  calibration?: AsyncIterable<Feeds> | undefined;
  /**
   * Runtime that computes forward activations for calibrating passes (onnxruntime, injected by the
   * Node entry points); absent: Whittle's interpreter. See `collectActivations`.
   */
  activationRuntime?: ActivationRuntime | undefined;
  /** 'auto' (default): `activationRuntime` when set; 'interpreter' or 'onnxruntime' force one. */
  calibrationRuntime?: CalibrationRuntimeChoice | undefined;
  /** Training samples for passes that fine-tune (they fail with a clear error without it). */
  training?: TrainingData | undefined;
  /**
   * Named objects a pass may need that are not options (JSON cannot carry them): e.g. a
   * distillation teacher runner. Each pass documents the keys it reads.
   */
  resources?: Readonly<Record<string, unknown>> | undefined;
  logger: Logger;
  /** Report progress of this pass: `fraction` in [0, 1]. */
  onProgress(fraction: number, message?: string): void;
  /** Abort the pass (passes check it between units of work; see `throwIfAborted`). */
  signal: AbortSignal;
  /** Seed of this run; `rng` is seeded from it. */
  seed: number;
  /** The only source of randomness a pass may use. */
  rng: Rng;
  /** Options parsed by the pass's schema (defaults applied). */
  options: O;
}

/** What a pass reports about its run (shown by the CLI, playground and recipe results). */
export interface PassReport {
  /** Whether the model changed. */
  changed: boolean;
  /** One-line human summary. */
  summary: string;
  /** Numbers worth tabulating (nodes removed, bytes saved, …). */
  stats?: Record<string, number>;
  warnings?: string[];
  /** Anything else (lists of layers, per-layer numbers, …); should be JSON-serializable. */
  details?: Record<string, unknown>;
}

/** Result of running a pass. */
export interface PassResult {
  model: Model;
  report: PassReport;
}

/**
 * A graph transformation, versioned like vercel/ai's provider specifications: a pass written
 * against `specificationVersion: 'v1'` keeps working as long as the runner accepts v1.
 *
 * Contract: `run` must not modify the model it receives (clone it with `cloneModel`, and replace
 * initializer tensors rather than writing into them), must use only `ctx.rng` for randomness,
 * should check `ctx.signal` between units of work, and must return a model that passes
 * `validateModel`.
 */
export interface Pass<O = Record<string, unknown>> {
  readonly specificationVersion: 'v1';
  /** Registry name, kebab-case (e.g. 'fold-batchnorm'). */
  readonly name: string;
  /** One sentence: what the pass does. */
  readonly description: string;
  /** Documented options; without one, any option given is rejected. */
  readonly optionsSchema?: OptionsSchema<O>;
  /** Its `whittle` command, when it has one. */
  readonly cli?: PassCli;
  run(model: Model, ctx: PassContext<O>): Promise<PassResult>;
}

/**
 * Where a pass appears in the `whittle` CLI: `whittle <group> <command> <model> -o out`, with
 * one flag per option of its schema (a top-level `whittle <command>` without `group`). The CLI
 * builds its commands from the registered passes, so a pass declaring this needs no CLI edit.
 */
export interface PassCli {
  /** Command group, e.g. 'quantize', 'prune', 'factorize'; omitted: a top-level command. */
  readonly group?: string;
  /** Subcommand name (kebab-case), e.g. 'static'. */
  readonly command: string;
  /** A registered pass the command runs right after this one (e.g. SmoothQuant, then static quantization). */
  readonly then?: string;
  /** Command description when it differs from the pass's own. */
  readonly description?: string;
  /** An analysis: the report is the result and no model is written. */
  readonly analysis?: boolean;
}

/** A pass of any options type (what the registry stores). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPass = Pass<any>;

/** Identity helper that types a pass object (options inferred from its schema). */
export function definePass<O>(pass: Pass<O>): Pass<O> {
  return pass;
}
