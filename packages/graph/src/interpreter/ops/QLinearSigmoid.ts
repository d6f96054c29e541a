import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { dequantize, quantize } from './qlinear_util.js';

/** com.microsoft QLinearSigmoid: Y = quantize(sigmoid(dequantize(X))) in X's element type. */
registerOp(
  'QLinearSigmoid',
  ([x, xS, xZp, yS, yZp], ctx) => [quantize(ctx, T.sigmoid(dequantize(ctx, x!, xS!, xZp, 'X')), yS!, yZp, x!.dtype)],
  'com.microsoft',
);
