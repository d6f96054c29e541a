import { registerValueOp } from '../registry.js';
import { isOptional } from '../value.js';
import { unsupported } from './util.js';

/** ONNX Optional: wrap a tensor or sequence input, or make an empty optional when there is none. */
registerValueOp('Optional', ([x], ctx) => {
  if (isOptional(x)) return unsupported(ctx, 'an optional of an optional');
  return [{ kind: 'optional', value: x ?? null }];
});
