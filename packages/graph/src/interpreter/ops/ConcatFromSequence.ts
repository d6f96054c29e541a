import * as T from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { isSequence } from '../value.js';
import { axis as normAxis, unsupported } from './util.js';

/**
 * ONNX ConcatFromSequence: the sequence's tensors concatenated along `axis`, or with
 * `new_axis` = 1 stacked along a new axis (which may be one past the last).
 */
registerValueOp('ConcatFromSequence', (inputs, ctx) => {
  const seq = inputs[0];
  if (!isSequence(seq)) return unsupported(ctx, 'an input that is not a sequence');
  if (seq.items.length === 0) unsupported(ctx, 'an empty sequence');
  const stack = ctx.int('new_axis', 0) === 1;
  const rank = seq.items[0]!.rank + (stack ? 1 : 0);
  const a = normAxis(ctx.int('axis', 0), rank, ctx);
  const items = stack ? seq.items.map((t) => T.unsqueeze(t, [a])) : [...seq.items];
  return [items.length === 1 ? items[0]! : T.concat(items, a)];
});
