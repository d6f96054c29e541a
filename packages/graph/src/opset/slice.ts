import type { OpRule } from './rule.js';

/** Slice-10 takes starts/ends/axes as int64 inputs (and adds `steps`); before, they were attributes. */
export const sliceRule: OpRule = {
  since: 1,
  steps: [{
    at: 10,
    apply(node, ctx) {
      if (node.attributes.get('starts')?.type !== 'ints' || node.attributes.get('ends')?.type !== 'ints') {
        return 'Slice-1 without ints attributes starts/ends';
      }
      ctx.intsAttrToInput(node, 'starts', 1);
      ctx.intsAttrToInput(node, 'ends', 2);
      ctx.intsAttrToInput(node, 'axes', 3);
      ctx.note('starts/ends/axes attributes -> int64 inputs (Slice-10)');
    },
  }],
};
