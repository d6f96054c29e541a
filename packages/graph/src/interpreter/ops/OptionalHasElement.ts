import * as T from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { isOptional } from '../value.js';

/**
 * ONNX OptionalHasElement: a bool scalar, true when the input is present (a tensor or sequence,
 * or a non-empty optional); false for an empty optional or a missing input (opset 18).
 */
registerValueOp('OptionalHasElement', ([x], ctx) => {
  const has = x !== undefined && (!isOptional(x) || x.value !== null);
  return [T.tensor([has ? 1 : 0], [], 'bool', { backend: ctx.backend })];
});
