import { type Batch, type EpochResult, type FitCallbacks, type Model, GraphModule, type StepInfo, fit } from '@whittle/graph';
import { ArgumentError, type BackendName, type Optimizer, type Tensor, engine, mul, tensor } from '@whittle/tensor';
import { type PrunableWeight, findPrunableWeights, floatValues } from './layers.js';
import { type Masks, type PruneScope, computeMasks, masksFromZeros } from './masks.js';

/** A pruning schedule: when masks are updated, and to which sparsity. */
export interface PruningSchedule {
  /** True when the masks are recomputed at this (1-based) training step. */
  shouldPrune(step: number): boolean;
  /** Target sparsity at `step`. */
  sparsity(step: number): number;
}

function checkFraction(where: string, name: string, v: number): void {
  if (!(v >= 0 && v < 1)) throw new ArgumentError(`${where}: ${name} must be in [0, 1), got ${v}`);
}

/**
 * Constant sparsity (TF-MOT `ConstantSparsity`): from `beginStep`, every `frequency` steps, prune
 * to `targetSparsity` (until `endStep`; -1 = no end).
 */
export function constantSparsity(opts: { targetSparsity: number; beginStep?: number; endStep?: number; frequency?: number }): PruningSchedule {
  const { targetSparsity, beginStep = 0, endStep = -1, frequency = 100 } = opts;
  checkFraction('constantSparsity', 'targetSparsity', targetSparsity);
  if (!(frequency >= 1)) throw new ArgumentError(`constantSparsity: frequency must be >= 1, got ${frequency}`);
  return {
    shouldPrune: (step) => step >= beginStep && (endStep < 0 || step <= endStep) && (step - beginStep) % frequency === 0,
    sparsity: () => targetSparsity,
  };
}

/**
 * Polynomial decay (TF-MOT `PolynomialDecay`): sparsity rises from `initialSparsity` at
 * `beginStep` to `finalSparsity` at `endStep` as `final + (initial − final)·(1 − p)^power`,
 * p = (step − begin)/(end − begin) clipped to [0, 1]; masks update every `frequency` steps within
 * [beginStep, endStep] (default power 3, frequency 100).
 */
export function polynomialDecay(opts: { initialSparsity: number; finalSparsity: number; beginStep: number; endStep: number; frequency?: number; power?: number }): PruningSchedule {
  const { initialSparsity, finalSparsity, beginStep, endStep, frequency = 100, power = 3 } = opts;
  checkFraction('polynomialDecay', 'initialSparsity', initialSparsity);
  checkFraction('polynomialDecay', 'finalSparsity', finalSparsity);
  if (!(endStep > beginStep)) throw new ArgumentError(`polynomialDecay: endStep (${endStep}) must be greater than beginStep (${beginStep})`);
  if (!(frequency >= 1)) throw new ArgumentError(`polynomialDecay: frequency must be >= 1, got ${frequency}`);
  return {
    // TF-MOT also prunes at the end step itself so the final sparsity is reached
    shouldPrune: (step) => step >= beginStep && step <= endStep && ((step - beginStep) % frequency === 0 || step === endStep),
    sparsity: (step) => {
      const p = Math.min(1, Math.max(0, (step - beginStep) / (endStep - beginStep)));
      return finalSparsity + (initialSparsity - finalSparsity) * Math.pow(1 - p, power);
    },
  };
}

/** Options of {@link MaskController}. */
export interface MaskControllerOptions {
  /** Weights under control (default: every Conv/Gemm/MatMul weight that is a parameter). */
  weights?: readonly PrunableWeight[];
  /** Initial masks (default: all ones, or the zeros of the model with `fromZeros`). */
  masks?: Masks;
  /** Recompute masks on schedule (magnitude scores; pruned weights stay pruned). */
  schedule?: PruningSchedule;
  scope?: Exclude<PruneScope, 'row'>;
}

/**
 * Holds pruning masks on a {@link GraphModule} during training: after every optimizer step the
 * masked weights are set back to zero (so gradients and optimizer momentum never revive them),
 * and on schedule steps the masks are recomputed by magnitude to the schedule's sparsity.
 * Plug `callbacks()` into `fit()`.
 */
export class MaskController {
  readonly masks: Masks;
  private readonly maskTensors = new Map<string, Tensor>();
  /** (step, sparsity) of each mask update. */
  readonly updates: { step: number; sparsity: number }[] = [];

  constructor(
    private readonly module: GraphModule,
    private readonly weights: readonly PrunableWeight[],
    masks: Masks,
    private readonly opts: MaskControllerOptions,
  ) {
    this.masks = masks;
    for (const [name, m] of masks) this.upload(name, m);
  }

  static async create(module: GraphModule, opts: MaskControllerOptions = {}): Promise<MaskController> {
    const weights = (opts.weights ?? findPrunableWeights(module.model, { dtypes: ['float32'] })).filter((w) => module.parameters.has(w.weight));
    const masks: Masks = opts.masks ?? new Map(weights.map((w) => [w.weight, new Uint8Array(w.rows * w.cols).fill(1)]));
    return new MaskController(module, weights, masks, opts);
  }

  private upload(name: string, m: Uint8Array): void {
    const p = this.module.parameters.get(name);
    if (!p) throw new ArgumentError(`MaskController: '${name}' is not a trainable parameter of the module`);
    this.maskTensors.get(name)?.dispose();
    this.maskTensors.set(name, tensor(Float32Array.from(m), p.shape, 'float32', { backend: p.backend }));
  }

  /** Zero the masked weights of the module now. */
  apply(): void {
    engine().noGrad(() => {
      for (const [name, m] of this.maskTensors) {
        const p = this.module.parameters.get(name)!;
        const v = mul(p.detach(), m);
        this.module.setParameter(name, v);
        v.dispose();
      }
    });
  }

  /** Recompute masks by magnitude of the current weights to `sparsity` (pruned stay pruned). */
  async update(sparsity: number, step = 0): Promise<void> {
    const values = new Map<string, Float32Array>();
    for (const w of this.weights) values.set(w.weight, await floatValues(this.module.parameters.get(w.weight)!));
    const masks = await computeMasks(this.module.model, this.weights, { method: 'magnitude', sparsity, scope: this.opts.scope ?? 'layer', previous: this.masks, values });
    for (const [name, m] of masks) {
      this.masks.set(name, m);
      this.upload(name, m);
    }
    this.updates.push({ step, sparsity });
  }

  /** The afterStep callback: update masks on schedule, then re-apply them. */
  async afterStep(_module: GraphModule, info: StepInfo): Promise<void> {
    const s = this.opts.schedule;
    if (s?.shouldPrune(info.step)) await this.update(s.sparsity(info.step), info.step);
    this.apply();
  }

  callbacks(extra: FitCallbacks = {}): FitCallbacks {
    return {
      afterStep: async (m, info) => {
        await this.afterStep(m, info);
        await extra.afterStep?.(m, info);
      },
      ...(extra.onEpochEnd ? { onEpochEnd: extra.onEpochEnd } : {}),
    };
  }

  dispose(): void {
    for (const t of this.maskTensors.values()) t.dispose();
  }
}

/** Options of {@link fineTuneWithMasks} and {@link gradualPrune}. */
export interface FineTuneOptions {
  epochs: number;
  data: (epoch: number) => Iterable<Batch> | AsyncIterable<Batch>;
  batchesPerEpoch?: number;
  loss: (outputs: Map<string, Tensor>, batch: Batch) => Tensor;
  /** Builds the optimizer for the module's parameters. */
  optimizer: (params: Tensor[]) => Optimizer<unknown>;
  backend?: BackendName;
  /** Pruning schedule (gradual pruning); without one the given / current masks are only held. */
  schedule?: PruningSchedule;
  scope?: Exclude<PruneScope, 'row'>;
  /** Weights to prune / hold (node or initializer names; default all Conv/Gemm/MatMul). */
  include?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  /** Masks to hold; default: the current zeros of the weights (after one-shot pruning). */
  masks?: Masks;
  callbacks?: FitCallbacks;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

/** Result of fine-tuning: the trained model (masked weights exactly zero), history and masks. */
export interface FineTuneResult {
  model: Model;
  history: EpochResult[];
  masks: Masks;
  updates: { step: number; sparsity: number }[];
}

/**
 * Fine-tune a (pruned) model while holding its sparsity: masks (default: the model's current
 * zeros) are re-applied after every optimizer step; with a `schedule`, masks are recomputed by
 * magnitude as training goes (gradual pruning, e.g. {@link polynomialDecay}).
 */
export async function fineTuneWithMasks(model: Model, opts: FineTuneOptions): Promise<FineTuneResult> {
  // training updates float32 parameters only
  const weights = findPrunableWeights(model, { include: opts.include, exclude: opts.exclude, dtypes: ['float32'] });
  const masks = opts.masks ?? (opts.schedule ? undefined : await masksFromZeros(model, weights.map((w) => w.weight)));
  const module = await GraphModule.create(model, opts.backend ? { backend: opts.backend } : {});
  const ctl = await MaskController.create(module, { weights, ...(masks ? { masks } : {}), ...(opts.schedule ? { schedule: opts.schedule } : {}), ...(opts.scope ? { scope: opts.scope } : {}) });
  ctl.apply();
  const history = await fit(module, {
    epochs: opts.epochs,
    data: opts.data,
    loss: opts.loss,
    optimizer: opts.optimizer(module.parameterList()),
    callbacks: ctl.callbacks(opts.callbacks),
    ...(opts.batchesPerEpoch !== undefined ? { batchesPerEpoch: opts.batchesPerEpoch } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  ctl.apply();
  const out = await module.toModel();
  module.dispose();
  ctl.dispose();
  return { model: out, history, masks: ctl.masks, updates: ctl.updates };
}

/** Gradual magnitude pruning during training: {@link fineTuneWithMasks} with a required schedule. */
export async function gradualPrune(model: Model, opts: FineTuneOptions & { schedule: PruningSchedule }): Promise<FineTuneResult> {
  return fineTuneWithMasks(model, opts);
}
