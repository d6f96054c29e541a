import { isFloat } from '../dtype.js';
import { ArgumentError, DTypeError, ShapeError } from '../errors.js';
import { add, mul } from '../ops/binary.js';
import { gatherElements } from '../ops/gather.js';
import { mean } from '../ops/reduce_ext.js';
import { sum } from '../ops/reduce.js';
import { addScalar, mulScalar } from '../ops/scalar.js';
import { logSoftmax } from '../ops/softmax.js';
import { neg } from '../ops/unary.js';
import { reshape } from '../ops/views.js';
import type { Tensor } from '../tensor.js';
import { type Reduction, reduceLoss } from './reduction.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** 'mean' over samples (default), 'sum', or 'none' for a [N] tensor of per-sample losses. */
  reduction?: Reduction;
  /**
   * Label smoothing ε in [0, 1): the target becomes (1 − ε)·target + ε/C, as in
   * torch.nn.CrossEntropyLoss(label_smoothing=ε). Default 0.
   */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of `logits` [N, C] against `labels`: either class indices (int32/int64 [N],
 * values in [0, C)) or target probabilities (float [N, C], each row summing to 1). Computed
 * through logSoftmax, so it is numerically stable for large logits; differentiable in `logits`
 * (and in soft targets). Matches torch.nn.functional.cross_entropy.
 */
export function crossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  if (logits.rank !== 2) throw new ShapeError(`crossEntropy: logits must be [N, C], got [${logits.shape.join(',')}]`);
  if (!isFloat(logits.dtype)) throw new DTypeError(`crossEntropy: logits must be float, got ${logits.dtype}`);
  const [n, c] = logits.shape as [number, number];
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps < 1)) throw new ArgumentError(`crossEntropy: labelSmoothing must be in [0, 1), got ${eps}`);
  const logp = logSoftmax(logits, 1);
  let perSample: Tensor;
  if (labels.dtype === 'int32' || labels.dtype === 'int64') {
    if (labels.rank !== 1 || labels.shape[0] !== n) {
      throw new ShapeError(`crossEntropy: class-index labels must be [${n}] for logits [${n},${c}], got [${labels.shape.join(',')}]`);
    }
    const picked = reshape(gatherElements(logp, reshape(labels, [n, 1]), 1), [n]);
    perSample = neg(picked);
    if (eps > 0) {
      // (1 − ε)·(−log p_y) + ε·(−mean_c log p_c)
      perSample = addWeighted(perSample, 1 - eps, neg(mean(logp, [1])), eps);
    }
  } else if (isFloat(labels.dtype)) {
    if (labels.rank !== 2 || labels.shape[0] !== n || labels.shape[1] !== c) {
      throw new ShapeError(`crossEntropy: probability targets must be [${n},${c}] like the logits, got [${labels.shape.join(',')}]`);
    }
    if (labels.dtype !== logits.dtype) throw new DTypeError(`crossEntropy: targets are ${labels.dtype}, logits ${logits.dtype}`);
    const target = eps > 0 ? addScalar(mulScalar(labels, 1 - eps), eps / c) : labels;
    perSample = neg(sum(mul(target, logp), [1]));
  } else {
    throw new DTypeError(`crossEntropy: labels must be int32/int64 class indices or float probabilities, got ${labels.dtype}`);
  }
  return reduceLoss(perSample, opts.reduction, 'crossEntropy');
}

function addWeighted(a: Tensor, wa: number, b: Tensor, wb: number): Tensor {
  return add(mulScalar(a, wa), mulScalar(b, wb));
}
