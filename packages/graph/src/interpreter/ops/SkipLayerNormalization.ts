import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { badInput, expectVector, standardize } from './contrib_util.js';

/** skip must be input's shape, or, for a 3-D input [B, S, H], [1, S, H] or [S, H] (broadcast over the batch). */
function checkSkip(ctx: OpContext, x: Tensor, skip: Tensor): void {
  const same = skip.rank === x.rank && skip.shape.every((d, i) => d === x.shape[i]);
  const tail = (t: Tensor): string => t.shape.slice(-2).join(',');
  const batchFree = x.rank === 3 && tail(skip) === tail(x) && (skip.rank === 2 || (skip.rank === 3 && skip.shape[0] === 1));
  if (!same && !batchFree) throw badInput(ctx, `skip has shape [${skip.shape.join(',')}]; for input [${x.shape.join(',')}] it must be the same shape${x.rank === 3 ? `, [1,${tail(x)}] or [${tail(x)}]` : ''}`);
}

/**
 * com.microsoft SkipLayerNormalization: s = input + skip (+ bias), then layer normalization of s
 * over the last axis, scaled by gamma and shifted by beta (both optional inputs bias and beta are
 * 1-D over the last axis). Outputs: output, mean and inv_std_var (kept as [..., 1]) and
 * input_skip_bias_sum s — the residual stream the next block adds to. epsilon defaults to 1e-12.
 */
registerOp(
  'SkipLayerNormalization',
  ([x, skip, gamma, beta, bias], ctx) => {
    if (x!.rank !== 2 && x!.rank !== 3) throw badInput(ctx, `input has shape [${x!.shape.join(',')}]; it must be 3-D [batch, sequence, hidden] or 2-D [tokens, hidden]`);
    checkSkip(ctx, x!, skip!);
    const h = x!.shape[x!.rank - 1]!;
    expectVector(ctx, gamma!, 'gamma', h);
    if (beta) expectVector(ctx, beta, 'beta', h);
    if (bias) expectVector(ctx, bias, 'bias', h);
    let sum = T.add(x!, skip!);
    if (bias) sum = T.add(sum, bias);
    const { normalized, mean, invStd } = standardize(sum, sum.rank - 1, ctx.float('epsilon', 1e-12));
    const scaled = T.mul(normalized, gamma!);
    return [beta ? T.add(scaled, beta) : scaled, mean, invStd, sum];
  },
  'com.microsoft',
);
