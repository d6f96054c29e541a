import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

/**
 * Atan, Asin and Acos composed from tensor ops (there is no kernel for them), so they run on
 * every backend and carry gradients. atan reduces |x| > 1 to 1/|x|, halves the angle twice
 * (t → t / (1 + √(1 + t²)), |t| ≤ tan(π/16)) and sums its odd Taylor series to t¹¹ (error below
 * 1e-10); asin(x) = atan(x / √(1 − x²)), acos(x) = 2·atan(√((1 − x) / (1 + x))), accurate near ±1.
 */
function atan(x: Tensor): Tensor {
  const one = T.full([], 1, x.dtype, { backend: x.backend });
  const a = T.abs(x);
  const big = T.greater(a, one);
  let t = T.where(big, T.reciprocal(T.maximum(a, one)), a);
  for (let k = 0; k < 2; k++) t = T.div(t, T.add(one, T.sqrt(T.add(one, T.mul(t, t)))));
  const t2 = T.mul(t, t);
  // Horner form of t − t³/3 + t⁵/5 − t⁷/7 + t⁹/9 − t¹¹/11
  let s = T.full([], -1 / 11, x.dtype, { backend: x.backend });
  for (const c of [1 / 9, -1 / 7, 1 / 5, -1 / 3, 1]) s = T.addScalar(T.mul(s, t2), c);
  const r = T.mulScalar(T.mul(s, t), 4);
  const folded = T.where(big, T.sub(T.full([], Math.PI / 2, x.dtype, { backend: x.backend }), r), r);
  // sign(x)·folded keeps NaN (sign(NaN) is NaN or 0: where restores it)
  return T.where(T.equal(x, x), T.mul(T.sign(x), folded), x);
}

const ops: Record<string, (x: Tensor) => Tensor> = {
  Atan: atan,
  Asin: (x) => atan(T.div(x, T.sqrt(T.sub(T.full([], 1, x.dtype, { backend: x.backend }), T.mul(x, x))))),
  Acos: (x) => {
    const one = T.full([], 1, x.dtype, { backend: x.backend });
    return T.mulScalar(atan(T.sqrt(T.div(T.sub(one, x), T.add(one, x)))), 2);
  },
};

for (const [op, f] of Object.entries(ops)) {
  registerOp(op, ([x], ctx) => [T.isFloat(x!.dtype) ? f(x!) : unsupported(ctx, `a ${x!.dtype} input`)]);
}
