import * as T from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { isSequence } from '../value.js';
import { unsupported } from './util.js';

/** ONNX SequenceLength: the number of tensors in a sequence, as an int64 scalar. */
registerValueOp('SequenceLength', ([seq], ctx) => {
  if (!isSequence(seq)) return unsupported(ctx, 'an input that is not a sequence');
  return [T.tensor([seq.items.length], [], 'int64', { backend: ctx.backend })];
});
