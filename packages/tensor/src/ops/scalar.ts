import { isPacked } from '../dtype.js';
import { DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add, mul } from './binary.js';
import { scalar } from './creation.js';

function constant(op: string, x: Tensor, s: number): Tensor {
  if (x.dtype === 'bool' || isPacked(x.dtype)) throw new DTypeError(`${op}: input has dtype ${x.dtype}; cast to a numeric dtype first`);
  return scalar(s, x.dtype, { backend: x.backend });
}

/** x * s with a scalar constant of x's dtype on x's backend (differentiable in x). */
export function mulScalar(x: Tensor, s: number): Tensor {
  return mul(x, constant('mulScalar', x, s));
}

/** x + s with a scalar constant of x's dtype on x's backend (differentiable in x). */
export function addScalar(x: Tensor, s: number): Tensor {
  return add(x, constant('addScalar', x, s));
}
