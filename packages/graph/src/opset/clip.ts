import { getFloat } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/** Clip-11 takes min/max as optional inputs of the data type; Clip-6 had float attributes. */
export const clipRule: OpRule = {
  since: 6,
  belowSince: 'Clip-1 has the legacy consumed_inputs form',
  steps: [{
    at: 11,
    apply(node, ctx) {
      const x = node.inputs[0]!;
      const min = getFloat(node, 'min');
      const max = getFloat(node, 'max');
      const base = node.name || 'clip';
      // Defaults of Clip-6 are the float limits: an absent bound stays an absent input.
      const minIn = min === undefined ? '' : ctx.scalarLike(`${base}_min`, min, x);
      const maxIn = max === undefined ? '' : ctx.scalarLike(`${base}_max`, max, x);
      if (minIn === undefined || maxIn === undefined) return `element type of input '${x}' is unknown and CastLike needs target opset >= 15`;
      node.attributes.delete('min');
      node.attributes.delete('max');
      node.inputs = [x];
      if (maxIn) node.inputs.push(minIn, maxIn);
      else if (minIn) node.inputs.push(minIn);
      ctx.note('min/max attributes -> inputs (Clip-11)');
    },
  }],
};
