import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis } from './util.js';
import { badInput } from './contrib_util.js';
import { dequantize, quantize } from './qlinear_util.js';

/**
 * com.microsoft QLinearConcat: inputs Y_scale, Y_zero_point, then (X, X_scale, X_zero_point)
 * per concatenated tensor; Y = quantize(concat(dequantize(X_i)), axis) in Y_zero_point's type.
 */
registerOp(
  'QLinearConcat',
  ([yS, yZp, ...rest], ctx) => {
    if (rest.length === 0 || rest.length % 3 !== 0) throw badInput(ctx, `after Y_scale and Y_zero_point it takes (X, X_scale, X_zero_point) triples; got ${rest.length} inputs`);
    const parts = [];
    for (let i = 0; i < rest.length; i += 3) parts.push(dequantize(ctx, rest[i]!, rest[i + 1]!, rest[i + 2], `input ${i / 3}`));
    return [quantize(ctx, T.concat(parts, axis(ctx.int('axis', 0), parts[0]!.rank, ctx)), yS!, yZp, yZp?.dtype ?? rest[0]!.dtype)];
  },
  'com.microsoft',
);
