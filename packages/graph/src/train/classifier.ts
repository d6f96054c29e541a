import { type BackendName, Adam, ArgumentError, Rng, SGD, crossEntropy, engine, tensor, type Tensor } from '@whittle/tensor';
import type { Model } from '../ir/types.js';
import { GraphModule } from './graph_module.js';
import { fit, type EpochResult } from './fit.js';
import { arrayBatches } from './data.js';
import { type Augment, type MixupResult, mixupTargets } from './augment.js';

/** Options of {@link trainClassifier}. */
export interface TrainClassifierOptions {
  /** Training samples, row-major, `count * prod(sampleShape)` values. */
  x: Float32Array;
  labels: Int32Array;
  /** Shape of one sample, e.g. [1, 28, 28]. */
  sampleShape: readonly number[];
  epochs: number;
  batchSize?: number;
  optimizer?: 'adam' | 'sgd';
  lr?: number;
  /** Multiply the learning rate by this after every epoch (default 1). */
  lrDecay?: number;
  weightDecay?: number;
  momentum?: number;
  seed?: number;
  /** Batch augmentation (e.g. {@link randomShift}), drawn from its own generator seeded by `seed`. */
  augment?: Augment;
  /**
   * Mixup (Zhang et al. 2018) after `augment`: each batch's images are mixed in pairs with
   * weights ~ Beta(mixup, mixup) and trained on the equally mixed one-hot labels (0/absent: off).
   * Drawn from its own generator seeded by `seed`, so `distill` with the same seed mixes the same
   * pairs with the same weights.
   */
  mixup?: number;
  backend?: BackendName;
  /** Graph input and logits output names (default: the first input/output). */
  inputName?: string;
  outputName?: string;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
}

/** Seed offset of the mixup generator (shared by `trainClassifier` and `distill`, so both mix alike). */
export const MIXUP_SEED_OFFSET = 0x313c;

/** Trained model plus per-epoch history. */
export interface TrainClassifierResult {
  model: Model;
  history: EpochResult[];
}

/**
 * Train a classification graph (logits output) with cross-entropy on labeled arrays: the plain
 * supervised recipe used for the MNIST baselines and teachers. Deterministic for a given seed.
 */
export async function trainClassifier(model: Model, opts: TrainClassifierOptions): Promise<TrainClassifierResult> {
  const inputName = opts.inputName ?? model.graph.inputs.find((i) => !model.graph.initializers.has(i.name))?.name;
  const outputName = opts.outputName ?? model.graph.outputs[0]?.name;
  if (!inputName || !outputName) throw new ArgumentError('trainClassifier: the model needs an input and an output');
  const module = await GraphModule.create(model, opts.backend ? { backend: opts.backend } : {});
  const lr = opts.lr ?? (opts.optimizer === 'sgd' ? 0.05 : 1e-3);
  const params = module.parameterList();
  const optimizer =
    opts.optimizer === 'sgd'
      ? new SGD(params, { lr, momentum: opts.momentum ?? 0.9, weightDecay: opts.weightDecay ?? 0 })
      : new Adam(params, { lr, weightDecay: opts.weightDecay ?? 0 });
  const rng = new Rng(opts.seed ?? 0);
  // a separate stream keeps the shuffle order of un-augmented recipes unchanged
  const augmentRng = new Rng((opts.seed ?? 0) + 0x5eed);
  const batchSize = opts.batchSize ?? 64;
  const batches = Math.ceil(opts.labels.length / batchSize);
  const mixupRng = new Rng((opts.seed ?? 0) + MIXUP_SEED_OFFSET);
  const history = await fit(module, {
    epochs: opts.epochs,
    batchesPerEpoch: batches,
    data: () => arrayBatches({ x: opts.x, labels: opts.labels, sampleShape: opts.sampleShape, batchSize, inputName, rng, ...(opts.augment ? { augment: opts.augment, augmentRng } : {}), ...(opts.mixup ? { mixup: opts.mixup, mixupRng } : {}), ...(opts.backend ? { backend: opts.backend } : {}) }),
    loss: (outputs, batch) => {
      const logits = outputs.get(outputName)!;
      const mix = batch.mix as MixupResult | undefined;
      if (!mix) return crossEntropy(logits, batch.labels as Tensor);
      const idx = batch.indices as Int32Array;
      const targets = mixupTargets(Array.from(idx, (i) => opts.labels[i]!), mix, logits.shape[1]!);
      return crossEntropy(logits, tensor(targets, [idx.length, logits.shape[1]!], 'float32', { backend: logits.backend }));
    },
    optimizer,
    callbacks: { onEpochEnd: () => void (optimizer.lr *= opts.lrDecay ?? 1) },
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const trained = await module.toModel();
  optimizer.dispose();
  module.dispose();
  return { model: trained, history };
}

/** Class predictions of a classifier run by Whittle's interpreter (batched, no gradients). */
export async function predictClasses(
  model: Model,
  x: Float32Array,
  sampleShape: readonly number[],
  opts: { batchSize?: number; backend?: BackendName; inputName?: string; outputName?: string } = {},
): Promise<Int32Array> {
  const { runModel } = await import('../interpreter/run.js');
  const inputName = opts.inputName ?? model.graph.inputs.find((i) => !model.graph.initializers.has(i.name))!.name;
  const outputName = opts.outputName ?? model.graph.outputs[0]!.name;
  const per = sampleShape.reduce((p, d) => p * d, 1);
  const n = x.length / per;
  const out = new Int32Array(n);
  const bs = opts.batchSize ?? 256;
  for (let s = 0; s < n; s += bs) {
    const m = Math.min(bs, n - s);
    const feed = tensor(x.subarray(s * per, (s + m) * per).slice(), [m, ...sampleShape], 'float32', opts.backend ? { backend: opts.backend } : {});
    const res = await engine().noGradAsync(() => runModel(model, { [inputName]: feed }, opts.backend ? { backend: opts.backend } : {}));
    const logits = await res.get(outputName)!.toFloat64();
    const c = logits.length / m;
    for (let i = 0; i < m; i++) {
      let best = 0;
      for (let k = 1; k < c; k++) if (logits[i * c + k]! > logits[i * c + best]!) best = k;
      out[s + i] = best;
    }
  }
  return out;
}
