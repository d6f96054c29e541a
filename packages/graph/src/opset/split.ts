import { attr } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/**
 * Split-13 takes `split` as an int64 input (it was an attribute since 2). Split-18 needs either
 * that input or `num_outputs`: an equal split gets num_outputs = number of outputs, which is the
 * same split whenever the old version accepted the input (the dimension divisible).
 */
export const splitRule: OpRule = {
  since: 2,
  belowSince: 'Split-1 takes split from an attribute or a second input',
  steps: [
    {
      at: 13,
      apply(node, ctx) {
        if (ctx.intsAttrToInput(node, 'split', 1)) ctx.note('split attribute -> int64 input (Split-13)');
      },
    },
    {
      at: 18,
      apply(node, ctx) {
        if (node.inputs[1] || node.attributes.has('num_outputs')) return;
        node.attributes.set('num_outputs', attr.int(node.outputs.length));
        ctx.note(`num_outputs = ${node.outputs.length} for the equal split (Split-18)`);
      },
    },
  ],
};
