import { attr, getInt } from '../ir/attributes.js';
import type { OpRule } from './rule.js';

/**
 * Softmax/LogSoftmax/Hardmax before 13 coerce the input to 2-D at `axis` (default 1) and
 * normalize over everything after it; 13 normalizes along the one axis (default -1). When the
 * axis is the last one (-1, or rank - 1 with the rank known) the two agree; otherwise the node becomes
 * Shape + Flatten(axis) + Op(axis=-1) + Reshape(shape), which computes the old result exactly.
 */
export const softmaxRule: OpRule = {
  since: 1,
  steps: [{
    at: 13,
    apply(node, ctx) {
      const x = node.inputs[0]!;
      const axis = getInt(node, 'axis', 1);
      const rank = ctx.rank(x);
      if (axis === -1 || (rank !== undefined && axis === rank - 1)) {
        node.attributes.set('axis', attr.int(-1));
        if (axis !== -1) ctx.note(`axis ${axis} is the last axis: axis=-1 gives the same result (${node.opType}-13)`);
        return;
      }
      if (axis < 0 && ctx.from < 11) return `negative axis ${axis} is not valid before opset 11`;
      const base = node.name || node.opType;
      const shape = ctx.names.value(`${base}_shape`);
      const flat = ctx.names.value(`${base}_2d`);
      const y2 = ctx.names.value(`${base}_out2d`);
      const y = node.outputs[0]!;
      ctx.before.push(ctx.node('Shape', [x], [shape], {}, `${base}_shape`));
      ctx.before.push(ctx.node('Flatten', [x], [flat], { axis: attr.int(axis) }, `${base}_flatten`));
      node.inputs[0] = flat;
      node.outputs[0] = y2;
      node.attributes.set('axis', attr.int(-1));
      ctx.after.push(ctx.node('Reshape', [y2, shape], [y], {}, `${base}_reshape`));
      ctx.note(`2-D coercion at axis ${axis} made explicit: Flatten + ${node.opType}(axis=-1) + Reshape (${node.opType}-13)`);
    },
  }],
};
