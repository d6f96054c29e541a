import { getFloat } from '../ir/attributes.js';
import { fromValues } from '../fold/layout.js';
import type { OpRule } from './rule.js';

/**
 * Dropout: 10 changed the mask output to bool (it had the data type); 12 moved `ratio` to an
 * optional input (and added training_mode, default false = inference, where Dropout is identity).
 */
export const dropoutRule: OpRule = {
  since: 7,
  belowSince: 'Dropout-6 has the is_test attribute (training behaviour)',
  steps: [
    {
      at: 10,
      apply(node) {
        if (node.outputs[1]) return 'its mask output changes type from the data type to bool in Dropout-10';
      },
    },
    {
      at: 12,
      apply(node, ctx) {
        const ratio = getFloat(node, 'ratio');
        node.attributes.delete('ratio');
        if (ratio === undefined) return;
        ctx.setInput(node, 1, ctx.initializer(`${node.name || 'dropout'}_ratio`, fromValues([ratio], [], 'float32')));
        ctx.note('ratio attribute -> input (Dropout-12)');
      },
    },
  ],
};
