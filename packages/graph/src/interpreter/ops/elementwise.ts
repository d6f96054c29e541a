import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';

/**
 * The element-wise family: one factory for unary ops, one for (broadcasting) binary ops, one
 * for the variadic Sum/Mean/Max/Min.
 */
type Unary = (x: Tensor, ctx: OpContext) => Tensor;
type Binary = (a: Tensor, b: Tensor) => Tensor;

const unary: Record<string, Unary> = {
  Neg: (x) => T.neg(x),
  Abs: (x) => T.abs(x),
  Exp: (x) => T.exp(x),
  Log: (x) => T.log(x),
  Sqrt: (x) => T.sqrt(x),
  Reciprocal: (x) => T.reciprocal(x),
  Sin: (x) => T.sin(x),
  Cos: (x) => T.cos(x),
  Floor: (x) => T.floor(x),
  Ceil: (x) => T.ceil(x),
  Round: (x) => T.round(x),
  Sign: (x) => T.sign(x),
  Relu: (x) => T.relu(x),
  Sigmoid: (x) => T.sigmoid(x),
  Tanh: (x) => T.tanh(x),
  Erf: (x) => T.erf(x),
  Not: (x) => T.logicalNot(x),
  Softplus: (x) => T.softplus(x),
  HardSwish: (x) => T.hardSwish(x),
  Gelu: (x, ctx) => T.gelu(x, { approximate: ctx.string('approximate', 'none') === 'tanh' ? 'tanh' : 'none' }),
  LeakyRelu: (x, ctx) => T.leakyRelu(x, ctx.float('alpha', 0.01)),
  HardSigmoid: (x, ctx) => T.hardSigmoid(x, ctx.float('alpha', 0.2), ctx.float('beta', 0.5)),
};

const binary: Record<string, Binary> = {
  Add: T.add,
  Sub: T.sub,
  Mul: T.mul,
  Div: T.div,
  Less: T.less,
  Greater: T.greater,
  LessOrEqual: T.lessEqual,
  GreaterOrEqual: T.greaterEqual,
  And: T.logicalAnd,
  Or: T.logicalOr,
  Xor: T.logicalXor,
  // ONNX allows the exponent to have another numeric type than the base; integer powers are
  // computed in float32 and rounded back (exact for the magnitudes int tensors hold in practice)
  Pow: (a, b) => {
    if (T.isFloat(a.dtype)) return T.pow(a, b.dtype === a.dtype ? b : T.cast(b, a.dtype));
    const f = T.pow(T.cast(a, 'float32'), T.isFloat(b.dtype) && b.dtype === 'float32' ? b : T.cast(b, 'float32'));
    return T.cast(T.round(f), a.dtype);
  },
};

const variadic: Record<string, (xs: Tensor[]) => Tensor> = {
  Sum: (xs) => xs.reduce((p, x) => T.add(p, x)),
  Max: (xs) => xs.reduce((p, x) => T.maximum(p, x)),
  Min: (xs) => xs.reduce((p, x) => T.minimum(p, x)),
  Mean: (xs) => {
    const s = xs.reduce((p, x) => T.add(p, x));
    return T.div(s, T.full([], xs.length, s.dtype, { backend: s.backend }));
  },
};

for (const [op, f] of Object.entries(unary)) registerOp(op, ([x], ctx) => [f(x!, ctx)]);
for (const [op, f] of Object.entries(binary)) registerOp(op, ([a, b]) => [f(a!, b!)]);
for (const [op, f] of Object.entries(variadic)) registerOp(op, (xs) => [f(xs.filter((x): x is Tensor => !!x))]);

registerOp('Where', ([c, a, b]) => [T.where(c!, a!, b!)]);
registerOp('Cast', ([x], ctx) => [T.cast(x!, onnxTypeToDType(ctx.int('to', 1), ctx.node.name), castOptions(ctx))]);
registerOp('CastLike', ([x, like], ctx) => [T.cast(x!, like!.dtype, castOptions(ctx))]);

/** Cast's saturate (opset 19, float8 targets) and round_mode (opset 25, float8e8m0) attributes. */
function castOptions(ctx: OpContext): T.FloatFormatOptions {
  return { saturate: ctx.int('saturate', 1) !== 0, roundMode: ctx.string('round_mode', 'up') as T.E8m0RoundMode };
}
registerOp('Clip', async ([x, lo, hi], ctx) => {
  // opset < 11: min/max attributes; since 11: optional inputs
  const min = lo ? (await lo.toFloat64())[0] : ctx.opset < 11 ? ctx.floatOpt('min') : undefined;
  const max = hi ? (await hi.toFloat64())[0] : ctx.opset < 11 ? ctx.floatOpt('max') : undefined;
  return [T.clip(x!, min, max)];
});

/** ONNX TensorProto.DataType number → Whittle dtype (only the ones Whittle computes with). */
export function onnxTypeToDType(code: number, where: string): T.DType {
  const map: Record<number, T.DType> = {
    1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16',
    12: 'uint32', 13: 'uint64', 21: 'uint4', 22: 'int4', 25: 'uint2', 26: 'int2',
    11: 'float64', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz',
    23: 'float4e2m1', 24: 'float8e8m0',
  };
  const d = map[code];
  if (!d) throw new T.DTypeError(`${where}: ONNX element type ${code} is not one Whittle computes with`);
  return d;
}
