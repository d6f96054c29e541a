import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';

/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (inference): input [N, C, d…], target
 * [N, d…], optional weight [C], ignore_index, reduction none / sum / mean (weighted mean).
 */
function nll(logp: Tensor, target: Tensor, weight: Tensor | undefined, ctx: OpContext): Tensor {
  const ignore = ctx.intOpt('ignore_index');
  const backend = logp.backend;
  const tgt = target.dtype === 'int64' || target.dtype === 'int32' ? target : T.cast(target, 'int64');
  let valid: Tensor | undefined;
  let safe = tgt;
  if (ignore !== undefined) {
    valid = T.logicalNot(T.equal(tgt, T.full([], ignore, tgt.dtype, { backend })));
    safe = T.where(valid, tgt, T.full([], 0, tgt.dtype, { backend }));
  }
  const picked = T.squeeze(T.gatherElements(logp, T.unsqueeze(safe, [1]), 1), [1]);
  let w = weight ? T.gather(weight, safe, 0) : T.full(safe.shape, 1, logp.dtype, { backend });
  if (valid) w = T.mul(w, T.cast(valid, logp.dtype));
  const loss = T.neg(T.mul(picked, w));
  const red = ctx.string('reduction', 'mean');
  if (red === 'none') return loss;
  if (red === 'sum') return T.sum(loss);
  return T.div(T.sum(loss), T.sum(w));
}

registerOp('NegativeLogLikelihoodLoss', ([x, target, weight], ctx) => [nll(x!, target!, weight, ctx)]);
registerOp('SoftmaxCrossEntropyLoss', ([x, target, weight], ctx) => {
  const logp = T.logSoftmax(x!, 1);
  return [nll(logp, target!, weight, ctx), logp];
});
