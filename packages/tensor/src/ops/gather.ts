import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Indices must be int32 or int64. */
export function checkIndices(where: string, indices: Tensor): void {
  if (indices.dtype !== 'int32' && indices.dtype !== 'int64') {
    throw new DTypeError(`${where}: indices are ${indices.dtype}; they must be int32 or int64`);
  }
}

/**
 * Take slices of `x` along `axis` at `indices` (int32/int64, negative counts from the end):
 * ONNX Gather. Output shape: x.shape[:axis] + indices.shape + x.shape[axis+1:]. Out-of-range
 * indices throw an ArgumentError on cpu (the webgpu kernel cannot raise: it reads 0).
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  checkIndices('gather', indices);
  if (x.rank === 0) throw new ShapeError('gather: input must have rank >= 1');
  return engine().run1('Gather', [x, indices], { axis: normalizeAxis(axis, x.rank, 'gather') });
}

function checkElementShapes(where: string, x: Tensor, indices: Tensor, axis: number): void {
  if (indices.rank !== x.rank) {
    throw new ShapeError(`${where}: indices have rank ${indices.rank}, data has rank ${x.rank}; they must match`);
  }
  indices.shape.forEach((d, i) => {
    if (i !== axis && d > x.shape[i]!) {
      throw new ShapeError(`${where}: indices dimension ${i} is ${d}, larger than data's ${x.shape[i]} ([${indices.shape.join(',')}] vs [${x.shape.join(',')}])`);
    }
  });
}

/** out[p] = x[p with coordinate `axis` replaced by indices[p]] (ONNX GatherElements). */
export function gatherElements(x: Tensor, indices: Tensor, axis = 0): Tensor {
  checkIndices('gatherElements', indices);
  const a = normalizeAxis(axis, x.rank, 'gatherElements');
  checkElementShapes('gatherElements', x, indices, a);
  return engine().run1('GatherElements', [x, indices], { axis: a });
}

/**
 * A copy of `data` with `updates` written (reduction 'none') or added ('add') at the
 * positions `indices` give along `axis` (ONNX ScatterElements).
 */
export function scatterElements(data: Tensor, indices: Tensor, updates: Tensor, axis = 0, reduction: 'none' | 'add' = 'none'): Tensor {
  checkIndices('scatterElements', indices);
  if (updates.dtype !== data.dtype) throw new DTypeError(`scatterElements: updates are ${updates.dtype}, data is ${data.dtype}`);
  if (reduction !== 'none' && reduction !== 'add') throw new ArgumentError(`scatterElements: reduction '${String(reduction)}' is not supported (use 'none' or 'add')`);
  const a = normalizeAxis(axis, data.rank, 'scatterElements');
  checkElementShapes('scatterElements', data, indices, a);
  if (updates.shape.length !== indices.shape.length || updates.shape.some((d, i) => d !== indices.shape[i])) {
    throw new ShapeError(`scatterElements: updates [${updates.shape.join(',')}] must have the shape of indices [${indices.shape.join(',')}]`);
  }
  return engine().run1('ScatterElements', [data, indices, updates], { axis: a, reduction });
}

/** `base` plus `updates` accumulated at `indices` along `axis` (ScatterElements with add). */
export const scatterAdd = (base: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor => scatterElements(base, indices, updates, axis, 'add');
