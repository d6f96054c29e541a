import { registerValueOp } from '../registry.js';
import { isOptional } from '../value.js';
import { unsupported } from './util.js';

/** ONNX OptionalGetElement: the element of a non-empty optional (a tensor or sequence passes through). */
registerValueOp('OptionalGetElement', ([x], ctx) => {
  if (x === undefined) return unsupported(ctx, 'a missing input');
  if (!isOptional(x)) return [x];
  return [x.value ?? unsupported(ctx, 'an empty optional (it has no element)')];
});
