/**
 * Raising a model to the opset a quantized form needs (opset 21: block-wise DequantizeLinear and
 * int4/uint4 containers) through @whittle/graph's `upgradeOpset`, and what each opset can hold.
 */
import type { Model } from '@whittle/graph';
import { opsetUpgradeBlockers, opsetVersion, upgradeOpset } from '@whittle/graph';

/** Result of {@link raiseOpset}. */
export interface OpsetRaise {
  /** The model to continue with (the upgraded one, or the input). */
  model: Model;
  /** Default-domain opset of `model`. */
  opset: number;
  /** Whether the opset was raised. */
  upgraded: boolean;
  /** Why the model stays below the target (empty when it reached it). */
  blockedBy: string;
}

/**
 * Raise `model` (not modified) to `target` with @whittle/graph's `upgradeOpset` when
 * `opsetUpgradeBlockers` finds nothing in the way; otherwise say what blocks it.
 */
export function raiseOpset(model: Model, target: number): OpsetRaise {
  const v = opsetVersion(model) ?? 1;
  if (v >= target) return { model, opset: v, upgraded: false, blockedBy: '' };
  const blockers = opsetUpgradeBlockers(model, target);
  if (blockers.length) return { model, opset: v, upgraded: false, blockedBy: `opset ${v} cannot be raised to ${target}: ${blockers.join('; ')}` };
  const r = upgradeOpset(model, target);
  return { model: r.model, opset: opsetVersion(r.model) ?? target, upgraded: true, blockedBy: '' };
}

/** Scale granularities a DequantizeLinear of `opset` can express with 8-bit containers. */
export function dqSupports(opset: number, granularity: 'per-tensor' | 'per-channel' | 'block'): boolean {
  if (opset >= 21) return true;
  if (granularity === 'block') return false;
  if (granularity === 'per-channel') return opset >= 13;
  return opset >= 10;
}
