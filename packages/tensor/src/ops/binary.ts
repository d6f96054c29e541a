import { DTypeError } from '../errors.js';
import { engine } from '../engine.js';
import type { BinaryKernelName } from '../kernel_names.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { cast } from './cast.js';

/** Validate and run a broadcasting binary kernel. Both inputs must share a dtype. */
export function binaryOp(name: BinaryKernelName, a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== b.dtype) {
    throw new DTypeError(`${name}: inputs have dtypes ${a.dtype} and ${b.dtype}; cast one of them first`);
  }
  broadcastShapes(a.shape, b.shape); // throws a ShapeError naming both shapes
  if (a.dtype === 'float16' && a.backend === 'cpu') {
    // cpu kernels compute on decoded values: go through float32 and round back
    const y = engine().run1(name, [cast(a, 'float32'), cast(b, 'float32')], {});
    return y.dtype === 'float32' ? cast(y, 'float16') : y;
  }
  return engine().run1(name, [a, b], {});
}

/** a + b with broadcasting. */
export const add = (a: Tensor, b: Tensor): Tensor => binaryOp('Add', a, b);
/** a - b with broadcasting. */
export const sub = (a: Tensor, b: Tensor): Tensor => binaryOp('Sub', a, b);
/** a * b with broadcasting. */
export const mul = (a: Tensor, b: Tensor): Tensor => binaryOp('Mul', a, b);
/** a / b with broadcasting (integer division truncates toward zero). */
export const div = (a: Tensor, b: Tensor): Tensor => binaryOp('Div', a, b);
/** a ** b with broadcasting. */
export const pow = (a: Tensor, b: Tensor): Tensor => binaryOp('Pow', a, b);
/** Element-wise maximum. */
export const maximum = (a: Tensor, b: Tensor): Tensor => binaryOp('Max', a, b);
/** Element-wise minimum. */
export const minimum = (a: Tensor, b: Tensor): Tensor => binaryOp('Min', a, b);
/** a == b as bool. */
export const equal = (a: Tensor, b: Tensor): Tensor => binaryOp('Equal', a, b);
/** a < b as bool. */
export const less = (a: Tensor, b: Tensor): Tensor => binaryOp('Less', a, b);
/** a > b as bool. */
export const greater = (a: Tensor, b: Tensor): Tensor => binaryOp('Greater', a, b);
/** a <= b as bool. */
export const lessEqual = (a: Tensor, b: Tensor): Tensor => binaryOp('LessOrEqual', a, b);
/** a >= b as bool. */
export const greaterEqual = (a: Tensor, b: Tensor): Tensor => binaryOp('GreaterOrEqual', a, b);
/** Logical and of bool tensors. */
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => binaryOp('And', a, b);
/** Logical or of bool tensors. */
export const logicalOr = (a: Tensor, b: Tensor): Tensor => binaryOp('Or', a, b);
/** Logical xor of bool tensors. */
export const logicalXor = (a: Tensor, b: Tensor): Tensor => binaryOp('Xor', a, b);
