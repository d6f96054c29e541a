import { engine } from '../engine.js';
import { ShapeError } from '../errors.js';
import { type Shape, contiguousStrides, normalizeAxis, sizeOf } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * Reshape; `-1` infers one dimension, `0` is NOT special (use the graph op for ONNX semantics).
 * A view when the input is contiguous, otherwise a contiguous copy first.
 */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const neg = shape.filter((d) => d === -1).length;
  if (neg > 1) throw new ShapeError(`reshape: more than one -1 in [${shape.join(',')}]`);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`reshape: cannot reshape [${x.shape.join(',')}] (${x.size} elements) to [${shape.join(',')}]`);
  }
  const src = engine().contiguous(x);
  return engine().view(src, 'Reshape', resolved, contiguousStrides(resolved), src.offset, { shape: x.shape });
}

/** Permute dimensions (default: reverse). Always a view. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm ? perm.map((a) => normalizeAxis(a, x.rank, 'transpose')) : [...x.shape.keys()].reverse();
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new ShapeError(`transpose: perm [${perm?.join(',')}] is not a permutation of ${x.rank} axes`);
  }
  return engine().view(x, 'Transpose', p.map((a) => x.shape[a]!), p.map((a) => x.strides[a]!), x.offset, { perm: p });
}

/** Broadcast to `shape` without copying (stride 0 on expanded dims). */
export function expand(x: Tensor, shape: Shape): Tensor {
  const r = shape.length;
  if (r < x.rank) throw new ShapeError(`expand: cannot expand [${x.shape.join(',')}] to lower rank [${shape.join(',')}]`);
  const strides = new Array<number>(r).fill(0);
  for (let i = 0; i < x.rank; i++) {
    const o = r - x.rank + i;
    const d = x.shape[i]!;
    if (d !== shape[o] && d !== 1) throw new ShapeError(`expand: dimension ${i} of [${x.shape.join(',')}] cannot become ${shape[o]}`);
    strides[o] = d === 1 && shape[o] !== 1 ? 0 : x.strides[i]!;
  }
  return engine().view(x, 'Expand', [...shape], strides, x.offset, { shape: x.shape });
}

/** Insert size-1 axes (axes refer to the output rank). */
export function unsqueeze(x: Tensor, axes: readonly number[]): Tensor {
  const r = x.rank + axes.length;
  const norm = axes.map((a) => normalizeAxis(a, r, 'unsqueeze')).sort((a, b) => a - b);
  const shape: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) shape.push(norm.includes(i) ? 1 : x.shape[k++]!);
  return reshape(x, shape);
}

/** Remove size-1 axes (all of them when `axes` is omitted). */
export function squeeze(x: Tensor, axes?: readonly number[]): Tensor {
  const norm = axes?.map((a) => normalizeAxis(a, x.rank, 'squeeze'));
  for (const a of norm ?? []) if (x.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${a} of [${x.shape.join(',')}] is not 1`);
  return reshape(x, x.shape.filter((d, i) => (norm ? !norm.includes(i) : d !== 1)));
}

/** Flatten to 2-D: dims before `axis` and from `axis` on. */
export function flatten(x: Tensor, axis = 1): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  const outer = sizeOf(x.shape.slice(0, a));
  return reshape(x, [outer, sizeOf(x.shape.slice(a))]);
}

/**
 * Strided slice view: for each axis `starts`, `ends` (exclusive, clamped) and positive `steps`.
 * Negative steps need a copy: use the `slice` op.
 */
export function sliceView(x: Tensor, starts: readonly number[], ends: readonly number[], steps?: readonly number[]): Tensor {
  if (starts.length !== x.rank || ends.length !== x.rank) throw new ShapeError(`sliceView: need ${x.rank} starts and ends`);
  let offset = x.offset;
  const norm: number[] = [];
  const stepList: number[] = [];
  const shape: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < x.rank; i++) {
    const d = x.shape[i]!;
    const step = steps?.[i] ?? 1;
    if (step <= 0) throw new ShapeError(`sliceView: step ${step} on axis ${i} must be positive`);
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    s = Math.min(Math.max(s, 0), d);
    e = Math.min(Math.max(e, 0), d);
    shape.push(Math.max(0, Math.ceil((e - s) / step)));
    strides.push(x.strides[i]! * step);
    offset += s * x.strides[i]!;
    norm.push(s);
    stepList.push(step);
  }
  return engine().view(x, 'SliceView', shape, strides, offset, { inputShape: x.shape, starts: norm, steps: stepList });
}

/** Contiguous copy (or the tensor itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  return engine().contiguous(x);
}
