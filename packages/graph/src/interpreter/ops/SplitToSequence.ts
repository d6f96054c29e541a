import * as T from '@whittle/tensor';
import { registerValueOp } from '../registry.js';
import { isTensor } from '../value.js';
import { axis as normAxis, hostInts, unsupported } from './util.js';

/**
 * ONNX SplitToSequence: `input` split along `axis` into a sequence — by the sizes in `split`
 * (a 1-D tensor), into chunks of `split` (a scalar; the last may be smaller), or without `split`
 * into slices of size 1 that `keepdims` = 0 squeezes.
 */
registerValueOp('SplitToSequence', async ([x, split], ctx) => {
  if (!isTensor(x)) return unsupported(ctx, 'an input that is not a tensor');
  const a = normAxis(ctx.int('axis', 0), x.rank, ctx);
  const d = x.shape[a]!;
  if (!isTensor(split)) {
    const parts = T.split(x, new Array<number>(d).fill(1), a);
    return [{ kind: 'sequence', items: ctx.int('keepdims', 1) === 1 ? parts : parts.map((p) => T.squeeze(p, [a])) }];
  }
  const values = await hostInts(split);
  let sizes: number[];
  if (split.rank === 0) {
    const chunk = values[0]!;
    if (!(chunk > 0)) unsupported(ctx, `a split size of ${chunk}`);
    sizes = Array.from({ length: Math.ceil(d / chunk) }, (_, i) => Math.min(chunk, d - i * chunk));
  } else {
    sizes = values;
    if (sizes.reduce((s, v) => s + v, 0) !== d || sizes.some((v) => v < 0)) unsupported(ctx, `split sizes [${sizes.join(',')}] for an axis of ${d}`);
  }
  return [{ kind: 'sequence', items: T.split(x, sizes, a) }];
});
