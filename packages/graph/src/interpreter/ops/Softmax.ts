import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { prod } from './util.js';

/**
 * Softmax, LogSoftmax and Hardmax. Before opset 13 the input is coerced to 2-D at `axis`
 * (default 1) and the op runs over the flattened trailing block; since 13 over `axis` (default -1).
 */
function family(f: (x: Tensor, axis: number) => Tensor) {
  return ([x]: readonly (Tensor | undefined)[], ctx: OpContext): Tensor[] => {
    const r = x!.rank;
    if (ctx.opset >= 13) return [f(x!, ctx.int('axis', -1))];
    let a = ctx.int('axis', 1);
    if (a < 0) a += r;
    const y = f(T.reshape(x!, [prod(x!.shape.slice(0, a)), prod(x!.shape.slice(a))]), 1);
    return [T.reshape(y, x!.shape)];
  };
}

/** One-hot of the first maximum along axis, in x's dtype. */
function hardmax(x: Tensor, axis: number): Tensor {
  const a = axis < 0 ? axis + x.rank : axis;
  const idx = T.argmax(x, a, false);
  const oh = T.oneHot(idx, x.shape[a]!, a);
  return oh.dtype === x.dtype ? oh : T.cast(oh, x.dtype);
}

registerOp('Softmax', family(T.softmax));
registerOp('LogSoftmax', family(T.logSoftmax));
registerOp('Hardmax', family(hardmax));
