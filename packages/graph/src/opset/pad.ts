import { getFloat, getInts } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/** Pad-11 takes pads (int64) and constant_value as inputs; Pad-2 had attributes pads/value. */
export const padRule: OpRule = {
  since: 2,
  belowSince: 'Pad-1 uses the attribute paddings',
  steps: [{
    at: 11,
    apply(node, ctx) {
      const x = node.inputs[0]!;
      const pads = getInts(node, 'pads');
      if (!pads) return 'Pad-2 without the ints attribute pads';
      const value = getFloat(node, 'value', 0);
      let valueIn = '';
      if (value !== 0) {
        const v = ctx.scalarLike(`${node.name || 'pad'}_value`, value, x);
        if (v === undefined) return `element type of input '${x}' is unknown and CastLike needs target opset >= 15`;
        valueIn = v;
      }
      node.attributes.delete('pads');
      node.attributes.delete('value');
      node.inputs = [x, ctx.int64s(`${node.name || 'pad'}_pads`, pads)];
      if (valueIn) node.inputs.push(valueIn);
      ctx.note('pads/value attributes -> inputs (Pad-11)');
    },
  }],
};
