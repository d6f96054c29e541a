import type { Node } from '../ir/types.js';
import type { ConversionContext } from './context.js';

/**
 * One change of an op's definition: applying it rewrites a node written against the version
 * before `at` into the form version `at` expects, with identical results. `apply` edits `node`
 * in place (and may add nodes and initializers through the context); it returns a reason string
 * instead when the node cannot be converted exactly — the driver then discards the whole
 * converted copy, so a refusing step need not undo partial edits.
 */
export interface ConversionStep {
  /** The opset version that introduced the change. */
  at: number;
  apply(node: Node, ctx: ConversionContext): string | void;
}

/** How one default-domain op moves between opset versions. */
export interface OpRule {
  /** Lowest source opset the converter accepts for this op. */
  since: number;
  /** Why versions below `since` are refused (shown in the blocker). */
  belowSince?: string;
  /** Changes in version order; a step runs when from < at <= target. */
  steps?: ConversionStep[];
}
