import { getInt } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/** TopK-10 takes K as a 1-element int64 input; TopK-1 had the attribute k. TopK-11 adds largest/sorted (defaults keep 10). */
export const topKRule: OpRule = {
  since: 1,
  steps: [{
    at: 10,
    apply(node, ctx) {
      const k = getInt(node, 'k');
      if (k === undefined) return 'TopK-1 without the attribute k';
      node.attributes.delete('k');
      node.inputs = [node.inputs[0]!, ctx.int64s(`${node.name || 'topk'}_k`, [k])];
      ctx.note('k attribute -> input (TopK-10)');
    },
  }],
};
