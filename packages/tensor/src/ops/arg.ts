import { engine } from '../engine.js';
import { DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

function arg(name: 'ArgMax' | 'ArgMin', where: string, x: Tensor, axis: number, keepDims: boolean, selectLastIndex: boolean): Tensor {
  if (x.dtype === 'bool') throw new DTypeError(`${where}: bool input; cast to int32 or float32 first`);
  const a = normalizeAxis(axis, x.rank, where);
  if (x.rank === 0) return engine().run1(name, [x], { axis: 0, keepDims: true, selectLastIndex });
  if (x.shape[a] === 0) throw new ShapeError(`${where}: axis ${axis} of [${x.shape.join(',')}] is empty`);
  return engine().run1(name, [x], { axis: a, keepDims, selectLastIndex });
}

/** Index (int64) of the largest element along `axis` (first of ties unless `selectLastIndex`). */
export const argmax = (x: Tensor, axis = 0, keepDims = true, selectLastIndex = false): Tensor =>
  arg('ArgMax', 'argmax', x, axis, keepDims, selectLastIndex);
/** Index (int64) of the smallest element along `axis` (first of ties unless `selectLastIndex`). */
export const argmin = (x: Tensor, axis = 0, keepDims = true, selectLastIndex = false): Tensor =>
  arg('ArgMin', 'argmin', x, axis, keepDims, selectLastIndex);
