import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { badInput } from './contrib_util.js';
import { perTensor } from './qlinear_util.js';

const scalar = async (t: Tensor): Promise<number> => (await t.toFloat64())[0]!;

/**
 * com.microsoft QLinearAdd with multidirectional broadcasting, as onnxruntime's x86 MLAS kernel
 * computes it in float32: with rA = a_scale / c_scale, rB = b_scale / c_scale and the fixed part
 * c_zp - (rA · a_zp + rB · b_zp), C = saturate(round_half_even(fixed + rA · A + rB · B)) on the
 * raw codes — the output zero point is inside the rounding, so it decides .5 ties. A one-element
 * B is folded into the fixed part first, as the kernel does. C has A's element type.
 */
registerOp(
  'QLinearAdd',
  async ([a, aS, aZp, b, bS, bZp, cS, cZp], ctx) => {
    for (const [t, n] of [[a!, 'A'], [b!, 'B']] as const) if (t.dtype !== 'uint8' && t.dtype !== 'int8') throw badInput(ctx, `${n} is ${t.dtype}; it must be uint8 or int8`);
    const f = Math.fround;
    const sc = f(await scalar(perTensor(ctx, cS!, 'C_scale')));
    const rA = f(f(await scalar(perTensor(ctx, aS!, 'A_scale'))) / sc);
    const rB = f(f(await scalar(perTensor(ctx, bS!, 'B_scale'))) / sc);
    const za = aZp ? await scalar(perTensor(ctx, aZp, 'A_zero_point')) : 0;
    const zb = bZp ? await scalar(perTensor(ctx, bZp, 'B_zero_point')) : 0;
    const zc = cZp ? await scalar(perTensor(ctx, cZp, 'C_zero_point')) : 0;
    let fixed = f(zc - f(f(rA * za) + f(rB * zb)));
    const af = T.mulScalar(T.cast(a!, 'float32'), rA);
    let v: Tensor;
    if (b!.size === 1) {
      fixed = f(fixed + f((await scalar(b!)) * rB));
      v = T.addScalar(af, fixed);
      if (b!.rank > a!.rank) v = T.reshape(v, [...new Array<number>(b!.rank - a!.rank).fill(1), ...a!.shape]);
    } else {
      v = T.add(T.addScalar(af, fixed), T.mulScalar(T.cast(b!, 'float32'), rB));
    }
    return [T.quantizeLinear(v, T.full([], 1, 'float32', { backend: v.backend }), undefined, { dtype: cZp?.dtype ?? a!.dtype })];
  },
  'com.microsoft',
);
