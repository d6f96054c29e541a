import { registerValueOp } from '../registry.js';
import { isTensor } from '../value.js';
import { unsupported } from './util.js';

/** ONNX SequenceConstruct: a sequence of its tensor inputs, which must share one dtype. */
registerValueOp('SequenceConstruct', (inputs, ctx) => {
  const items = inputs.map((v, k) => (isTensor(v) ? v : unsupported(ctx, `input ${k} that is not a tensor`)));
  const dtype = items[0]?.dtype;
  const other = items.find((t) => t.dtype !== dtype);
  if (other) unsupported(ctx, `tensors of different dtypes (${dtype} and ${other.dtype})`);
  return [{ kind: 'sequence', items }];
});
