import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sliceView, squeeze } from './views.js';

/**
 * The `k` largest (or smallest) elements along `axis` with their int64 indices (ONNX TopK).
 * Results are always sorted (best first; ties keep the lower index first), which also
 * satisfies `sorted = false`.
 */
export function topk(x: Tensor, k: number, axis = -1, largest = true, sorted = true): { values: Tensor; indices: Tensor } {
  void sorted;
  if (x.rank === 0) throw new ShapeError('topk: input must have rank >= 1');
  if (x.dtype === 'bool') throw new DTypeError('topk: bool input; cast first');
  const a = normalizeAxis(axis, x.rank, 'topk');
  const d = x.shape[a]!;
  if (!Number.isInteger(k) || k < 0 || k > d) throw new ArgumentError(`topk: k = ${k} must be an integer in [0, ${d}] (axis ${a} of [${x.shape.join(',')}])`);
  const [values, indices] = engine().runKernel('TopK', [x], { k, axis: a, largest });
  return { values: values!, indices: indices! };
}

/**
 * The k-th smallest element (k counts from 1) along `axis`, with that axis removed unless
 * `keepDims` (e.g. pruning thresholds per row).
 */
export function kthValue(x: Tensor, k: number, axis = -1, keepDims = false): Tensor {
  const a = x.rank === 0 ? 0 : normalizeAxis(axis, x.rank, 'kthValue');
  const d = x.shape[a] ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > d) throw new ArgumentError(`kthValue: k = ${k} must be an integer in [1, ${d}]`);
  const { values } = topk(x, k, a, false);
  const last = sliceView(values, values.shape.map((_, i) => (i === a ? k - 1 : 0)), [...values.shape]);
  return keepDims ? last : squeeze(last, [a]);
}

/** Quickselect in place: the element of rank k (0-based) of `v`. */
export function quickselect(v: Float64Array, k: number): number {
  let lo = 0;
  let hi = v.length - 1;
  while (lo < hi) {
    const pivot = v[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (v[i]! < pivot) i++;
      while (v[j]! > pivot) j--;
      if (i <= j) {
        const t = v[i]!;
        v[i++] = v[j]!;
        v[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return v[k]!;
  }
  return v[k]!;
}

/**
 * The k-th smallest (k from 1) of all elements of `x`, by quickselect on the host (expected
 * O(n)); for whole-tensor pruning thresholds. NaNs are not supported.
 */
export async function kthSmallest(x: Tensor, k: number): Promise<number> {
  if (!Number.isInteger(k) || k < 1 || k > x.size) throw new ArgumentError(`kthSmallest: k = ${k} must be an integer in [1, ${x.size}]`);
  return quickselect(await x.toFloat64(), k - 1);
}

/**
 * One-hot encode int32/int64 `indices` (negative values count from `depth`) into float32 with
 * the new axis of length `depth` at `axis` (default last); out-of-range indices give a line of
 * `values[0]`. `values` = [off, on] (default [0, 1]).
 */
export function oneHot(indices: Tensor, depth: number, axis = -1, values: readonly [number, number] = [0, 1]): Tensor {
  if (indices.dtype !== 'int32' && indices.dtype !== 'int64') throw new DTypeError(`oneHot: indices are ${indices.dtype}; they must be int32 or int64`);
  if (!Number.isInteger(depth) || depth < 1) throw new ArgumentError(`oneHot: depth ${depth} must be a positive integer`);
  return engine().run1('OneHot', [indices], { depth, axis: normalizeAxis(axis, indices.rank + 1, 'oneHot'), values: [values[0], values[1]] });
}
