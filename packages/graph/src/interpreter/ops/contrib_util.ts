import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import type { OpContext } from '../context.js';

/**
 * Helpers of the onnxruntime contrib ops (com.microsoft fused activations and normalizations):
 * input checks that name the node, and normalization over the trailing axes.
 */

/** A ShapeError naming the node and what is wrong with its inputs. */
export function badInput(ctx: OpContext, what: string): T.ShapeError {
  return new T.ShapeError(`node ${ctx.node.name || '(unnamed)'} (${ctx.node.domain ? `${ctx.node.domain}.` : ''}${ctx.node.opType}): ${what}`);
}

/** Throw unless `t` is 1-D of length `n` (the bias, gamma and beta vectors of the fused ops). */
export function expectVector(ctx: OpContext, t: Tensor, name: string, n: number): void {
  if (t.rank !== 1 || t.shape[0] !== n) throw badInput(ctx, `${name} has shape [${t.shape.join(',')}]; it must be 1-D of length ${n} (the input's last dimension)`);
}

/** What {@link standardize} returns: (x - mean) · invStd, and the statistics kept as [..., 1, …, 1]. */
export interface Standardized {
  normalized: Tensor;
  mean: Tensor;
  invStd: Tensor;
}

/** Mean and 1/√(variance + eps) over axes [axis, rank), and x standardized with them. */
export function standardize(x: Tensor, axis: number, eps: number): Standardized {
  const axes = Array.from({ length: x.rank - axis }, (_, i) => axis + i);
  const mean = T.mean(x, axes, true);
  const d = T.sub(x, mean);
  const invStd = T.reciprocal(T.sqrt(T.addScalar(T.mean(T.mul(d, d), axes, true), eps)));
  return { normalized: T.mul(d, invStd), mean, invStd };
}

/** 1/√(mean(x²) + eps) over axes [axis, rank) (RMS normalization), kept as [..., 1, …, 1]. */
export function invRms(x: Tensor, axis: number, eps: number): Tensor {
  const axes = Array.from({ length: x.rank - axis }, (_, i) => axis + i);
  return T.reciprocal(T.sqrt(T.addScalar(T.mean(T.mul(x, x), axes, true), eps)));
}
