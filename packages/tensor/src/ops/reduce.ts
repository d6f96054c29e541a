import { engine } from '../engine.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

/** Normalize reduction axes (all axes when omitted or empty), sorted and unique. */
export function reductionAxes(x: Tensor, axes: readonly number[] | undefined, where: string): number[] {
  if (!axes || axes.length === 0) return [...x.shape.keys()];
  return [...new Set(axes.map((a) => normalizeAxis(a, x.rank, where)))].sort((a, b) => a - b);
}

/** Sum over `axes` (all when omitted). */
export function sum(x: Tensor, axes?: readonly number[], keepDims = false): Tensor {
  return engine().run1('ReduceSum', [x], { axes: reductionAxes(x, axes, 'sum'), keepDims });
}
