import { type DType, type Tensor } from '@whittle/tensor';
import { getFloat, getInt } from '../ir/attributes.js';
import { onnxTypeFromCode, isComputable, tensorValues } from '../ir/dtypes.js';
import type { Node } from '../ir/types.js';
import { broadcastIndex, broadcastNumeric, fromValues, sizeOfShape } from './layout.js';

/** A built-in folding kernel: undefined when it cannot handle these inputs. */
export type FoldKernel = (node: Node, inputs: (Tensor | undefined)[], opset: number) => Tensor[] | undefined;

const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

const UNARY: Record<string, (x: number) => number> = {
  Neg: (x) => -x,
  Abs: Math.abs,
  Exp: Math.exp,
  Log: Math.log,
  Sqrt: Math.sqrt,
  Reciprocal: (x) => 1 / x,
  Relu: (x) => Math.max(0, x),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Tanh: Math.tanh,
  Floor: Math.floor,
  Ceil: Math.ceil,
  Round: roundHalfEven,
  Sign: Math.sign,
  Sin: Math.sin,
  Cos: Math.cos,
  Not: (x) => (x ? 0 : 1),
};

const BINARY: Record<string, (a: number, b: number, int: boolean) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b, int) => (int ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => a ** b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b),
  Equal: (a, b) => (a === b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
  Greater: (a, b) => (a > b ? 1 : 0),
  LessOrEqual: (a, b) => (a <= b ? 1 : 0),
  GreaterOrEqual: (a, b) => (a >= b ? 1 : 0),
  And: (a, b) => (a && b ? 1 : 0),
  Or: (a, b) => (a || b ? 1 : 0),
  Xor: (a, b) => (!a !== !b ? 1 : 0),
};
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const isIntDType = (d: DType): boolean => d !== 'float32' && d !== 'float16' && d !== 'bool';

/** Elementwise (broadcasting) evaluation of `f` over `inputs`. */
function elementwise(inputs: Tensor[], dtype: DType, f: (v: number[]) => number): Tensor | undefined {
  const shape = broadcastNumeric(inputs.map((t) => t.shape));
  if (!shape) return undefined;
  const vals = inputs.map((t) => tensorValues(t));
  const maps = inputs.map((t) => broadcastIndex(shape, t.shape));
  const n = sizeOfShape(shape);
  const out = new Float64Array(n);
  const args = new Array<number>(inputs.length);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < inputs.length; k++) args[k] = vals[k]![maps[k]!(i)]!;
    out[i] = f(args);
  }
  return fromValues(out, shape, dtype);
}

export const MATH_KERNELS: Record<string, FoldKernel> = {};

for (const [op, f] of Object.entries(UNARY)) {
  MATH_KERNELS[op] = (_n, [x]) => (x ? [elementwise([x], x.dtype, (v) => f(v[0]!))!] : undefined);
}
for (const [op, f] of Object.entries(BINARY)) {
  MATH_KERNELS[op] = (_n, xs) => {
    const [a, b] = xs;
    if (!a || !b || xs.length !== 2) return undefined;
    const int = isIntDType(a.dtype);
    const r = elementwise([a, b], BOOL_OUT.has(op) ? 'bool' : a.dtype, (v) => f(v[0]!, v[1]!, int));
    return r ? [r] : undefined;
  };
}
MATH_KERNELS.Where = (_n, [c, a, b]) => {
  if (!c || !a || !b) return undefined;
  const r = elementwise([c, a, b], a.dtype, (v) => (v[0] ? v[1]! : v[2]!));
  return r ? [r] : undefined;
};
MATH_KERNELS.Clip = (n, [x, lo, hi], opset) => {
  if (!x) return undefined;
  const min = opset < 11 ? getFloat(n, 'min', -Infinity) : lo ? tensorValues(lo)[0]! : -Infinity;
  const max = opset < 11 ? getFloat(n, 'max', Infinity) : hi ? tensorValues(hi)[0]! : Infinity;
  return [elementwise([x], x.dtype, (v) => Math.min(Math.max(v[0]!, min), max))!];
};
MATH_KERNELS.Cast = (n, [x]) => {
  const to = onnxTypeFromCode(getInt(n, 'to', 0));
  if (!x || !isComputable(to)) return undefined;
  return [elementwise([x], to, (v) => v[0]!)!];
};

/** Batched matmul with numpy broadcasting of batch dims (1-D operands as numpy). */
function matmul(a: Tensor, b: Tensor): Tensor | undefined {
  const as = a.rank === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.rank === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const [m, k] = [as[as.length - 2]!, as[as.length - 1]!];
  const [k2, n] = [bs[bs.length - 2]!, bs[bs.length - 1]!];
  if (k !== k2) return undefined;
  const batch = broadcastNumeric([as.slice(0, -2), bs.slice(0, -2)]);
  if (!batch) return undefined;
  const av = tensorValues(a);
  const bv = tensorValues(b);
  const nb = sizeOfShape(batch);
  const am = broadcastIndex(batch, as.slice(0, -2));
  const bm = broadcastIndex(batch, bs.slice(0, -2));
  const out = new Float64Array(nb * m * n);
  for (let z = 0; z < nb; z++) {
    const ao = am(z) * m * k;
    const bo = bm(z) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += av[ao + i * k + p]! * bv[bo + p * n + j]!;
        out[z * m * n + i * n + j] = s;
      }
    }
  }
  const shape = [...batch];
  if (a.rank > 1) shape.push(m);
  if (b.rank > 1) shape.push(n);
  return fromValues(out, shape, a.dtype);
}

MATH_KERNELS.MatMul = (_n, [a, b]) => {
  const r = a && b ? matmul(a, b) : undefined;
  return r ? [r] : undefined;
};

MATH_KERNELS.Gemm = (n, [a, b, c]) => {
  if (!a || !b || a.rank !== 2 || b.rank !== 2) return undefined;
  const ta = getInt(n, 'transA', 0) !== 0;
  const tb = getInt(n, 'transB', 0) !== 0;
  const alpha = getFloat(n, 'alpha', 1);
  const beta = getFloat(n, 'beta', 1);
  const [m, k] = ta ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [k2, nn] = tb ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (k !== k2) return undefined;
  const av = tensorValues(a);
  const bv = tensorValues(b);
  const cv = c ? tensorValues(c) : undefined;
  const cm = c ? broadcastIndex([m, nn], c.shape) : undefined;
  const out = new Float64Array(m * nn);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < nn; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += av[ta ? p * m + i : i * k + p]! * bv[tb ? j * k + p : p * nn + j]!;
      out[i * nn + j] = alpha * s + (cv ? beta * cv[cm!(i * nn + j)]! : 0);
    }
  }
  return [fromValues(out, [m, nn], a.dtype)];
};
