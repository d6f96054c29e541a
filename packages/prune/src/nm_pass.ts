import { cloneModel, definePass, defineOptions, throwIfAborted } from '@whittle/graph';
import { collectInputNorms } from './activations.js';
import { findPrunableWeights, weightKey } from './layers.js';
import { applyMasks, computeMasks } from './masks.js';
import { sparsityReport } from './report.js';
import { CONV_GEMM_MATMUL, calibratedOnly, maskReport } from './unstructured.js';
import { nothingToPrune } from './nothing.js';
import { sequentialWandaMasks } from './wanda_sequential.js';

const nmOptions = defineOptions({
  n: { type: 'number', integer: true, min: 0, default: 2, description: 'weights kept in each group' },
  m: { type: 'number', integer: true, min: 1, default: 4, description: 'group size along the input dimension (2:4, 4:8, …)' },
  method: { type: 'string', enum: ['magnitude', 'wanda'] as const, default: 'magnitude', description: "which weights of a group stay: largest 'magnitude' or largest 'wanda' score (needs calibration)" },
  include: { type: 'string[]', description: 'only these nodes / weight initializers (default: every Conv/Gemm/MatMul weight)' },
  exclude: { type: 'string[]', default: [], description: 'nodes / weight initializers to leave dense' },
  calibrationBatches: { type: 'number', integer: true, min: 1, description: 'calibration batches used for wanda (default: all)' },
  sequential: { type: 'boolean', default: false, description: 'wanda: score each layer on the activations of the already-pruned earlier layers (the official Wanda code\'s order); false: all norms from the dense model in one pass' },
  recordMasks: { type: 'boolean', default: false, description: 'put each keep-mask (base64 bitmap) in the report details' },
});

/**
 * `prune-nm`: N:M semi-structured sparsity (2:4, 4:8) along the input (reduction) dimension of
 * MatMul/Gemm weights and along the input channels of Conv weights (groups of `m` consecutive
 * input channels at each kernel position). Layers whose input dimension is not a multiple of `m`
 * are left dense and listed in the warnings. Check the result with {@link checkNMPattern}
 * (axis = `inputAxis` of the layer: Conv 1, Gemm transB=1 1, MatMul 0).
 */
export const pruneNM = definePass({
  specificationVersion: 'v1',
  name: 'prune-nm',
  cli: { group: 'prune', command: 'nm' },
  description: 'N:M semi-structured sparsity (e.g. 2:4) along the input dimension of Conv/Gemm/MatMul weights.',
  optionsSchema: nmOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (o.n > o.m) throw new RangeError(`prune-nm: n (${o.n}) must not exceed m (${o.m})`);
    const found = findPrunableWeights(model, { include: o.include, exclude: o.exclude, subgraphs: true });
    const warnings: string[] = [];
    const { weights: all, skipped: uncalibrated } = calibratedOnly(found, o.method === 'wanda', warnings);
    const weights = all.filter((w) => {
      const len = w.shape[w.inputAxis]!;
      if (len % o.m === 0) return true;
      warnings.push(`${w.node}: input dimension ${len} is not a multiple of ${o.m}; left dense`);
      return false;
    });
    // nothing to prune: said before any calibration data is read
    if (!weights.length) {
      const report = nothingToPrune('prune-nm', model, CONV_GEMM_MATMUL, warnings);
      report.stats = { subgraphWeights: 0, skippedSubgraphWeights: uncalibrated.length };
      report.details = { ...report.details, pattern: { n: o.n, m: o.m }, skipped: all.map((w) => w.node), ...(uncalibrated.length ? { uncalibrated } : {}) };
      return { model: cloneModel(model), report };
    }
    const before = await sparsityReport(model);
    const batches = o.calibrationBatches ? { maxBatches: o.calibrationBatches } : {};
    let masks;
    if (o.method === 'wanda' && o.sequential) {
      masks = await sequentialWandaMasks(cloneModel(model), weights, ctx.calibration, { nm: { n: o.n, m: o.m } }, { backend: ctx.backend, signal: ctx.signal, ...batches, pass: 'prune-nm', activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime, logger: ctx.logger, onStage: (f) => ctx.onProgress(f, 'sequential wanda') });
    } else {
      let norms;
      if (o.method === 'wanda') norms = await collectInputNorms(model, weights, ctx.calibration, { backend: ctx.backend, signal: ctx.signal, activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime, ...batches });
      masks = await computeMasks(model, weights, { method: o.method, nm: { n: o.n, m: o.m }, norms });
    }
    throwIfAborted(ctx.signal, 'prune-nm');
    const out = await applyMasks(model, masks);
    const report = await maskReport('prune-nm', out, masks, weights.map((w) => ({ node: w.node, weight: weightKey(w) })), before, o.recordMasks, warnings, `${o.n}:${o.m} ${o.method}${o.method === 'wanda' && o.sequential ? ' (sequential)' : ''}`);
    report.stats = { ...report.stats, subgraphWeights: weights.filter((w) => w.scope).length, skippedSubgraphWeights: uncalibrated.length };
    report.details = { ...report.details, pattern: { n: o.n, m: o.m }, axes: Object.fromEntries(weights.map((w) => [weightKey(w), w.inputAxis])), skipped: all.filter((w) => !weights.includes(w)).map((w) => w.node), ...(uncalibrated.length ? { uncalibrated } : {}) };
    ctx.onProgress(1, 'done');
    return { model: out, report };
  },
});
