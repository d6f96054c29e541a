import { registerValueOp } from '../registry.js';
import { isSequence, isTensor } from '../value.js';
import { hostInts, unsupported } from './util.js';

/** ONNX SequenceErase: a new sequence without the tensor at `position` (negative counts from the back; default: the last). */
registerValueOp('SequenceErase', async ([seq, position], ctx) => {
  if (!isSequence(seq)) return unsupported(ctx, 'an input that is not a sequence');
  const n = seq.items.length;
  const p = isTensor(position) ? (await hostInts(position))[0]! : -1;
  const i = p < 0 ? p + n : p;
  if (i < 0 || i >= n) unsupported(ctx, `position ${p} in a sequence of ${n}`);
  return [{ kind: 'sequence', items: seq.items.filter((_, k) => k !== i) }];
});
