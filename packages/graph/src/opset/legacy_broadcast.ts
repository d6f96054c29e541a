import { getInt } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/**
 * Add/Sub/Mul/Div/Pow/And/Or/Xor/Equal/Greater/Less/Gemm before 7 broadcast only with the
 * `broadcast`/`axis` attributes (axis-aligned, unidirectional); 7 uses numpy broadcasting. Without
 * broadcast=1 the shapes had to match, so dropping the legacy attributes keeps the results; with
 * it the alignment can differ and the node is refused.
 */
export const legacyBroadcastRule: OpRule = {
  since: 1,
  steps: [{
    at: 7,
    apply(node, ctx) {
      if (getInt(node, 'broadcast', 0) !== 0) return 'it uses the legacy broadcast=1 attribute (axis-aligned broadcasting), which opset 7 replaced by numpy broadcasting';
      let dropped = false;
      for (const a of ['broadcast', 'axis', 'consumed_inputs']) dropped = node.attributes.delete(a) || dropped;
      if (dropped) ctx.note('legacy broadcast/axis/consumed_inputs attributes dropped (opset 7)');
    },
  }],
};

/** The ops whose version 7 replaced the broadcast attribute by numpy broadcasting. */
export const LEGACY_BROADCAST_OPS = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'And', 'Or', 'Xor', 'Equal', 'Greater', 'Less', 'Gemm'];
