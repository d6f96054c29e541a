import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts } from './util.js';

/**
 * ONNX Split: sizes from the `split` attribute (< 13) or input (>= 13); otherwise equal parts
 * for the number of outputs (opset 18 num_outputs: the last part may be smaller).
 */
registerOp('Split', async ([x, splitT], ctx) => {
  const a = ctx.int('axis', 0);
  const ax = a < 0 ? a + x!.rank : a;
  const d = x!.shape[ax]!;
  const n = ctx.node.outputs.length;
  let sizes = ctx.opset >= 13 ? (splitT ? await hostInts(splitT) : undefined) : ctx.ints('split');
  if (!sizes || sizes.length === 0) {
    const parts = ctx.intOpt('num_outputs') ?? n;
    const chunk = Math.ceil(d / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
  }
  return T.split(x!, sizes, ax);
});
