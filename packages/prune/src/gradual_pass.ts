import { type PassContext, PassDataError, arrayBatches, defineOptions, definePass, randomShift } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { Adam, crossEntropy, type Tensor } from '@whittle/tensor';
import { constantSparsity, fineTuneWithMasks, polynomialDecay } from './gradual.js';
import { findPrunableWeights } from './layers.js';
import { sparsityReport } from './report.js';
import { maskReport } from './unstructured.js';

/** Options of `prune-gradual`. */
export const gradualOptions = defineOptions({
  targetSparsity: { type: 'number', min: 0, max: 0.999, default: 0.9, description: 'final fraction of the selected weights that are zero' },
  scope: { type: 'string', enum: ['global', 'layer'] as const, default: 'global', description: "'global': one magnitude threshold over all layers; 'layer': every layer to the same sparsity" },
  schedule: { type: 'string', enum: ['polynomial', 'constant'] as const, default: 'polynomial', description: "'polynomial': sparsity rises from initialSparsity to the target (TF-MOT PolynomialDecay, power 3); 'constant': prune to the target at once, then hold" },
  initialSparsity: { type: 'number', min: 0, max: 0.999, default: 0, description: 'sparsity at the first pruning step (polynomial schedule)' },
  epochs: { type: 'number', integer: true, min: 1, default: 4, description: 'training epochs in all (pruning ramp plus recovery)' },
  rampFraction: { type: 'number', min: 0.01, max: 1, default: 0.6, description: 'fraction of the training steps over which the polynomial ramp reaches the target; the rest recovers at the final sparsity' },
  frequency: { type: 'number', integer: true, min: 1, default: 10, description: 'optimizer steps between mask updates' },
  lr: { type: 'number', min: 0, default: 5e-4, description: 'Adam learning rate' },
  lrDecay: { type: 'number', min: 0, max: 1, default: 1, description: 'learning-rate factor applied after every epoch' },
  shift: { type: 'number', integer: true, min: 0, max: 8, default: 0, description: 'augment image batches with random shifts of up to this many pixels (use the recipe the model was trained with)' },
  batchSize: { type: 'number', integer: true, min: 1, default: 64, description: 'training batch size' },
  include: { type: 'string[]', description: 'only these nodes / weight initializers (default: every Conv/Gemm/MatMul weight)' },
  exclude: { type: 'string[]', default: [], description: 'nodes / weight initializers left dense' },
});

/**
 * `prune-gradual`: magnitude pruning interleaved with training on `ctx.training` (labeled):
 * masks are recomputed on a schedule and held after every optimizer step, so the network
 * adapts while it loses weights — the iterative prune/fine-tune of Deep Compression and
 * TF-MOT's `prune_low_magnitude`.
 */
export const pruneGradual = definePass({
  specificationVersion: 'v1',
  name: 'prune-gradual',
  description: 'Gradual magnitude pruning with fine-tuning on the training data (polynomial or constant schedule, global or layer-wise).',
  optionsSchema: gradualOptions,
  async run(model, ctx: PassContext<ReturnType<typeof gradualOptions.parse>>) {
    const o = ctx.options;
    const data = ctx.training;
    if (!data?.labels) throw new PassDataError('prune-gradual', 'prune-gradual: needs labeled training data (ctx.training with labels / --data)');
    const labels = data.labels;
    const inputName = data.inputName ?? model.graph.inputs.find((i) => !model.graph.initializers.has(i.name))?.name;
    const outputName = model.graph.outputs[0]?.name;
    if (!inputName || !outputName) throw new PassDataError('prune-gradual', 'prune-gradual: the model needs an input and an output to train');
    const weights = findPrunableWeights(model, { include: o.include, exclude: o.exclude });
    const before = await sparsityReport(model);
    const batches = Math.ceil(labels.length / o.batchSize);
    const total = batches * o.epochs;
    const endStep = Math.max(2, Math.round(total * o.rampFraction));
    const schedule =
      o.schedule === 'constant'
        ? constantSparsity({ targetSparsity: o.targetSparsity, beginStep: 1, frequency: o.frequency })
        : polynomialDecay({ initialSparsity: o.initialSparsity, finalSparsity: o.targetSparsity, beginStep: 1, endStep, frequency: o.frequency });
    const augmentRng = new Rng(ctx.seed + 0x5eed);
    let optimizer: Adam | undefined;
    const r = await fineTuneWithMasks(model, {
      epochs: o.epochs,
      batchesPerEpoch: batches,
      data: () => arrayBatches({ x: data.x, labels, sampleShape: data.sampleShape, batchSize: o.batchSize, inputName, rng: ctx.rng, backend: ctx.backend, ...(o.shift ? { augment: randomShift(o.shift), augmentRng } : {}) }),
      loss: (outputs, batch) => crossEntropy(outputs.get(outputName)!, batch.labels as Tensor),
      optimizer: (params) => (optimizer = new Adam(params, { lr: o.lr })),
      callbacks: { onEpochEnd: () => void (optimizer!.lr *= o.lrDecay) },
      backend: ctx.backend,
      schedule,
      scope: o.scope,
      include: o.include,
      exclude: o.exclude,
      onProgress: (f, m) => ctx.onProgress(f, m),
      signal: ctx.signal,
    });
    const report = await maskReport('prune-gradual', r.model, r.masks, weights.map((w) => ({ node: w.node, weight: w.weight })), before, false, [], `${o.schedule} schedule to ${(o.targetSparsity * 100).toFixed(1)} % (${o.scope}), ${o.epochs} epochs`);
    report.details = { ...report.details, losses: r.history.map((h) => h.loss), maskUpdates: r.updates.length };
    return { model: r.model, report };
  },
});
