import { engine } from '../engine.js';
import { DTypeError } from '../errors.js';
import { isFloat } from '../dtype.js';
import { normalizeAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';

function run(name: 'Softmax' | 'LogSoftmax', where: string, x: Tensor, axis: number): Tensor {
  if (!isFloat(x.dtype)) throw new DTypeError(`${where}: input is ${x.dtype}; softmax needs float32 or float16`);
  return engine().run1(name, [x], { axis: x.rank === 0 ? 0 : normalizeAxis(axis, x.rank, where) });
}

/** exp(x - max) / sum(exp(x - max)) along one `axis` (ONNX opset 13 Softmax). */
export const softmax = (x: Tensor, axis = -1): Tensor => run('Softmax', 'softmax', x, axis);
/** x - max - log(sum(exp(x - max))) along one `axis` (ONNX opset 13 LogSoftmax). */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => run('LogSoftmax', 'logSoftmax', x, axis);
