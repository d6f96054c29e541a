import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { badInput } from './contrib_util.js';
import { perTensor } from './qlinear_util.js';

/**
 * com.microsoft QLinearMul with multidirectional broadcasting, as onnxruntime's MLAS kernel
 * computes it: (A - a_zp)(B - b_zp) (an exact integer) times the float32 ratio a_scale · b_scale
 * / c_scale, plus c_zp in float32, rounded half to even and saturated; C has A's element type.
 */
registerOp(
  'QLinearMul',
  async ([a, aS, aZp, b, bS, bZp, cS, cZp], ctx) => {
    for (const [t, n] of [[a!, 'A'], [b!, 'B']] as const) if (t.dtype !== 'uint8' && t.dtype !== 'int8') throw badInput(ctx, `${n} is ${t.dtype}; it must be uint8 or int8`);
    const centered = (x: T.Tensor, zp: T.Tensor | undefined, n: string): T.Tensor => {
      const f = T.cast(x, 'float32');
      return zp ? T.sub(f, T.cast(perTensor(ctx, zp, `${n}'s zero point`), 'float32')) : f;
    };
    const s = async (t: T.Tensor, n: string): Promise<number> => Math.fround((await perTensor(ctx, t, n).toFloat64())[0]!);
    const ratio = Math.fround(Math.fround((await s(aS!, 'A_scale')) * (await s(bS!, 'B_scale'))) / (await s(cS!, 'C_scale')));
    let v = T.mulScalar(T.mul(centered(a!, aZp, 'A'), centered(b!, bZp, 'B')), ratio);
    // the zero point is added in float before rounding, as the kernel does (it decides .5 ties)
    if (cZp) v = T.add(v, T.cast(perTensor(ctx, cZp, 'C_zero_point'), 'float32'));
    return [T.quantizeLinear(v, T.full([], 1, 'float32', { backend: v.backend }), undefined, { dtype: cZp?.dtype ?? a!.dtype })];
  },
  'com.microsoft',
);
