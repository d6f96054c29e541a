import { getInt } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/**
 * BatchNormalization: 9 removed `spatial` (always per channel, i.e. spatial=1); 14 added
 * training_mode (default 0) and the running mean/var outputs exist only in training mode.
 */
export const batchNormRule: OpRule = {
  since: 7,
  belowSince: 'BatchNormalization-6 has is_test/consumed_inputs (training semantics)',
  steps: [
    {
      at: 9,
      apply(node, ctx) {
        if (getInt(node, 'spatial', 1) === 0) return 'spatial=0 (per-element statistics) has no equivalent from BatchNormalization-9 on';
        if (node.attributes.delete('spatial')) ctx.note('spatial=1 attribute dropped (BatchNormalization-9)');
      },
    },
    {
      at: 14,
      apply(node) {
        if (node.outputs.slice(1).some((o) => o)) return 'it has training outputs (mean/var), which BatchNormalization-14 produces only with training_mode=1';
      },
    },
  ],
};
