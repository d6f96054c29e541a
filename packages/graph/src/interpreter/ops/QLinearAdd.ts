import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { dequantize, quantize } from './qlinear_util.js';

/**
 * com.microsoft QLinearAdd: C = quantize(dequantize(A) + dequantize(B)) with multidirectional
 * broadcasting; C has A's element type (or C_zero_point's).
 */
registerOp(
  'QLinearAdd',
  ([a, aS, aZp, b, bS, bZp, cS, cZp], ctx) => [quantize(ctx, T.add(dequantize(ctx, a!, aS!, aZp, 'A'), dequantize(ctx, b!, bS!, bZp, 'B')), cS!, cZp, a!.dtype)],
  'com.microsoft',
);
