import { isPacked } from '../dtype.js';
import { engine } from '../engine.js';
import { DTypeError } from '../errors.js';
import { broadcastShapes } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * Element-wise `cond ? a : b` with numpy broadcasting over all three (ONNX Where). `cond` must
 * be bool; `a` and `b` share any non-packed dtype.
 */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  if (cond.dtype !== 'bool') throw new DTypeError(`where: cond has dtype ${cond.dtype}, expected bool (compare first, e.g. greater(x, y))`);
  if (a.dtype !== b.dtype) throw new DTypeError(`where: a and b have dtypes ${a.dtype} and ${b.dtype}; cast one of them first`);
  if (isPacked(a.dtype)) throw new DTypeError(`where: packed ${a.dtype} inputs are not supported; cast to int8/uint8 first`);
  broadcastShapes(cond.shape, a.shape, b.shape); // ShapeError naming the shapes
  return engine().run1('Where', [cond, a, b], {});
}
