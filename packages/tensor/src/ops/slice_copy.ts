import { engine } from '../engine.js';
import { isPacked } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sliceView } from './views.js';

/** Per-axis start, step and count of an ONNX slice (start is the first index taken). */
export interface SliceSpec {
  starts: number[];
  steps: number[];
  shape: number[];
}

/** Resolve ONNX Slice starts/ends/axes/steps (negative values, clamping) for every axis. */
export function resolveSlice(shape: readonly number[], starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): SliceSpec {
  const rank = shape.length;
  if (starts.length !== ends.length) throw new ArgumentError(`slice: ${starts.length} starts but ${ends.length} ends`);
  const ax = axes ? axes.map((a) => normalizeAxis(a, rank, 'slice')) : starts.map((_, i) => i);
  if (ax.length !== starts.length) throw new ArgumentError(`slice: ${ax.length} axes for ${starts.length} starts`);
  if (new Set(ax).size !== ax.length) throw new ArgumentError(`slice: axes [${ax.join(',')}] repeat an axis`);
  if (ax.some((a) => a >= rank)) throw new ShapeError(`slice: axes [${ax.join(',')}] out of range for rank ${rank}`);
  if (steps && steps.length !== starts.length) throw new ArgumentError(`slice: ${steps.length} steps for ${starts.length} starts`);
  const out: SliceSpec = { starts: shape.map(() => 0), steps: shape.map(() => 1), shape: [...shape] };
  ax.forEach((a, k) => {
    const d = shape[a]!;
    const step = steps?.[k] ?? 1;
    if (!Number.isInteger(step) || step === 0) throw new ArgumentError(`slice: step ${step} on axis ${a} must be a non-zero integer`);
    let s = starts[k]!;
    let e = ends[k]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, 0), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    const n = step > 0 ? Math.ceil((e - s) / step) : Math.ceil((s - e) / -step);
    out.starts[a] = n > 0 ? s : 0;
    out.steps[a] = step;
    out.shape[a] = Math.max(0, n);
  });
  return out;
}

/**
 * ONNX Slice: `starts`/`ends` (exclusive) per axis in `axes` (default 0..), `steps` (default 1,
 * negative walks backwards), negative values count from the end and everything is clamped.
 * Positive steps give a view (no copy); negative steps copy through the Slice kernel.
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Tensor {
  const spec = resolveSlice(x.shape, starts, ends, axes, steps);
  if (spec.steps.every((s) => s > 0)) {
    return sliceView(x, spec.starts, spec.starts.map((s, i) => s + spec.shape[i]! * spec.steps[i]!), spec.steps);
  }
  if (isPacked(x.dtype)) throw new DTypeError(`slice: packed ${x.dtype} tensors cannot be sliced with negative steps; cast first`);
  return engine().run1('Slice', [x], { starts: spec.starts, steps: spec.steps, shape: spec.shape });
}
