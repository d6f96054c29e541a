import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';

/**
 * com.microsoft SkipSimplifiedLayerNormalization: s = input + skip (+ bias), then RMS
 * normalization over the last axis scaled by gamma. Outputs: output, mean, inv_std_var ([..., 1]) and input_skip_bias_sum s, the
 * residual stream the next block adds to. skip broadcasts against input ([S, H] or [1, S, H]).
 * mean is zeros [..., 1]: the simplified form has none, and onnxruntime writes zeros there.
 */
registerOp(
  'SkipSimplifiedLayerNormalization',
  ([x, skip, gamma, bias], ctx) => {
    let sum = T.add(x!, skip!);
    if (bias) sum = T.add(sum, bias);
    const last = sum.rank - 1;
    const inv = T.reciprocal(T.sqrt(T.addScalar(T.mean(T.mul(sum, sum), [last], true), ctx.float('epsilon', 1e-12))));
    return [T.mul(T.mul(sum, inv), gamma!), T.zerosLike(inv), inv, sum];
  },
  'com.microsoft',
);
