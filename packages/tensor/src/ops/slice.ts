import { engine } from '../engine.js';
import type { Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';

/**
 * Zeros of `inputShape` with `dy` placed at `starts + i * steps` per axis: the gradient of a
 * strided slice (steps positive, starts already clamped).
 */
export function scatterSlice(dy: Tensor, inputShape: Shape, starts: readonly number[], steps: readonly number[]): Tensor {
  return engine().run1('ScatterSlice', [dy], { inputShape: [...inputShape], starts: [...starts], steps: [...steps] });
}
