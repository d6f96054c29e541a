import { registerValueOp } from '../registry.js';
import { onnxTypeToDType } from './elementwise.js';

/** ONNX SequenceEmpty: a sequence with no tensors (its `dtype` attribute is checked, not kept). */
registerValueOp('SequenceEmpty', (_inputs, ctx) => {
  onnxTypeToDType(ctx.int('dtype', 1), ctx.node.name);
  return [{ kind: 'sequence', items: [] }];
});
