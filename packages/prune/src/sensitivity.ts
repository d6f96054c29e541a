import { type Feeds, type Model, CalibrationDataError, definePass, defineOptions, runModel, throwIfAborted } from '@whittle/graph';
import { ArgumentError, type BackendName, type Rng, engine } from '@whittle/tensor';
import { findPrunableWeights } from './layers.js';
import { nothingToPruneReason } from './nothing.js';
import { CONV_GEMM_MATMUL, calibratedOnly } from './unstructured.js';
import { type ScoreMethod, applyMasks, computeMasks } from './masks.js';

/** One measured point. */
export interface SensitivityPoint {
  sparsity: number;
  /** The metric (higher is better): the `evaluate` result, or top-1 agreement with the dense model. */
  metric: number;
  /** Relative L2 error of the first output against the dense model (fidelity mode only). */
  relativeError?: number;
}

/** Result of {@link sensitivityAnalysis}. */
export interface SensitivityResult {
  /** The dense model's metric. */
  baseline: number;
  layers: { node: string; weight: string; size: number; points: SensitivityPoint[] }[];
}

/** Options of {@link sensitivityAnalysis}. */
export interface SensitivityOptions {
  /** Sparsity levels tried per layer (default 0.3, 0.5, 0.7, 0.8, 0.9, 0.95). */
  levels?: readonly number[];
  method?: Exclude<ScoreMethod, 'wanda'>;
  /** Metric of a model (e.g. test accuracy in onnxruntime); default: fidelity on `calibration`. */
  evaluate?: (model: Model) => Promise<number>;
  /** Inputs for the fidelity metric (used when `evaluate` is not given). */
  calibration?: readonly Feeds[];
  include?: readonly string[] | undefined;
  exclude?: readonly string[] | undefined;
  backend?: BackendName;
  rng?: Rng;
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
}

/**
 * The output compared: the first float tensor output (a classifier's scores rather than the labels
 * skl2onnx writes first), else the first. Only the nodes it depends on run, so a head the
 * interpreter does not run (skl2onnx's ZipMap) does not stop the measurement.
 */
function comparedOutput(model: Model): string {
  const outs = model.graph.outputs;
  return (outs.find((o) => o.type?.kind === 'tensor' && (o.type.elemType === 'float32' || o.type.elemType === 'float16')) ?? outs[0]!).name;
}

async function outputsOf(model: Model, feeds: readonly Feeds[], backend: BackendName | undefined): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const name = comparedOutput(model);
  for (const f of feeds) {
    const r = await engine().noGradAsync(() => runModel(model, f, { ...(backend ? { backend } : {}), fetch: [name], fetchOnly: true }));
    const t = r.get(name)!;
    const d = await t.data();
    out.push(d instanceof Float32Array ? Float32Array.from(d) : Float32Array.from(d as ArrayLike<number | bigint>, Number));
    for (const v of r.values()) v.dispose();
  }
  return out;
}

/** Top-1 agreement over rows of `classes` scores (0: the values are predicted labels) and relative error. */
function fidelity(ref: Float32Array[], got: Float32Array[], classes: number): { agreement: number; relativeError: number } {
  let agree = 0;
  let rows = 0;
  let num = 0;
  let den = 0;
  ref.forEach((a, i) => {
    const b = got[i]!;
    for (let k = 0; k < a.length; k++) {
      num += (a[k]! - b[k]!) ** 2;
      den += a[k]! ** 2;
    }
    if (classes === 0) {
      // predicted labels: agreement is equality
      for (let k = 0; k < a.length; k++) if (a[k] === b[k]) agree++;
      rows += a.length;
      return;
    }
    for (let r = 0; r * classes < a.length; r++) {
      let ia = 0;
      let ib = 0;
      for (let c = 1; c < classes; c++) {
        if (a[r * classes + c]! > a[r * classes + ia]!) ia = c;
        if (b[r * classes + c]! > b[r * classes + ib]!) ib = c;
      }
      if (ia === ib) agree++;
      rows++;
    }
  });
  return { agreement: rows ? agree / rows : 1, relativeError: den ? Math.sqrt(num / den) : Math.sqrt(num) };
}

/**
 * Per-layer sensitivity: prune one layer at a time to each sparsity level (others dense) and
 * measure the metric — `evaluate(model)` (e.g. accuracy) or, by default, output fidelity on
 * calibration inputs (top-1 agreement with the dense model and the relative output error).
 */
export async function sensitivityAnalysis(model: Model, opts: SensitivityOptions = {}): Promise<SensitivityResult> {
  const levels = opts.levels ?? [0.3, 0.5, 0.7, 0.8, 0.9, 0.95];
  const weights = findPrunableWeights(model, { include: opts.include, exclude: opts.exclude });
  if (!opts.evaluate && !opts.calibration?.length) throw new ArgumentError('sensitivityAnalysis: give `evaluate` or calibration inputs');
  const compared = comparedOutput(model);
  const outType = model.graph.outputs.find((o) => o.name === compared)?.type;
  const outShape = outType?.shape;
  const labels = /^u?int/.test(outType?.elemType ?? '') && (outShape?.length === 1 || (outShape?.length === 2 && outShape[1] === 1));
  const classes = labels ? 0 : typeof outShape?.[outShape.length - 1] === 'number' ? (outShape[outShape.length - 1] as number) : 1;
  const ref = opts.evaluate ? [] : await outputsOf(model, opts.calibration!, opts.backend);
  const baseline = opts.evaluate ? await opts.evaluate(model) : 1;
  const result: SensitivityResult = { baseline, layers: [] };
  let done = 0;
  for (const w of weights) {
    const points: SensitivityPoint[] = [];
    for (const s of levels) {
      throwIfAborted(opts.signal, 'sensitivityAnalysis');
      const masks = await computeMasks(model, [w], { method: opts.method ?? 'magnitude', sparsity: s, scope: 'layer', rng: opts.rng });
      const pruned = await applyMasks(model, masks);
      if (opts.evaluate) points.push({ sparsity: s, metric: await opts.evaluate(pruned) });
      else {
        const f = fidelity(ref, await outputsOf(pruned, opts.calibration!, opts.backend), classes);
        points.push({ sparsity: s, metric: f.agreement, relativeError: f.relativeError });
      }
      opts.onProgress?.(++done / (weights.length * levels.length), `${w.node} @ ${s}`);
    }
    result.layers.push({ node: w.node, weight: w.weight, size: w.rows * w.cols, points });
  }
  return result;
}

/**
 * Per-layer sparsities from a sensitivity result: for each layer the highest level whose metric
 * stays within `maxDrop` of the baseline (0 when none does). Feed it to `layerSparsity`.
 */
export function sparsityFromSensitivity(result: SensitivityResult, maxDrop: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of result.layers) {
    let best = 0;
    for (const p of l.points) if (result.baseline - p.metric <= maxDrop && p.sparsity > best) best = p.sparsity;
    out[l.node] = best;
  }
  return out;
}

const sensitivityOptions = defineOptions({
  levels: { type: 'number[]', default: [0.3, 0.5, 0.7, 0.8, 0.9, 0.95], description: 'sparsity levels tried per layer' },
  method: { type: 'string', enum: ['magnitude', 'random'] as const, default: 'magnitude', description: 'score used to prune each layer' },
  calibrationBatches: { type: 'number', integer: true, min: 1, default: 4, description: 'calibration batches the fidelity is measured on' },
  maxDrop: { type: 'number', min: 0, max: 1, default: 0.01, description: 'agreement drop allowed when recommending per-layer sparsities' },
  include: { type: 'string[]', description: 'only these layers (node or weight names)' },
  exclude: { type: 'string[]', default: [], description: 'layers to skip' },
});

/**
 * `prune-sensitivity`: leaves the model unchanged and reports each layer's output fidelity
 * (top-1 agreement, relative output error) against sparsity levels on calibration data, plus
 * recommended per-layer sparsities for `prune-unstructured`'s `layerSparsity`.
 */
export const pruneSensitivity = definePass({
  specificationVersion: 'v1',
  name: 'prune-sensitivity',
  cli: { group: 'prune', command: 'sensitivity', analysis: true },
  description: 'Report per-layer output fidelity against sparsity levels on calibration data (model unchanged).',
  optionsSchema: sensitivityOptions,
  async run(model, ctx) {
    const o = ctx.options;
    if (!ctx.calibration) throw new CalibrationDataError('prune-sensitivity', 'prune-sensitivity: needs calibration data (ctx.calibration; --data on the command line): none was given');
    // sensitivity prunes main-graph layers one at a time; weights inside subgraphs are listed as skipped
    const warnings: string[] = [];
    const { weights: reachable, skipped } = calibratedOnly(findPrunableWeights(model, { include: o.include, exclude: o.exclude, subgraphs: true }), true, warnings);
    // no layer to try (tree ensembles, every weight in a subgraph): say so before running the model at all
    if (!reachable.length) {
      const reason = nothingToPruneReason(model, CONV_GEMM_MATMUL, warnings);
      return { model, report: { changed: false, summary: `prune-sensitivity: no layer to analyse: ${reason}`, stats: { layers: 0, levels: o.levels.length, skippedSubgraphWeights: skipped.length }, details: { reason, layers: [] } } };
    }
    const feeds: Feeds[] = [];
    for await (const f of ctx.calibration) {
      feeds.push(f);
      if (feeds.length >= o.calibrationBatches) break;
    }
    if (!feeds.length) throw new CalibrationDataError('prune-sensitivity', 'prune-sensitivity: the calibration data is empty');
    const r = await sensitivityAnalysis(model, { levels: o.levels, method: o.method, calibration: feeds, include: o.include, exclude: o.exclude, backend: ctx.backend, rng: ctx.rng, signal: ctx.signal, onProgress: (f, m) => ctx.onProgress(f, m) });
    const rec = sparsityFromSensitivity(r, o.maxDrop);
    return {
      model,
      report: {
        changed: false,
        summary: `prune-sensitivity: ${r.layers.length} layers × ${o.levels.length} levels; recommended ${Object.entries(rec).map(([k, v]) => `${k}=${v}`).join(', ')}`,
        stats: { layers: r.layers.length, levels: o.levels.length, skippedSubgraphWeights: skipped.length },
        ...(skipped.length ? { warnings } : {}),
        details: { ...r, recommendedLayerSparsity: rec, ...(skipped.length ? { skipped } : {}) },
      },
    };
  },
});
