import { type Model, type PassReport, integerWeightLayers } from '@whittle/graph';
import { findPrunableWeights } from './layers.js';

/** What a mask-based pass prunes, for {@link nothingToPrune}. */
export interface PrunedOps {
  /** Op types the pass prunes, e.g. `['Gemm', 'MatMul']`. */
  ops: readonly string[];
  /** Passes that prune the float weights of the other op types (named when such weights exist). */
  others?: string;
}

/**
 * Why a mask-based pass has no layer to prune, as the model shows it: no float32 initializer
 * weight of the ops it prunes; the layers holding integer weights (already quantized, which pruning
 * leaves as they are: normalizing does not change that); float weights of ops another pass prunes.
 * Decided before any calibration data is needed, so every pruning pass answers the same way.
 */
export function nothingToPruneReason(model: Model, what: PrunedOps, warnings: readonly string[] = []): string {
  const parts = [`no ${what.ops.join('/')} layer with a float32 or float16 initializer weight to prune`];
  const integer = integerLayersNote(model);
  if (integer) parts.push(integer);
  if (what.others) {
    const other = findPrunableWeights(model, { subgraphs: true }).filter((w) => !what.ops.includes(w.opType));
    if (other.length) parts.push(`${other.length} ${[...new Set(other.map((w) => w.opType))].join('/')} weight(s) are left to ${what.others}`);
  }
  return `${parts.join('; ')}${warnings.length ? ` (${warnings.join('; ')})` : ''}`;
}

/** `108 layer(s) hold integer weights (108 MatMulInteger), already quantized, ...`; '' when none do. */
export function integerLayersNote(model: Model): string {
  const integer = Object.entries(integerWeightLayers(model));
  if (!integer.length) return '';
  const total = integer.reduce((a, [, n]) => a + n, 0);
  return `${total} layer(s) hold integer weights (${integer.map(([op, n]) => `${n} ${op}`).join(', ')}), already quantized, which pruning leaves as they are`;
}

/** The unchanged report of a mask-based pass with no layer to prune. */
export function nothingToPrune(pass: string, model: Model, what: PrunedOps, warnings: string[] = []): PassReport {
  const reason = nothingToPruneReason(model, what, warnings);
  return { changed: false, summary: `${pass}: nothing pruned: ${reason}`, ...(warnings.length ? { warnings } : {}), details: { reason, layers: [] } };
}
