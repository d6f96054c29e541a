/**
 * How much per-layer sensitivity analysis a model gets: every layer at six levels for small
 * models, else a sample of the largest layers at three levels on fewer inputs — and whether it
 * is on by default (off above {@link SENSITIVITY_DEFAULT_MAX_PARAMETERS}). The time estimate
 * comes from the original's measured onnxruntime-web evaluation: each point costs one session
 * plus one forward pass over the samples.
 */
import type { ModelAnalysis, VariantEval } from '../worker/protocol.js';

/** Above this many parameters, sensitivity is off until the user asks for it. */
export const SENSITIVITY_DEFAULT_MAX_PARAMETERS = 1_000_000;
/** Layers measured when a model has more prunable layers than this (the largest ones). */
export const SAMPLED_LAYERS = 8;

const FULL_LEVELS = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95];
const SAMPLED_LEVELS = [0.5, 0.7, 0.9];
const PRUNABLE = new Set(['MatMul', 'Gemm', 'Conv', 'ConvTranspose']);

export interface SensitivityPlan {
  levels: number[];
  /** Layers measured at most (all when the model has no more). */
  maxLayers: number;
  /** Prunable layers of the model. */
  totalLayers: number;
  samples: number;
  defaultOn: boolean;
  /** Seconds, when the original's evaluation was measured. */
  estimateSeconds?: number;
}

/** The plan for a model; `timing` is the original's evaluation (session + forward passes). */
export function planSensitivity(a: ModelAnalysis, timing?: VariantEval['timing']): SensitivityPlan {
  const total = a.layers.filter((l) => PRUNABLE.has(l.opType) && l.parameters > 0).length;
  const small = a.parameters <= SENSITIVITY_DEFAULT_MAX_PARAMETERS && total <= 16;
  // no layer whose weights it can prune one at a time (weights in Constant nodes or subgraphs): nothing to measure
  const plan: SensitivityPlan = total === 0
    ? { levels: [], maxLayers: 0, totalLayers: 0, samples: 0, defaultOn: false }
    : small
    ? { levels: FULL_LEVELS, maxLayers: total, totalLayers: total, samples: 128, defaultOn: true }
    : { levels: SAMPLED_LEVELS, maxLayers: Math.min(total, SAMPLED_LAYERS), totalLayers: total, samples: 16, defaultOn: false };
  if (timing && timing.samples > 0) {
    const points = plan.maxLayers * plan.levels.length + 1;
    const perSample = timing.runMs / timing.samples;
    // + pruning one layer and writing the pruned model (measured ~30 MB/s in the page's worker)
    const perPoint = timing.createMs + perSample * plan.samples + a.fileBytes / 3e4;
    plan.estimateSeconds = (points * perPoint) / 1000;
  }
  return plan;
}

/** '≈ 25 s: 8 of 52 layers × 3 levels on 16 samples'. */
export function describePlan(p: SensitivityPlan): string {
  const t = p.estimateSeconds === undefined ? '' : `≈ ${p.estimateSeconds < 90 ? `${Math.max(1, Math.round(p.estimateSeconds))} s` : `${Math.round(p.estimateSeconds / 60)} min`}: `;
  const layers = p.maxLayers < p.totalLayers ? `the ${p.maxLayers} largest of ${p.totalLayers} layers` : `${p.totalLayers} layers`;
  return `${t}${layers} × ${p.levels.length} levels on ${p.samples} samples`;
}
