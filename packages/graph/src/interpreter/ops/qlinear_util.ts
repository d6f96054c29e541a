import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import type { OpContext } from '../context.js';
import { badInput } from './contrib_util.js';

/**
 * Helpers of onnxruntime's QOperator ops (com.microsoft QLinearAdd, QLinearMul, QLinearSigmoid,
 * …): per-tensor dequantization to float32 and quantization back with QuantizeLinear's rounding
 * (half to even) and saturation, which onnxruntime's kernels apply to their float results.
 */

/** A per-tensor scale or zero point as a scalar; a tensor of more than one element is refused. */
export function perTensor(ctx: OpContext, t: Tensor, name: string): Tensor {
  if (t.size !== 1) throw badInput(ctx, `${name} has shape [${t.shape.join(',')}]; onnxruntime takes a scalar (one element) here`);
  return t.rank === 0 ? t : T.reshape(t, []);
}

/** (x - zp) · scale in float32; a missing zero point is 0. */
export function dequantize(ctx: OpContext, x: Tensor, scale: Tensor, zp: Tensor | undefined, name: string): Tensor {
  if (x.dtype !== 'uint8' && x.dtype !== 'int8') throw badInput(ctx, `${name} is ${x.dtype}; it must be uint8 or int8`);
  const s = perTensor(ctx, scale, `${name}'s scale`);
  return T.dequantizeLinear(x, s.dtype === 'float32' ? s : T.cast(s, 'float32'), zp ? perTensor(ctx, zp, `${name}'s zero point`) : undefined);
}

/** saturate(round_half_even(y / scale) + zp) in `dtype` (the zero point's dtype when it is given). */
export function quantize(ctx: OpContext, y: Tensor, scale: Tensor, zp: Tensor | undefined, dtype: T.DType): Tensor {
  const s = perTensor(ctx, scale, 'the output scale');
  const z = zp ? perTensor(ctx, zp, 'the output zero point') : undefined;
  return T.quantizeLinear(y, s.dtype === 'float32' ? s : T.cast(s, 'float32'), z, { dtype: z?.dtype ?? dtype });
}

/**
 * The pooled input of the QLinear pools: 8-bit codes with a batch, a channel and at least one
 * spatial axis; returns whether they are NHWC (channels_last 1).
 */
export function checkPoolInput(ctx: OpContext, x: Tensor): boolean {
  if (x.rank < 3) throw badInput(ctx, `X has rank ${x.rank}; it needs a batch, a channel and at least one spatial axis`);
  if (x.dtype !== 'uint8' && x.dtype !== 'int8') throw badInput(ctx, `X is ${x.dtype}; it must be uint8 or int8`);
  return ctx.int('channels_last', 0) === 1;
}
