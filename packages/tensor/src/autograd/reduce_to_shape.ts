import type { Shape } from '../shape.js';
import { shapesEqual } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/views.js';

/**
 * Sum a broadcast gradient back to the shape of the input it came from: over leading axes the
 * input lacked and over axes where the input had size 1.
 */
export function reduceToShape(dy: Tensor, shape: Shape): Tensor {
  if (shapesEqual(dy.shape, shape)) return dy;
  const lead = dy.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < dy.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && dy.shape[i] !== 1)) axes.push(i);
  }
  const s = axes.length ? sum(dy, axes, true) : dy;
  return reshape(s, shape);
}
