import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { badInput } from './contrib_util.js';

/**
 * com.microsoft QGemm as onnxruntime's kernel computes it: acc = C + (A' - a_zp)(B' - b_zp) in
 * int32 (A', B' optionally transposed; C int32, broadcast to [M, N], added as is — beta is not
 * applied), then acc · (alpha · a_scale · b_scale[n]) as float32, or with y_scale quantized:
 * saturate(round_half_even(acc · (alpha · a_scale · b_scale[n] / y_scale)) + y_zp). b_scale and
 * b_zero_point are per tensor or per column ([N]).
 */
registerOp(
  'QGemm',
  async ([a, aS, aZp, b, bS, bZp, c, yS, yZp], ctx) => {
    if (a!.rank !== 2 || b!.rank !== 2) throw badInput(ctx, `A and B must be 2-D, got [${a!.shape.join(',')}] and [${b!.shape.join(',')}]`);
    if (aS!.size !== 1 || aZp!.size !== 1) throw badInput(ctx, 'a_scale and a_zero_point must be one element each');
    if (yS && yS.size !== 1) throw badInput(ctx, 'y_scale must be one element');
    const transA = ctx.int('transA', 0) === 1;
    const transB = ctx.int('transB', 0) === 1;
    const N = transB ? b!.shape[0]! : b!.shape[1]!;
    const perColumn = (t: Tensor, name: string): Tensor => {
      if (t.size === 1) return T.reshape(t, []);
      if (t.rank !== 1 || t.size !== N) throw badInput(ctx, `${name} has shape [${t.shape.join(',')}]; it must be one element or [${N}]`);
      return t;
    };
    const ai = T.sub(T.cast(transA ? T.transpose(a!, [1, 0]) : a!, 'int32'), T.cast(T.reshape(aZp!, []), 'int32'));
    const bi = T.sub(T.cast(transB ? T.transpose(b!, [1, 0]) : b!, 'int32'), T.cast(perColumn(bZp!, 'b_zero_point'), 'int32'));
    let acc = T.matmul(ai, bi);
    if (c) acc = T.add(acc, T.cast(c, 'int32'));
    // the output scales in float32, in onnxruntime's order: alpha · a_scale · b_scale[n] (/ y_scale)
    const alpha = Math.fround(ctx.float('alpha', 1));
    const aScale = (await aS!.toFloat64())[0]!;
    const yScale = yS ? (await yS.toFloat64())[0]! : undefined;
    const scales = Array.from(await bS!.toFloat64(), (s) => {
      const m = Math.fround(Math.fround(alpha * aScale) * s);
      return yScale === undefined ? m : Math.fround(m / yScale);
    });
    const mult = T.tensor(scales, scales.length === 1 ? [] : [scales.length], 'float32', { backend: acc.backend });
    const y = T.mul(T.cast(acc, 'float32'), mult);
    if (yS === undefined) return [y];
    const one = T.full([], 1, 'float32', { backend: acc.backend });
    const z = yZp && T.reshape(yZp, []);
    return [T.quantizeLinear(y, one, z, { dtype: z?.dtype ?? 'uint8' })];
  },
  'com.microsoft',
);
