import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { isPacked } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import type { PadMode } from '../kernel_names.js';

export type { PadMode } from '../kernel_names.js';

/**
 * Pad (ONNX Pad) any rank: `pads` = [x1_begin, x2_begin, …, x1_end, x2_end, …] (2*rank entries);
 * negative pads crop. Modes: 'constant' (fill with `value`), 'reflect' (mirror without repeating
 * the edge), 'edge' (repeat the edge), 'wrap' (periodic). Differentiable in x.
 * @throws ShapeError when pads do not match the rank, crop below zero, or reflect/edge/wrap
 *   pads an empty axis.
 */
export function pad(x: Tensor, pads: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  const r = x.rank;
  if (pads.length !== 2 * r || !pads.every((p) => Number.isInteger(p))) {
    throw new ShapeError(`pad: pads must be ${2 * r} integers [begins..., ends...] for x [${x.shape.join(',')}], got [${pads.join(',')}]`);
  }
  if (!['constant', 'reflect', 'edge', 'wrap'].includes(mode)) throw new ArgumentError(`pad: unknown mode '${mode}' (constant, reflect, edge, wrap)`);
  if (isPacked(x.dtype)) throw new DTypeError(`pad: packed dtype ${x.dtype} is not supported; cast first`);
  for (let k = 0; k < r; k++) {
    const d = x.shape[k]!;
    const out = d + pads[k]! + pads[k + r]!;
    if (out < 0) throw new ShapeError(`pad: pads [${pads.join(',')}] crop axis ${k} of x [${x.shape.join(',')}] below zero`);
    if (mode !== 'constant' && d === 0 && out > 0) throw new ShapeError(`pad: cannot ${mode}-pad the empty axis ${k} of x [${x.shape.join(',')}]`);
  }
  return engine().run1('Pad', [x], { pads: [...pads], mode, value });
}

/**
 * The adjoint of {@link pad} (its gradient for non-constant modes): dy of the padded shape →
 * `inputShape`, each element summed into the input element it was copied from.
 */
export function padAdjoint(dy: Tensor, inputShape: readonly number[], pads: readonly number[], mode: PadMode): Tensor {
  const r = inputShape.length;
  if (dy.rank !== r || pads.length !== 2 * r || dy.shape.some((d, k) => d !== inputShape[k]! + pads[k]! + pads[k + r]!)) {
    throw new ShapeError(`padAdjoint: dy [${dy.shape.join(',')}] is not input [${inputShape.join(',')}] padded by [${pads.join(',')}]`);
  }
  if (dy.dtype !== 'float32' && dy.dtype !== 'float16') throw new DTypeError(`padAdjoint: dtype ${dy.dtype} is not supported (float32, float16)`);
  return engine().run1('PadAdjoint', [dy], { inputShape: [...inputShape], pads: [...pads], mode });
}
