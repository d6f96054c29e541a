import type { GradientTable } from '../node.js';
import type { Tensor } from '../../tensor.js';
import { isFloat } from '../../dtype.js';
import { reduceToShape } from '../reduce_to_shape.js';
import { add, div, equal, greater, greaterEqual, less, lessEqual, logicalAnd, mul, pow, sub } from '../../ops/binary.js';
import { scalar, zerosLike } from '../../ops/creation.js';
import { cos, erf, exp, log, neg, sigmoid, sign, sin } from '../../ops/unary.js';
import { where } from '../../ops/where.js';
import { cast } from '../../ops/cast.js';
import { addScalar, mulScalar } from '../../ops/scalar.js';

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** A scalar constant like `t` (dtype and backend). */
const c = (t: Tensor, v: number): Tensor => scalar(v, t.dtype, { backend: t.backend });
/** dy where `mask` holds, 0 elsewhere. */
const masked = (mask: Tensor, dy: Tensor): Tensor => where(mask, dy, c(dy, 0));
/** bool → 0/1 in t's dtype. */
const asNum = (mask: Tensor, t: Tensor): Tensor => cast(mask, t.dtype);

/**
 * Weight of input a in Max/Min: 1 where a wins, 0 where b wins, 1/2 on ties (the gradient of a
 * tie is split evenly between the inputs, as PyTorch's maximum/minimum do).
 */
function selectWeight(wins: Tensor, a: Tensor, b: Tensor): Tensor {
  return add(asNum(wins, a), mulScalar(asNum(equal(a, b), a), 0.5));
}

/** Gradients of the elementwise family, keyed by kernel name. */
export const elementwiseGradients: GradientTable = {
  Neg: ([dy]) => [neg(dy!)],
  Abs: ([dy], { inputs: [x] }) => [mul(dy!, sign(x!))],
  Exp: ([dy], { outputs: [y] }) => [mul(dy!, y!)],
  Log: ([dy], { inputs: [x] }) => [div(dy!, x!)],
  Sqrt: ([dy], { outputs: [y] }) => [div(dy!, mulScalar(y!, 2))],
  Reciprocal: ([dy], { outputs: [y] }) => [neg(mul(dy!, mul(y!, y!)))],
  Sin: ([dy], { inputs: [x] }) => [mul(dy!, cos(x!))],
  Cos: ([dy], { inputs: [x] }) => [neg(mul(dy!, sin(x!)))],
  // piecewise constant: zero gradient almost everywhere (build straight-through estimators explicitly)
  Floor: ([dy]) => [zerosLike(dy!)],
  Ceil: ([dy]) => [zerosLike(dy!)],
  Round: ([dy]) => [zerosLike(dy!)],
  Sign: ([dy]) => [zerosLike(dy!)],
  Relu: ([dy], { inputs: [x] }) => [masked(greater(x!, c(x!, 0)), dy!)],
  Sigmoid: ([dy], { outputs: [y] }) => [mul(dy!, mul(y!, addScalar(neg(y!), 1)))],
  Tanh: ([dy], { outputs: [y] }) => [mul(dy!, addScalar(neg(mul(y!, y!)), 1))],
  Erf: ([dy], { inputs: [x] }) => [mul(dy!, mulScalar(exp(neg(mul(x!, x!))), 2 / Math.sqrt(Math.PI)))],
  Gelu: ([dy], { inputs: [x], attrs }) => {
    const xs = x!;
    if (attrs.approximate === 'tanh') {
      // y = x s(2u), u = k (x + c x^3): y' = s + 2 x s (1 - s) u'
      const x2 = mul(xs, xs);
      const s = sigmoid(mulScalar(add(xs, mulScalar(mul(x2, xs), GELU_C)), 2 * GELU_K));
      const du = addScalar(mulScalar(x2, 3 * GELU_C * 2 * GELU_K), 2 * GELU_K);
      const ds = mul(s, addScalar(neg(s), 1));
      return [mul(dy!, add(s, mul(mul(xs, ds), du)))];
    }
    // y = x Φ(x): y' = Φ(x) + x φ(x)
    const cdf = mulScalar(addScalar(erf(mulScalar(xs, Math.SQRT1_2)), 1), 0.5);
    const pdf = mulScalar(exp(mulScalar(mul(xs, xs), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return [mul(dy!, add(cdf, mul(xs, pdf)))];
  },
  LeakyRelu: ([dy], { inputs: [x], attrs }) => [where(greaterEqual(x!, c(x!, 0)), dy!, mulScalar(dy!, attrs.alpha ?? 0.01))],
  HardSigmoid: ([dy], { inputs: [x], attrs }) => {
    const alpha = attrs.alpha ?? 0.2;
    const v = addScalar(mulScalar(x!, alpha), attrs.beta ?? 0.5);
    return [masked(logicalAnd(greater(v, c(v, 0)), less(v, c(v, 1))), mulScalar(dy!, alpha))];
  },
  HardSwish: ([dy], { inputs: [x] }) => {
    // y = x h(x), h = clip(x/6 + 1/2, 0, 1): y' = h + x/6 on (-3, 3)
    const xs = x!;
    const inside = logicalAnd(greater(xs, c(xs, -3)), less(xs, c(xs, 3)));
    const h = where(greaterEqual(xs, c(xs, 3)), c(xs, 1), where(inside, addScalar(mulScalar(xs, 1 / 6), 0.5), c(xs, 0)));
    return [mul(dy!, add(h, masked(inside, mulScalar(xs, 1 / 6))))];
  },
  Softplus: ([dy], { inputs: [x] }) => [mul(dy!, sigmoid(x!))],
  Clip: ([dy], { inputs: [x], attrs }) => {
    const xs = x!;
    const lo = attrs.min;
    const hi = attrs.max;
    let mask: Tensor | null = null;
    if (lo !== undefined) mask = greaterEqual(xs, c(xs, lo));
    if (hi !== undefined) {
      const m = lessEqual(xs, c(xs, hi));
      mask = mask ? logicalAnd(mask, m) : m;
    }
    return [mask ? masked(mask, dy!) : dy!];
  },
  Where: ([dy], { inputs: [cond, a, b] }) => [
    null,
    reduceToShape(masked(cond!, dy!), a!.shape),
    reduceToShape(where(cond!, c(dy!, 0), dy!), b!.shape),
  ],
  // float → float casts pass the gradient (cast back); casts to or from integers have none
  Cast: ([dy], { inputs: [x] }) => [isFloat(x!.dtype) && isFloat(dy!.dtype) ? cast(dy!, x!.dtype) : null],
  Pow: ([dy], { inputs: [a, b], outputs: [y] }) => {
    // d/da = b a^(b-1); d/db = y ln a, taken as 0 where a <= 0 (ln undefined there)
    const da = mul(dy!, mul(b!, pow(a!, addScalar(b!, -1))));
    const db = masked(greater(a!, c(a!, 0)), mul(mul(dy!, y!), log(a!)));
    return [reduceToShape(da, a!.shape), reduceToShape(db, b!.shape)];
  },
  Max: ([dy], { inputs: [a, b] }) => {
    const da = mul(dy!, selectWeight(greater(a!, b!), a!, b!));
    return [reduceToShape(da, a!.shape), reduceToShape(sub(dy!, da), b!.shape)];
  },
  Min: ([dy], { inputs: [a, b] }) => {
    const da = mul(dy!, selectWeight(less(a!, b!), a!, b!));
    return [reduceToShape(da, a!.shape), reduceToShape(sub(dy!, da), b!.shape)];
  },
};
