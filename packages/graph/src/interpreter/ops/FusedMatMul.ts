import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { badInput } from './contrib_util.js';

/**
 * An operand as FusedMatMul multiplies it: `transBatch` moves axis 0 to just before the last
 * axis (permutation [1, …, r-2, 0, r-1]), then `trans` swaps the last two axes, as onnxruntime's
 * MatMulComputeHelper reads them. A vector is taken as it is (both flags ignored), and on a
 * matrix transBatch is the identity.
 */
function arrange(x: Tensor, trans: boolean, transBatch: boolean): Tensor {
  const r = x.rank;
  if (r < 2) return x;
  const perm = transBatch ? [...Array.from({ length: r - 2 }, (_, i) => i + 1), 0, r - 1] : Array.from({ length: r }, (_, i) => i);
  if (trans) [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return perm.every((p, i) => p === i) ? x : T.transpose(x, perm);
}

/**
 * com.microsoft FusedMatMul (onnxruntime fuses MatMul with a neighbouring Transpose and a scalar
 * Mul/Div into it): Y = alpha · (A' @ B'), A' and B' the operands arranged by transA/transBatchA
 * and transB/transBatchB (see {@link arrange}); numpy matmul semantics otherwise. As in
 * onnxruntime, transBatchA/B need operands of one rank, at least 3.
 */
registerOp(
  'FusedMatMul',
  ([a, b], ctx) => {
    const batchA = ctx.int('transBatchA', 0) !== 0;
    const batchB = ctx.int('transBatchB', 0) !== 0;
    if ((batchA || batchB) && (a!.rank !== b!.rank || a!.rank < 3)) {
      throw badInput(ctx, `transBatch${batchA ? 'A' : 'B'} needs A and B of one rank, at least 3; got [${a!.shape.join(',')}] and [${b!.shape.join(',')}]`);
    }
    const y = T.matmul(arrange(a!, ctx.int('transA', 0) !== 0, batchA), arrange(b!, ctx.int('transB', 0) !== 0, batchB));
    const alpha = ctx.float('alpha', 1);
    return [alpha === 1 ? y : T.mulScalar(y, alpha)];
  },
  'com.microsoft',
);
