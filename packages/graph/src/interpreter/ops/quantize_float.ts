import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import type { OpContext } from '../context.js';
import { unsupported } from './util.js';

/**
 * QuantizeLinear / DequantizeLinear with a float8 / float4 quantized type (opset 19 / 23):
 * y = Cast(x / scale + zero_point, saturate) and x = (Cast(q) - Cast(zero_point)) * scale, built
 * on tensor ops (div, add, sub, mul, Cast) so they run on the inputs' backend. Scales are
 * per-tensor or per-axis; the arithmetic is float32, the result is rounded once to the format
 * (or to the scale's float16).
 */

/** A per-tensor scale/zero point as a scalar, a per-axis one reshaped to broadcast along `axis` of x. */
function along(t: Tensor, x: Tensor, axis: number): Tensor {
  if (t.rank === 0) return t;
  const a = axis < 0 ? axis + x.rank : axis;
  return T.reshape(t, x.shape.map((_, i) => (i === a ? t.size : 1)));
}

const f32 = (t: Tensor): Tensor => (t.dtype === 'float32' ? t : T.cast(t, 'float32'));

function checkLayout(ctx: OpContext): number {
  if (ctx.int('block_size', 0) > 0) unsupported(ctx, `block-wise ${ctx.node.opType} to or from a float8/float4 type`);
  return ctx.int('axis', 1);
}

/** QuantizeLinear into a float format (`dtype`), honouring the saturate attribute. */
export function quantizeToFloatFormat(x: Tensor, scale: Tensor, zp: Tensor | undefined, dtype: T.DType, ctx: OpContext): Tensor {
  const axis = checkLayout(ctx);
  let y = T.div(f32(x), along(f32(scale), x, axis));
  if (zp) y = T.add(y, along(f32(zp), x, axis));
  return T.cast(y, dtype, { saturate: ctx.int('saturate', 1) !== 0 });
}

/** DequantizeLinear from a float format; the result has the scale's dtype. */
export function dequantizeFromFloatFormat(q: Tensor, scale: Tensor, zp: Tensor | undefined, ctx: OpContext): Tensor {
  const axis = checkLayout(ctx);
  let v = f32(q);
  if (zp) v = T.sub(v, along(f32(zp), q, axis));
  const y = T.mul(v, along(f32(scale), q, axis));
  return y.dtype === scale.dtype ? y : T.cast(y, scale.dtype);
}
