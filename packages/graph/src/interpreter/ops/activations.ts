import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { scalarLike } from './util.js';

/**
 * Element-wise ops composed from tensor ops (no dedicated kernel): Elu, Selu, Celu,
 * ThresholdedRelu, Softsign, Shrink, Mish, Swish, PRelu, IsNaN, IsInf, Tan, Sinh, Cosh, Asinh,
 * Acosh, Atanh, Mod.
 */
const zeroLike = (x: Tensor): Tensor => scalarLike(x, 0);
const oneLike = (x: Tensor): Tensor => scalarLike(x, 1);

const unary: Record<string, (x: Tensor, ctx: OpContext) => Tensor> = {
  Elu: (x, ctx) => T.where(T.greater(x, zeroLike(x)), x, T.mulScalar(T.addScalar(T.exp(x), -1), ctx.float('alpha', 1))),
  Selu: (x, ctx) => {
    const alpha = ctx.float('alpha', 1.67326319217681884765625);
    const gamma = ctx.float('gamma', 1.05070102214813232421875);
    return T.mulScalar(T.where(T.greater(x, zeroLike(x)), x, T.mulScalar(T.addScalar(T.exp(x), -1), alpha)), gamma);
  },
  Celu: (x, ctx) => {
    const alpha = ctx.float('alpha', 1);
    const neg = T.mulScalar(T.addScalar(T.exp(T.mulScalar(x, 1 / alpha)), -1), alpha);
    return T.add(T.relu(x), T.minimum(zeroLike(x), neg));
  },
  ThresholdedRelu: (x, ctx) => T.where(T.greater(x, scalarLike(x, ctx.float('alpha', 1))), x, zeroLike(x)),
  Softsign: (x) => T.div(x, T.addScalar(T.abs(x), 1)),
  Shrink: (x, ctx) => {
    const lambd = ctx.float('lambd', 0.5);
    const bias = ctx.float('bias', 0);
    const xf = T.isFloat(x.dtype) ? x : T.cast(x, 'float32');
    const y = T.where(T.less(xf, scalarLike(xf, -lambd)), T.addScalar(xf, bias), T.where(T.greater(xf, scalarLike(xf, lambd)), T.addScalar(xf, -bias), zeroLike(xf)));
    return y.dtype === x.dtype ? y : T.cast(y, x.dtype);
  },
  Mish: (x) => T.mul(x, T.tanh(T.softplus(x))),
  Swish: (x, ctx) => T.mul(x, T.sigmoid(T.mulScalar(x, ctx.float('alpha', 1)))),
  IsNaN: (x) => T.logicalNot(T.equal(x, x)),
  IsInf: (x, ctx) => {
    const pos = ctx.int('detect_positive', 1) === 1 ? T.equal(x, scalarLike(x, Infinity)) : undefined;
    const neg = ctx.int('detect_negative', 1) === 1 ? T.equal(x, scalarLike(x, -Infinity)) : undefined;
    if (pos && neg) return T.logicalOr(pos, neg);
    return pos ?? neg ?? T.full(x.shape, 0, 'bool', { backend: x.backend });
  },
  Tan: (x) => T.div(T.sin(x), T.cos(x)),
  Sinh: (x) => T.mulScalar(T.sub(T.exp(x), T.exp(T.neg(x))), 0.5),
  Cosh: (x) => T.mulScalar(T.add(T.exp(x), T.exp(T.neg(x))), 0.5),
  Asinh: (x) => T.log(T.add(x, T.sqrt(T.addScalar(T.mul(x, x), 1)))),
  Acosh: (x) => T.log(T.add(x, T.sqrt(T.addScalar(T.mul(x, x), -1)))),
  Atanh: (x) => T.mulScalar(T.log(T.div(T.add(oneLike(x), x), T.sub(oneLike(x), x))), 0.5),
};
for (const [op, f] of Object.entries(unary)) registerOp(op, ([x], ctx) => [f(x!, ctx)]);

registerOp('PRelu', ([x, slope]) => [T.where(T.less(x!, zeroLike(x!)), T.mul(x!, slope!), x!)]);

/** trunc toward zero. */
const trunc = (x: Tensor): Tensor => T.mul(T.sign(x), T.floor(T.abs(x)));

/**
 * Mod: fmod = 0 → integer modulus with the divisor's sign, fmod = 1 → C fmod (dividend's sign).
 * Integers are computed exactly with integer ops (Div truncates): r = a − b·trunc(a/b), then
 * moved to the divisor's sign for fmod = 0.
 */
registerOp('Mod', ([a, b], ctx) => {
  const fmod = ctx.int('fmod', 0) === 1;
  if (T.isFloat(a!.dtype)) {
    const q = T.div(a!, b!);
    return [T.sub(a!, T.mul(b!, fmod ? trunc(q) : T.floor(q)))];
  }
  const r = T.sub(a!, T.mul(b!, T.div(a!, b!)));
  if (fmod) return [r];
  const zero = T.zerosLike(r);
  const fix = T.logicalAnd(T.logicalNot(T.equal(r, zero)), T.logicalXor(T.less(r, zero), T.less(b!, T.zerosLike(b!))));
  return [T.where(fix, T.add(r, b!), r)];
});
