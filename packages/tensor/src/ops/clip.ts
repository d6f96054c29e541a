import { engine } from '../engine.js';
import { ArgumentError } from '../errors.js';
import { isInteger } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { NUMERIC_DTYPES, checkDType } from './unary.js';

/**
 * Clamp x to [min, max] (ONNX Clip). Either bound may be omitted (unbounded). NaN passes
 * through; when min > max the result is max everywhere (as numpy.clip). Integer tensors need
 * integer bounds.
 */
export function clip(x: Tensor, min?: number, max?: number): Tensor {
  checkDType('Clip', x, NUMERIC_DTYPES);
  const attrs: Record<string, unknown> = {};
  for (const [k, v] of [['min', min], ['max', max]] as const) {
    if (v === undefined) continue;
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ArgumentError(`clip: ${k} must be a number, got ${String(v)}`);
    if (isInteger(x.dtype) && !Number.isInteger(v)) {
      throw new ArgumentError(`clip: ${k} = ${v} is not an integer but the input is ${x.dtype}`);
    }
    attrs[k] = v;
  }
  return engine().run1('Clip', [x], attrs);
}
