import { type PassContext, PassOptionsError, batchCount, defineOptions, definePass, randomShift, resolveTrainingData, taskLoss, trainingBatches } from '@whittle/graph';
import { Adam, Rng } from '@whittle/tensor';
import { constantSparsity, fineTuneWithMasks, polynomialDecay } from './gradual.js';
import { findPrunableWeights } from './layers.js';
import { applyMasks, computeMasks } from './masks.js';
import { sparsityReport } from './report.js';
import { nothingToPrune } from './nothing.js';
import { CONV_GEMM_MATMUL, calibratedOnly, maskReport } from './unstructured.js';

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
  nm: {
    type: 'string',
    description: "N:M pattern such as '2:4' or '4:8': prune every weight to it by magnitude before training and hold it throughout (targetSparsity, schedule and scope are then not used); layers whose input dimension is not a multiple of M stay dense",
  },
  include: { type: 'string[]', description: 'only these nodes / weight initializers (default: every Conv/Gemm/MatMul weight)' },
  exclude: { type: 'string[]', default: [], description: 'nodes / weight initializers left dense' },
});

/** Parse an N:M pattern option ('2:4') or throw a typed options error. */
function parseNM(v: string): { n: number; m: number } {
  const r = /^(\d+):(\d+)$/.exec(v.trim());
  const n = r ? Number(r[1]) : NaN;
  const m = r ? Number(r[2]) : NaN;
  if (!r || !(m >= 1) || n > m) throw new PassOptionsError('prune-gradual', `prune-gradual: option nm must look like '2:4' (N <= M, M >= 1), got '${v}'`);
  return { n, m };
}

/**
 * `prune-gradual`: magnitude pruning interleaved with training on `ctx.training` (any task:
 * class labels of any shape, next-token loss for language models, float targets):
 * masks are recomputed on a schedule and held after every optimizer step, so the network
 * adapts while it loses weights — the iterative prune/fine-tune of Deep Compression and
 * TF-MOT's `prune_low_magnitude`. With `nm` (e.g. '2:4') the N:M pattern is set by magnitude
 * before training and held throughout instead (fine-tuning for semi-structured sparsity).
 */
export const pruneGradual = definePass({
  specificationVersion: 'v1',
  name: 'prune-gradual',
  cli: { group: 'prune', command: 'gradual' },
  description: 'Gradual magnitude pruning with fine-tuning on the training data (polynomial or constant schedule, global or layer-wise).',
  optionsSchema: gradualOptions,
  async run(model, ctx: PassContext<ReturnType<typeof gradualOptions.parse>>) {
    const o = ctx.options;
    // any task: labels of any shape, next-token (lm) or float targets (mse); see resolveTrainingData
    const data = resolveTrainingData(ctx.training, model, { pass: 'prune-gradual' });
    const nm = o.nm !== undefined ? parseNM(o.nm) : undefined;
    const warnings: string[] = [];
    // training runs the main graph's float32 parameters; weights inside If/Loop/Scan bodies are skipped and listed
    const { weights: all, skipped } = calibratedOnly(findPrunableWeights(model, { include: o.include, exclude: o.exclude, subgraphs: true, dtypes: ['float32'] }), true, warnings, 'training updates main-graph weights only');
    const weights = nm
      ? all.filter((w) => (w.shape[w.inputAxis]! % nm.m === 0 ? true : (warnings.push(`${w.node}: input dimension ${w.shape[w.inputAxis]} is not a multiple of ${nm.m}; left dense`), false)))
      : all;
    // every layer out of reach (inside If/Loop/Scan subgraphs): nothing to prune, before any training
    if (!all.length) return { model, report: nothingToPrune('prune-gradual', model, CONV_GEMM_MATMUL, warnings) };
    if (nm && !weights.length) throw new PassOptionsError('prune-gradual', `prune-gradual: no layer's input dimension is a multiple of ${nm.m} (nm '${o.nm}')`);
    const before = await sparsityReport(model);
    // N:M: the pattern is fixed up front (magnitude) and only held while training
    const nmMasks = nm ? await computeMasks(model, weights, { method: 'magnitude', nm }) : undefined;
    const start = nmMasks ? await applyMasks(model, nmMasks) : model;
    const held = nm ? { include: weights.map((w) => w.weight), exclude: [] as string[] } : { include: o.include, exclude: o.exclude };
    const batches = batchCount(data, o.batchSize);
    const total = batches * o.epochs;
    const endStep = Math.max(2, Math.round(total * o.rampFraction));
    // a single optimizer step (few samples, one epoch) cannot hold a ramp that ends at step 2:
    // its only mask update would prune to the initial sparsity; prune to the target at that step
    const oneStep = total < 2 && !nm;
    if (oneStep) warnings.push(`one training step in all (${batches} batch(es) of ${o.batchSize} × ${o.epochs} epoch(s)): pruned to ${(o.targetSparsity * 100).toFixed(1)} % at once, with no ramp or recovery; more data, more epochs or a smaller batchSize give the schedule room`);
    const schedule =
      o.schedule === 'constant' || oneStep
        ? constantSparsity({ targetSparsity: o.targetSparsity, beginStep: 1, frequency: oneStep ? 1 : o.frequency })
        : polynomialDecay({ initialSparsity: o.initialSparsity, finalSparsity: o.targetSparsity, beginStep: 1, endStep, frequency: o.frequency });
    const augmentRng = new Rng(ctx.seed + 0x5eed);
    let optimizer: Adam | undefined;
    const r = await fineTuneWithMasks(start, {
      epochs: o.epochs,
      batchesPerEpoch: batches,
      data: () => trainingBatches(data, { batchSize: o.batchSize, rng: ctx.rng, backend: ctx.backend, ...(o.shift && data.image ? { augment: randomShift(o.shift), augmentRng } : {}) }),
      loss: (outputs, batch) => taskLoss(data.task, outputs, batch),
      optimizer: (params) => (optimizer = new Adam(params, { lr: o.lr })),
      callbacks: { onEpochEnd: () => void (optimizer!.lr *= o.lrDecay) },
      backend: ctx.backend,
      ...(nmMasks ? { masks: nmMasks } : { schedule, scope: o.scope }),
      include: held.include,
      exclude: held.exclude,
      onProgress: (f, m) => ctx.onProgress(f, m),
      signal: ctx.signal,
    });
    const report = await maskReport('prune-gradual', r.model, r.masks, weights.map((w) => ({ node: w.node, weight: w.weight })), before, false, warnings, nm ? `${nm.n}:${nm.m} pattern held, ${o.epochs} epochs` : `${o.schedule} schedule to ${(o.targetSparsity * 100).toFixed(1)} % (${o.scope}), ${o.epochs} epochs`);
    if (skipped.length) report.stats = { ...report.stats, skippedSubgraphWeights: skipped.length };
    report.details = { ...report.details, losses: r.history.map((h) => h.loss), maskUpdates: r.updates.length, ...(skipped.length ? { skipped } : {}), ...(nm ? { pattern: nm, axes: Object.fromEntries(weights.map((w) => [w.weight, w.inputAxis])) } : {}) };
    return { model: r.model, report };
  },
});
