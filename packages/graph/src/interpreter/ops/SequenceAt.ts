import { registerValueOp } from '../registry.js';
import { isSequence, isTensor } from '../value.js';
import { hostInts, unsupported } from './util.js';

/** ONNX SequenceAt: the tensor at `position` (negative counts from the back) of a sequence. */
registerValueOp('SequenceAt', async ([seq, position], ctx) => {
  if (!isSequence(seq) || !isTensor(position)) return unsupported(ctx, 'inputs other than (sequence, tensor)');
  const n = seq.items.length;
  const p = (await hostInts(position))[0]!;
  const i = p < 0 ? p + n : p;
  if (i < 0 || i >= n) unsupported(ctx, `position ${p} outside a sequence of ${n}`);
  return [seq.items[i]!];
});
