import { engine } from '../engine.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/**
 * Inference-mode batch normalization (ONNX BatchNormalization, training_mode 0) over channel
 * axis 1 of x [N, C, ...] (rank >= 2): y = (x - mean) / sqrt(variance + eps) * scale + bias,
 * each parameter of shape [C]. Differentiable in x, scale and bias (and mean and variance).
 */
export function batchNorm(x: Tensor, scale: Tensor, bias: Tensor, mean: Tensor, variance: Tensor, eps = 1e-5): Tensor {
  if (x.rank < 2) throw new ShapeError(`batchNorm: input must be [N, C, ...] (rank >= 2), got [${x.shape.join(',')}]`);
  if (x.dtype !== 'float32' && x.dtype !== 'float16') throw new DTypeError(`batchNorm: dtype ${x.dtype} is not supported (float32, float16)`);
  const C = x.shape[1]!;
  const params: [string, Tensor][] = [['scale', scale], ['bias', bias], ['mean', mean], ['variance', variance]];
  for (const [name, p] of params) {
    if (p.rank !== 1 || p.shape[0] !== C) {
      throw new ShapeError(`batchNorm: ${name} must have shape [${C}] (channels of x [${x.shape.join(',')}]), got [${p.shape.join(',')}]`);
    }
    if (p.dtype !== x.dtype) throw new DTypeError(`batchNorm: ${name} has dtype ${p.dtype}, x has ${x.dtype}`);
  }
  if (!(eps >= 0)) throw new ArgumentError(`batchNorm: eps must be >= 0, got ${eps}`);
  return engine().run1('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: eps });
}
