import type { GradientTable } from '../node.js';
import { reduceToShape } from '../reduce_to_shape.js';
import { div, mul, sub } from '../../ops/binary.js';
import { zerosLike } from '../../ops/creation.js';

/** Gradients of Add, Sub, Mul, Div (broadcast inputs get their gradient summed back). */
export const binaryGradients: GradientTable = {
  Add: ([dy], { inputs: [a, b] }) => [reduceToShape(dy!, a!.shape), reduceToShape(dy!, b!.shape)],
  Sub: ([dy], { inputs: [a, b] }) => [reduceToShape(dy!, a!.shape), reduceToShape(sub(zerosLike(dy!), dy!), b!.shape)],
  Mul: ([dy], { inputs: [a, b] }) => [reduceToShape(mul(dy!, b!), a!.shape), reduceToShape(mul(dy!, a!), b!.shape)],
  Div: ([dy], { inputs: [a, b], outputs: [y] }) => {
    const da = div(dy!, b!);
    return [reduceToShape(da, a!.shape), reduceToShape(sub(zerosLike(da), mul(da, y!)), b!.shape)];
  },
};
