import { type EpochResult, type Model, type TrainingData, GraphModule, resolveTrainingData, trainOnData } from '@whittle/graph';
import { type BackendName, type Tensor, Adam, ArgumentError, Rng } from '@whittle/tensor';

/** Value-name markers of the initializers the low-rank passes create. */
export const FACTOR_MARKERS = ['.lowrank_u', '.lowrank_v', '.tucker_in', '.tucker_core', '.tucker_out', '.svd_vertical', '.svd_horizontal'] as const;

/** True when an initializer name was created by a low-rank pass. */
export function isFactorName(name: string): boolean {
  return FACTOR_MARKERS.some((m) => name.includes(m));
}

/** Options of {@link fineTuneClassifier}. */
export interface FineTuneOptions {
  /** Training data of any task (feeds by input name, labels/targets or none for lm); or the shorthand below. */
  data?: TrainingData | undefined;
  /** Shorthand: training samples, row-major, `count * prod(sampleShape)` values. */
  x?: Float32Array;
  labels?: Int32Array;
  sampleShape?: readonly number[];
  epochs: number;
  batchSize?: number;
  /** Adam learning rate (default 5e-4). */
  lr?: number;
  /** Multiply the learning rate by this after each epoch (default 0.7). */
  lrDecay?: number;
  /** 'all' float weights (default) or only the low-rank 'factors'. */
  trainable?: 'all' | 'factors';
  seed?: number;
  backend?: BackendName;
  inputName?: string;
  outputName?: string;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

/**
 * Fine-tune a factorized classifier: the factors are ordinary initializers, so a
 * {@link GraphModule} trains them (with the rest of the weights unless `trainable: 'factors'`)
 * with Adam and the task's loss (cross-entropy on any output, next-token, MSE) through `trainOnData`. Returns a new model; the input is unchanged.
 */
export async function fineTuneClassifier(model: Model, opts: FineTuneOptions): Promise<{ model: Model; history: EpochResult[] }> {
  const given: TrainingData = opts.data ?? { x: opts.x, labels: opts.labels, sampleShape: opts.sampleShape, inputName: opts.inputName };
  const data = resolveTrainingData(opts.outputName ? { ...given, task: { ...given.task, output: opts.outputName } } : given, model, { pass: 'fineTuneClassifier' });
  const only = opts.trainable === 'factors';
  const module = await GraphModule.create(model, {
    ...(opts.backend ? { backend: opts.backend } : {}),
    ...(only ? { trainable: (name: string, t: Tensor) => t.dtype === 'float32' && isFactorName(name) } : {}),
  });
  if (module.parameters.size === 0) throw new ArgumentError('fineTuneClassifier: nothing to train (no factor initializers found)');
  const optimizer = new Adam(module.parameterList(), { lr: opts.lr ?? 5e-4 });
  const rng = new Rng(opts.seed ?? 0);
  const batchSize = opts.batchSize ?? 64;
  try {
    const history = await trainOnData(module, {
      data,
      epochs: opts.epochs,
      batchSize,
      optimizer,
      rng,
      backend: opts.backend,
      callbacks: { onEpochEnd: () => void (optimizer.lr *= opts.lrDecay ?? 0.7) },
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    return { model: await module.toModel(), history };
  } finally {
    optimizer.dispose();
    module.dispose();
  }
}
