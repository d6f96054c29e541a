import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { badInput } from './contrib_util.js';

/**
 * com.microsoft MatMulIntegerToFloat: Y = ((A - a_zp) @ (B - b_zp)) · (a_scale · b_scale) + bias
 * in float32, the int8/uint8 product accumulated in int32 as onnxruntime's QGemm. a_scale and
 * a_zp are per tensor; b_scale and b_zp per tensor or per column of B ([N]).
 */
export function integerMatMulToFloat(ctx: OpContext, a: Tensor, aScale: Tensor, aZp: Tensor | undefined, b: Tensor, bScale: Tensor, bZp: Tensor | undefined, bias: Tensor | undefined): Tensor {
  for (const [t, name] of [[a, 'A'], [b, 'B']] as const) if (t.dtype !== 'uint8' && t.dtype !== 'int8') throw badInput(ctx, `${name} is ${t.dtype}; it must be uint8 or int8`);
  if (aScale.size !== 1) throw badInput(ctx, `a_scale has shape [${aScale.shape.join(',')}]; it must be one element`);
  const N = b.shape[b.rank - 1]!;
  const perColumn = (t: Tensor, name: string): Tensor => {
    if (t.size === 1) return T.reshape(t, []);
    if (t.rank !== 1 || t.size !== N) throw badInput(ctx, `${name} has shape [${t.shape.join(',')}]; it must be one element or [${N}] (B's columns)`);
    return t;
  };
  const ai = T.cast(a, 'int32');
  const bi = T.cast(b, 'int32');
  const ac = aZp ? T.sub(ai, T.cast(T.reshape(aZp, []), 'int32')) : ai;
  const bc = bZp ? T.sub(bi, T.cast(perColumn(bZp, 'b_zero_point'), 'int32')) : bi;
  const acc = T.matmul(ac, bc);
  // onnxruntime multiplies the float32 scales first, then the accumulator by their product
  const mult = T.mul(T.cast(T.reshape(aScale, []), 'float32'), T.cast(perColumn(bScale, 'b_scale'), 'float32'));
  const y = T.mul(T.cast(acc, 'float32'), mult);
  return bias ? T.add(y, T.cast(bias, 'float32')) : y;
}

registerOp(
  'MatMulIntegerToFloat',
  ([a, b, aScale, bScale, aZp, bZp, bias], ctx) => [integerMatMulToFloat(ctx, a!, aScale!, aZp, b!, bScale!, bZp, bias)],
  'com.microsoft',
);
