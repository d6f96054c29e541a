import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { axis as normAxis, hostInts } from './util.js';

/**
 * ONNX CumProd (opset 26; exclusive, reverse) as a log-step scan of tensor ops (differentiable,
 * every backend): ⌈log₂ n⌉ times, the running products times themselves shifted by 1, 2, 4, …
 * along the axis (ones shifted in); reverse flips the axis around it, exclusive shifts the
 * result by one.
 */
registerOp('CumProd', async ([x, axisT], ctx) => {
  const a = normAxis((await hostInts(axisT!))[0]!, x!.rank, ctx);
  const n = x!.shape[a]!;
  const flip = (t: Tensor): Tensor => T.slice(t, [n - 1], [-n - 1], [a], [-1]);
  const ones = (k: number): Tensor => T.ones(x!.shape.map((d, i) => (i === a ? k : d)), x!.dtype, { backend: x!.backend });
  /** t shifted k places along the axis, ones in front. */
  const shift = (t: Tensor, k: number): Tensor => (k >= n ? ones(n) : T.concat([ones(k), T.slice(t, [0], [n - k], [a])], a));
  const reverse = ctx.int('reverse', 0) === 1;
  let y = reverse ? flip(x!) : x!;
  for (let k = 1; k < n; k *= 2) y = T.mul(y, shift(y, k));
  if (ctx.int('exclusive', 0) === 1 && n > 0) y = shift(y, 1);
  return [reverse ? flip(y) : y];
});
