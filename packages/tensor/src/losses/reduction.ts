import { ArgumentError } from '../errors.js';
import { mean } from '../ops/reduce_ext.js';
import { sum } from '../ops/reduce.js';
import type { Tensor } from '../tensor.js';

/** How a loss combines per-sample values: their mean (default), sum, or none (per-sample). */
export type Reduction = 'mean' | 'sum' | 'none';

/** Apply a reduction to per-sample losses. */
export function reduceLoss(perSample: Tensor, reduction: Reduction | undefined, where: string): Tensor {
  switch (reduction ?? 'mean') {
    case 'mean':
      return mean(perSample);
    case 'sum':
      return sum(perSample);
    case 'none':
      return perSample;
    default:
      throw new ArgumentError(`${where}: reduction '${String(reduction)}' is not one of 'mean', 'sum', 'none'`);
  }
}
