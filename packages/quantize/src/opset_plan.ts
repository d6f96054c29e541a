/**
 * Raising a model to the opset a quantized form needs (opset 21: block-wise DequantizeLinear and
 * int4/uint4 containers) through @whittle/graph's `upgradeOpset`, and what each opset can hold.
 */
import * as graph from '@whittle/graph';
import type { Model } from '@whittle/graph';
import { opsetVersion } from '@whittle/graph';
import { ensureOpset } from './emit.js';

type UpgradeOpset = (model: Model, target: number) => { model: Model; from: number; to: number; changes: unknown[] };
type UpgradeBlockers = (model: Model, target: number) => string[];

/** The graph package's opset converter, when this build of @whittle/graph has it. */
function converter(): { upgrade: UpgradeOpset; blockers: UpgradeBlockers } | undefined {
  const api = graph as unknown as { upgradeOpset?: UpgradeOpset; opsetUpgradeBlockers?: UpgradeBlockers };
  return typeof api.upgradeOpset === 'function' && typeof api.opsetUpgradeBlockers === 'function' ? { upgrade: api.upgradeOpset, blockers: api.opsetUpgradeBlockers } : undefined;
}

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
 * Raise `model` (not modified; a clone owned by the caller may be returned as is) to `target`
 * when {@link graph.opsetUpgradeBlockers} finds nothing in the way. Without the converter, falls
 * back to bumping the opset import where no op present changes meaning (opset >= 13).
 */
export function raiseOpset(model: Model, target: number): OpsetRaise {
  const v = opsetVersion(model) ?? 1;
  if (v >= target) return { model, opset: v, upgraded: false, blockedBy: '' };
  const c = converter();
  if (c) {
    const blockers = c.blockers(model, target);
    if (blockers.length) return { model, opset: v, upgraded: false, blockedBy: `opset ${v} cannot be raised to ${target}: ${blockers.join('; ')}` };
    try {
      const r = c.upgrade(model, target);
      return { model: r.model, opset: opsetVersion(r.model) ?? target, upgraded: true, blockedBy: '' };
    } catch (e) {
      return { model, opset: v, upgraded: false, blockedBy: `opset ${v} -> ${target} conversion failed: ${(e as Error).message}` };
    }
  }
  if (ensureOpset(model, target)) return { model, opset: target, upgraded: true, blockedBy: '' };
  return { model, opset: v, upgraded: false, blockedBy: v < 13 ? `opset ${v} < 13 cannot be raised to ${target} without an opset converter` : `opset ${v} has ops whose meaning changed before opset ${target}` };
}

/** Scale granularities a DequantizeLinear of `opset` can express with 8-bit containers. */
export function dqSupports(opset: number, granularity: 'per-tensor' | 'per-channel' | 'block'): boolean {
  if (opset >= 21) return true;
  if (granularity === 'block') return false;
  if (granularity === 'per-channel') return opset >= 13;
  return opset >= 10;
}
