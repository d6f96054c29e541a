import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { dequantize, quantize } from './qlinear_util.js';

/**
 * com.microsoft QLinearLeakyRelu: Y = quantize(leaky_relu(dequantize(X), alpha)), alpha default
 * 0.01 taken as the float32 the attribute is (it decides which side of a .5 tie a product lands).
 */
registerOp(
  'QLinearLeakyRelu',
  ([x, xS, xZp, yS, yZp], ctx) => [quantize(ctx, T.leakyRelu(dequantize(ctx, x!, xS!, xZp, 'X'), Math.fround(ctx.float('alpha', 0.01))), yS!, yZp, x!.dtype)],
  'com.microsoft',
);
