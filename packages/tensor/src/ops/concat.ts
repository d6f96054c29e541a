import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sliceView } from './views.js';

/** Join tensors along `axis` (ONNX Concat). All inputs share dtype, rank and the other dims. */
export function concat(xs: readonly Tensor[], axis: number): Tensor {
  if (xs.length === 0) throw new ArgumentError('concat: no inputs given');
  const first = xs[0]!;
  if (first.rank === 0) throw new ShapeError('concat: inputs must have rank >= 1');
  const a = normalizeAxis(axis, first.rank, 'concat');
  xs.forEach((t, k) => {
    if (t.dtype !== first.dtype) throw new DTypeError(`concat: input ${k} is ${t.dtype}, input 0 is ${first.dtype}`);
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`concat: input ${k} [${t.shape.join(',')}] does not match input 0 [${first.shape.join(',')}] outside axis ${a}`);
    }
  });
  if (xs.length === 1) return engine().contiguous(first);
  return engine().run1('Concat', xs, { axis: a });
}

/**
 * Split `x` along `axis` into pieces of the given `sizes` (summing to the axis length), or into
 * `sizes` equal pieces when a number (ONNX num_outputs: the last piece may be smaller). Pieces
 * are views (their gradients flow through SliceView).
 */
export function split(x: Tensor, sizes: readonly number[] | number, axis = 0): Tensor[] {
  const a = normalizeAxis(axis, x.rank, 'split');
  const d = x.shape[a]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes < 1) throw new ArgumentError(`split: number of outputs ${sizes} must be a positive integer`);
    const each = Math.ceil(d / sizes);
    parts = Array.from({ length: sizes }, (_, k) => Math.max(0, Math.min(each, d - k * each)));
  } else {
    parts = [...sizes];
    if (parts.some((s) => !Number.isInteger(s) || s < 0)) throw new ArgumentError(`split: sizes [${parts.join(',')}] must be non-negative integers`);
    const total = parts.reduce((p, s) => p + s, 0);
    if (total !== d) throw new ShapeError(`split: sizes [${parts.join(',')}] sum to ${total}, axis ${a} has length ${d}`);
  }
  let at = 0;
  return parts.map((s) => {
    const starts = x.shape.map((_, i) => (i === a ? at : 0));
    const ends = x.shape.map((dd, i) => (i === a ? at + s : dd));
    at += s;
    return sliceView(x, starts, ends);
  });
}
