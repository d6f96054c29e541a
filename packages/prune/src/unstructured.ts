import { type Model, type PassReport, cloneModel, definePass, defineOptions, throwIfAborted } from '@whittle/graph';
import { collectInputNorms } from './activations.js';
import { type PrunableWeight, findPrunableWeights, floatValues, packMask, countZeros, resolveWeightKey, weightKey } from './layers.js';
import { type Masks, applyMasks, computeMasks } from './masks.js';
import { type PrunedOps, nothingToPrune } from './nothing.js';
import { sparsityReport, statsOf } from './report.js';
import { sequentialWandaMasks } from './wanda_sequential.js';

const unstructuredOptions = defineOptions({
  sparsity: { type: 'number', min: 0, max: 1, default: 0.5, description: 'fraction of the selected weights set to zero' },
  method: { type: 'string', enum: ['magnitude', 'random', 'wanda'] as const, default: 'magnitude', description: "importance score: 'magnitude' |w| (L1), 'random' (baseline, seeded by ctx.rng), 'wanda' |w|·‖x‖₂ over calibration inputs" },
  scope: { type: 'string', enum: ['layer', 'global', 'row'] as const, description: "which weights compete: each 'layer' to the same sparsity, 'global' one threshold over all layers, each output 'row' (Wanda's comparison group). Default: 'row' for wanda, else 'layer'" },
  layerSparsity: { type: 'object', description: 'per-layer sparsity overrides {nodeOrWeightName: fraction} (scope layer/row)' },
  include: { type: 'string[]', description: 'only these nodes / weight initializers (default: every Conv/Gemm/MatMul weight)' },
  exclude: { type: 'string[]', default: [], description: 'nodes / weight initializers to leave dense' },
  calibrationBatches: { type: 'number', integer: true, min: 1, description: 'calibration batches used for wanda (default: all)' },
  sequential: { type: 'boolean', default: false, description: 'wanda: score each layer on the activations of the already-pruned earlier layers (the official Wanda code\'s order); false: all norms from the dense model in one pass' },
  recordMasks: { type: 'boolean', default: false, description: 'put each keep-mask (base64 bitmap, LSB first, 1 = kept) in the report details' },
});

/** Parsed options of {@link pruneUnstructured}. */
export type UnstructuredOptions = ReturnType<typeof unstructuredOptions.parse>;

/**
 * `prune-unstructured`: zero the least important weights of Conv/Gemm/MatMul layers to a target
 * sparsity (magnitude, random or Wanda scores; per layer, global or per output row). Zeros stay
 * in dense storage; the size gain shows under compression (gzip numbers in the report).
 */
export const pruneUnstructured = definePass({
  specificationVersion: 'v1',
  name: 'prune-unstructured',
  cli: { group: 'prune', command: 'unstructured' },
  description: 'Zero the least important Conv/Gemm/MatMul weights to a target sparsity (magnitude, random or Wanda; layer-wise, global or per row).',
  optionsSchema: unstructuredOptions,
  async run(model, ctx) {
    const o = ctx.options;
    const all = findPrunableWeights(model, { include: o.include, exclude: o.exclude, subgraphs: true });
    const scope = o.scope ?? (o.method === 'wanda' ? 'row' : 'layer');
    const warnings: string[] = [];
    const { weights, skipped } = calibratedOnly(all, o.method === 'wanda', warnings);
    // nothing to prune: said before any calibration data is read
    if (!weights.length) {
      const report = nothingToPrune('prune-unstructured', model, CONV_GEMM_MATMUL, warnings);
      report.stats = { subgraphWeights: 0, skippedSubgraphWeights: skipped.length };
      if (skipped.length) report.details = { ...report.details, skipped };
      return { model: cloneModel(model), report };
    }
    if (o.method === 'wanda' && scope === 'global') warnings.push('wanda scores are not comparable across layers; the paper compares per output row');
    const before = await sparsityReport(model);
    throwIfAborted(ctx.signal, 'prune-unstructured');
    const maskOpts = { sparsity: o.sparsity, scope, layerSparsity: o.layerSparsity as Record<string, number> | undefined, rng: ctx.rng };
    const batches = o.calibrationBatches ? { maxBatches: o.calibrationBatches } : {};
    let masks;
    if (o.method === 'wanda' && o.sequential) {
      ctx.onProgress(0, 'pruning layer by layer on the pruned model\'s activations');
      masks = await sequentialWandaMasks(cloneModel(model), weights, ctx.calibration, maskOpts, { backend: ctx.backend, signal: ctx.signal, ...batches, pass: 'prune-unstructured', activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime, logger: ctx.logger, onStage: (f) => ctx.onProgress(f, 'sequential wanda') });
    } else {
      let norms;
      if (o.method === 'wanda') {
        ctx.onProgress(0, 'collecting activation norms');
        norms = await collectInputNorms(model, weights, ctx.calibration, { backend: ctx.backend, signal: ctx.signal, activationRuntime: ctx.activationRuntime, calibrationRuntime: ctx.calibrationRuntime, ...batches });
      }
      ctx.onProgress(0.5, 'scoring weights');
      masks = await computeMasks(model, weights, { ...maskOpts, method: o.method, norms });
    }
    throwIfAborted(ctx.signal, 'prune-unstructured');
    const out = await applyMasks(model, masks);
    ctx.onProgress(1, 'done');
    const report = await maskReport('prune-unstructured', out, masks, weights.map((w) => ({ node: w.node, weight: weightKey(w) })), before, o.recordMasks, warnings, `${o.method} ${scope}-wise to ${(o.sparsity * 100).toFixed(1)} %${o.method === 'wanda' && o.sequential ? ' (sequential)' : ''}`);
    report.stats = { ...report.stats, subgraphWeights: weights.filter((w) => w.scope).length, skippedSubgraphWeights: skipped.length };
    if (skipped.length) report.details = { ...report.details, skipped };
    return { model: out, report };
  },
});

/**
 * Weights a calibration-based method can score: activations are collected by running the main
 * graph, so with `needsCalibration` the weights inside If/Loop/Scan bodies are skipped, listed
 * with the reason (`why`: what reaches the main graph only) and counted in a warning.
 */
export function calibratedOnly(all: PrunableWeight[], needsCalibration: boolean, warnings: string[], why = 'calibration activations are collected on the main graph only'): { weights: PrunableWeight[]; skipped: { weight: string; reason: string }[] } {
  if (!needsCalibration) return { weights: all, skipped: [] };
  const skipped = all.filter((w) => w.scope).map((w) => ({ weight: weightKey(w), reason: `inside a subgraph: ${why}` }));
  if (skipped.length) warnings.push(`${skipped.length} weight(s) inside If/Loop/Scan subgraphs skipped: ${why}`);
  return { weights: all.filter((w) => !w.scope), skipped };
}

/** What prune-unstructured, prune-nm and prune-gradual prune. */
export const CONV_GEMM_MATMUL: PrunedOps = { ops: ['Conv', 'Gemm', 'MatMul'] };

/** Shared report of mask-based passes. */
/** What zeroed weights (unstructured, N:M) mean at run time. */
export const DENSE_NOTE = 'onnxruntime runs this dense: smaller file (gzip), not faster (zeros are multiplied like any weight; 2:4 needs sparse tensor cores)';

export async function maskReport(
  pass: string,
  out: Model,
  masks: Masks,
  layers: { node: string; weight: string }[],
  before: Awaited<ReturnType<typeof sparsityReport>>,
  recordMasks: boolean,
  warnings: string[],
  what: string,
  pruned: PrunedOps = CONV_GEMM_MATMUL,
): Promise<PassReport> {
  // no layer was masked: the model is unchanged, and a run must not pass for a compression
  if (!layers.length) return nothingToPrune(pass, out, pruned, warnings);
  const after = await sparsityReport(out);
  if (after.nonzero >= before.nonzero) {
    // masks that zero nothing new (sparsity 0, or layers already this sparse) leave the model as it was
    const reason = `no weight zeroed (${what}): the ${layers.length} layer(s) were already ${(before.sparsity * 100).toFixed(1)} % sparse`;
    return { changed: false, summary: `${pass}: nothing pruned: ${reason}`, ...(warnings.length ? { warnings } : {}), details: { reason, layers: [] } };
  }
  // the after-report has counted every prunable weight's zeros already: reuse its counts
  const counted = new Map<string, (typeof after.layers)[number]>();
  for (const a of after.layers) if (!counted.has(a.weight)) counted.set(a.weight, a);
  const perLayer = [];
  for (const l of layers) {
    const a = counted.get(l.weight) ?? (await countedLayer(out, l.weight));
    const mask = masks.get(l.weight);
    perLayer.push({
      node: l.node,
      weight: l.weight,
      sparsity: a.sparsity,
      nonzero: a.nonzero,
      total: a.total,
      flopsDense: a.flopsDense,
      flopsEffective: a.flopsEffective,
      ...(recordMasks && mask ? { mask: packMask(mask) } : {}),
    });
  }
  return {
    changed: true,
    summary: `${pass}: ${what}; ${layers.length} layers, sparsity ${(before.sparsity * 100).toFixed(1)} % → ${(after.sparsity * 100).toFixed(1)} %, weights gzip ${before.weightGzipBytes} → ${after.weightGzipBytes} bytes; ${DENSE_NOTE}`,
    stats: statsOf(before, after),
    ...(warnings.length ? { warnings } : {}),
    details: { layers: perLayer, flopsEffective: after.flopsEffective, runtime: DENSE_NOTE },
  };
}

/** Zero count of a weight the after-report did not list (no FLOPs known). */
async function countedLayer(out: Model, weight: string): Promise<{ sparsity: number; nonzero: number; total: number; flopsDense: number; flopsEffective: number }> {
  const at = resolveWeightKey(out, weight)!;
  const v = await floatValues(at.graph.initializers.get(at.name)!);
  const z = countZeros(v);
  return { sparsity: v.length ? z / v.length : 0, nonzero: v.length - z, total: v.length, flopsDense: 0, flopsEffective: 0 };
}
