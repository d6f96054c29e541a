import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * ONNX CausalConvWithState (opset 27): a depthwise causal 1-D convolution over `[B, C, T]` whose
 * left context is `past_state` `[B, C, K−1]` (zeros when absent), plus bias and an optional
 * SiLU/Swish; `present_state` is the last K−1 steps of the padded input, the next call's context.
 * A grouped conv on tensor ops (every backend, differentiable), as the op's function body.
 */
registerOp('CausalConvWithState', ([x, w, bias, past], ctx) => {
  const [b, c, t] = x!.shape as [number, number, number];
  if (x!.rank !== 3 || w!.rank !== 3 || w!.shape[0] !== c || w!.shape[1] !== 1) {
    unsupported(ctx, `input [${x!.shape.join(',')}] with weight [${w!.shape.join(',')}] (expected [B, C, T] and depthwise [C, 1, K])`);
  }
  const k = w!.shape[2]!;
  const activation = ctx.string('activation', 'none');
  if (activation !== 'none' && activation !== 'silu' && activation !== 'swish') unsupported(ctx, `activation '${activation}'`);
  const context = past ?? T.zeros([b, c, k - 1], x!.dtype, { backend: x!.backend });
  const padded = k > 1 ? T.concat([context, x!], 2) : x!;
  const len = t + k - 1;
  // float16 sums and activates in float32 (one rounding at the end, as the reference's)
  const f = (v: T.Tensor): T.Tensor => (v.dtype === 'float16' ? T.cast(v, 'float32') : v);
  const conv = T.conv2d(T.reshape(f(padded), [b, c, 1, len]), T.reshape(f(w!), [c, 1, 1, k]), bias && f(bias), { group: c });
  let y = T.reshape(conv, [b, c, t]);
  if (activation !== 'none') y = T.mul(y, T.sigmoid(y));
  return [y.dtype === x!.dtype ? y : T.cast(y, x!.dtype), T.slice(padded, [len - (k - 1)], [len], [2])];
});
