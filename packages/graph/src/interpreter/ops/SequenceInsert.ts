import { registerValueOp } from '../registry.js';
import { isSequence, isTensor } from '../value.js';
import { hostInts, unsupported } from './util.js';

/**
 * ONNX SequenceInsert: a new sequence with `tensor` inserted before `position` (negative counts
 * from the back; default: appended). The tensor's dtype must be the sequence's.
 */
registerValueOp('SequenceInsert', async ([seq, tensor, position], ctx) => {
  if (!isSequence(seq) || !isTensor(tensor)) return unsupported(ctx, 'inputs other than (sequence, tensor[, position])');
  const n = seq.items.length;
  const other = seq.items[0];
  if (other && other.dtype !== tensor.dtype) unsupported(ctx, `inserting a ${tensor.dtype} tensor into a sequence of ${other.dtype}`);
  const p = isTensor(position) ? (await hostInts(position))[0]! : n;
  const i = p < 0 ? p + n : p;
  if (i < 0 || i > n) unsupported(ctx, `position ${p} in a sequence of ${n}`);
  return [{ kind: 'sequence', items: [...seq.items.slice(0, i), tensor, ...seq.items.slice(i)] }];
});
