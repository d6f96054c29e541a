import { DTypeError, ShapeError } from '../errors.js';
import { isFloat } from '../dtype.js';
import { mul, sub } from '../ops/binary.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { type Reduction, reduceLoss } from './reduction.js';

/**
 * Mean squared error between `input` and `target` of the same shape: the mean (default), sum,
 * or element-wise ('none') of (input − target)². Differentiable in both.
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  if (!shapesEqual(input.shape, target.shape)) throw new ShapeError(`mseLoss: input [${input.shape.join(',')}] and target [${target.shape.join(',')}] differ in shape`);
  if (!isFloat(input.dtype) || input.dtype !== target.dtype) throw new DTypeError(`mseLoss: input and target must share a float dtype, got ${input.dtype} and ${target.dtype}`);
  const d = sub(input, target);
  return reduceLoss(mul(d, d), opts.reduction, 'mseLoss');
}
