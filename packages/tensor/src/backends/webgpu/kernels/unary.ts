import type { KernelConfig } from '../../../backend.js';
import { type KernelAttrs, UNARY_KERNEL_NAMES, type UnaryKernelName } from '../../../kernel_names.js';
import type { DType } from '../../../dtype.js';
import { isContiguous, sizeOf } from '../../../shape.js';
import { type GpuProgram, type GpuTensor, type WebGpuBackend, type WgslScalar, wgslType } from '../backend.js';
import { Uniforms, declareBindings, dispatch1D, mainLinear, offsetFn, roundF16 } from '../wgsl.js';
import { ERFC_POLY, ERF_SERIES } from '../../cpu/kernels/erf.js';

/** WGSL float literal (parenthesized so it can follow any operator). */
export const lit = (v: number): string => `(${v.toExponential(12)})`;

/** Wrap an i32 expression to the range of a narrow (8/16/4/2-bit) integer dtype (two's complement, as C casts). */
export function wrapInt(expr: string, dtype: DType): string {
  switch (dtype) {
    case 'int8':
      return `((${expr}) << 24u) >> 24u`;
    case 'int4':
      return `((${expr}) << 28u) >> 28u`;
    case 'int2':
      return `((${expr}) << 30u) >> 30u`;
    case 'uint8':
      return `(${expr}) & 255`;
    case 'uint4':
      return `(${expr}) & 15`;
    case 'uint2':
      return `(${expr}) & 3`;
    case 'int16':
      return `((${expr}) << 16u) >> 16u`;
    case 'uint16':
      return `(${expr}) & 65535`;
    default:
      return expr;
  }
}

/** Describes one element-wise map `Y[i] = f(X[view(i)])`. */
export interface MapSpec {
  /** Static key part (op and static attrs); dtypes, rank and contiguity are appended. */
  readonly key: string;
  readonly outDtype: DType;
  /** WGSL expression of `x` (input storage type) and params `p0..` giving the output value. */
  readonly expr: string;
  /** Helper functions the expression calls. */
  readonly prelude?: string;
  /** Runtime f32 params bound as `p0, p1, …` (in uniforms, so they never change the key). */
  readonly f32Params?: readonly number[];
  /** Runtime i32 params bound as `p0, p1, …` (use either f32Params or i32Params). */
  readonly i32Params?: readonly number[];
}

/**
 * Program for an element-wise map over any strided view of `x`. Results are rounded to float16
 * or wrapped to narrow ints as the output dtype requires.
 */
export function mapProgram(x: GpuTensor, spec: MapSpec): GpuProgram {
  const rank = x.shape.length;
  const size = sizeOf(x.shape);
  const contiguous = x.offset === 0 && isContiguous(x.shape, x.strides);
  const u = new Uniforms();
  u.add(size);
  const fp = spec.f32Params ?? [];
  const ip = spec.i32Params ?? [];
  const pAt = fp.length ? u.addF32(...fp) : u.add(...ip);
  const params = fp.length
    ? fp.map((_, k) => `  let p${k} = bitcast<f32>(u[${pAt + k}]);`)
    : ip.map((_, k) => `  let p${k} = u[${pAt + k}];`);
  const shapeAt = u.add(...x.shape);
  const stridesAt = u.add(...x.strides);
  const offAt = u.add(x.offset);
  const out = spec.outDtype;
  let result = spec.expr;
  if (out === 'float16' && !(x.dtype === 'float16' && spec.expr === 'x')) result = roundF16(result);
  if (wgslType(out) === 'i32') result = wrapInt(result, out);
  const read = contiguous ? 'X[idx]' : 'X[offX(idx)]';
  return {
    key: `${spec.key}:${x.dtype}:${out}:${rank}:${contiguous ? 'c' : 's'}`,
    source: () => `${spec.prelude ?? ''}
${declareBindings([{ name: 'X', dtype: x.dtype }], [{ name: 'Y', dtype: out }])}
${contiguous ? '' : offsetFn('offX', rank, shapeAt, stridesAt, offAt)}
${mainLinear('u[0]', `  let x = ${read};\n${params.join('\n')}\n  Y[idx] = ${result};`)}`,
    inputs: [x],
    outputs: [{ dtype: out, shape: x.shape }],
    uniforms: u.values,
    dispatch: dispatch1D(size),
  };
}

const horner = (v: string, c: readonly number[]): string =>
  c.slice(0, -1).reduceRight((acc, k) => `${lit(k)} + ${v} * (${acc})`, lit(c[c.length - 1]!));

/** erf/erfc/sigmoid/log1p helpers (same formulas as the cpu kernels, see cpu/kernels/erf.ts). */
export const MATH_PRELUDE = `
fn erf_series(x: f32) -> f32 { let z = x * x; return x * (${horner('z', ERF_SERIES)}); }
fn erfc_pos(a: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * a);
  return t * exp(-a * a + (${horner('t', ERFC_POLY)}));
}
fn erf_f(x: f32) -> f32 {
  let a = abs(x);
  if (a < 1.0) { return erf_series(x); }
  let r = 1.0 - erfc_pos(a);
  return select(r, -r, x < 0.0);
}
fn erfc_f(x: f32) -> f32 {
  if (abs(x) < 0.5) { return 1.0 - erf_series(x); }
  if (x >= 0.0) { return erfc_pos(x); }
  return 2.0 - erfc_pos(-x);
}
fn sigmoid_f(x: f32) -> f32 { let e = exp(-abs(x)); let r = 1.0 / (1.0 + e); return select(e * r, r, x >= 0.0); }
// sin/cos with Cody-Waite reduction by pi/4 and Cephes' minimax polynomials: WGSL's builtins
// only promise 2^-11 absolute error on [-pi, pi] (SwiftShader is off by ~2e-4 at |x| ~ 9)
fn sincos_f(x: f32, cosine: bool) -> f32 {
  let ax = abs(x);
  var j = i32(floor(ax * 1.2732395447351628));
  j = (j + 1) & ~1;
  let y = f32(j);
  let r = ((ax - y * 0.78515625) - y * 2.4187564849853515625e-4) - y * 3.77489497744594108e-8;
  let z = r * r;
  let s = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
  let c = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
  var q = (j / 2) & 3;
  if (cosine) { q = (q + 1) & 3; }
  var v = select(s, c, (q & 1) == 1);
  if (q >= 2) { v = -v; }
  if (!cosine && x < 0.0) { v = -v; }
  return v;
}
fn log1p_f(x: f32) -> f32 { let u = 1.0 + x; if (u == 1.0) { return x; } return log(u) * (x / (u - 1.0)); }
`;

type Expr<N extends UnaryKernelName> = (t: WgslScalar, attrs: KernelAttrs[N]) => string;

const GELU_2K = 2 * Math.sqrt(2 / Math.PI);

/** WGSL expression of every unary op; `x` is the input value in its storage type. */
const TABLE: { readonly [N in UnaryKernelName]: Expr<N> } = {
  Neg: () => '-x',
  Abs: () => 'abs(x)',
  Exp: () => 'exp(x)',
  Log: () => 'log(x)',
  Sqrt: () => 'sqrt(x)',
  Reciprocal: () => '1.0 / x',
  Sin: () => 'sincos_f(x, false)',
  Cos: () => 'sincos_f(x, true)',
  Floor: () => 'floor(x)',
  Ceil: () => 'ceil(x)',
  Round: () => 'round(x)', // WGSL round() is half-to-even, as ONNX Round
  Sign: (t) => (t === 'f32' ? 'select(select(x, 1.0, x > 0.0), -1.0, x < 0.0)' : 'select(select(0, 1, x > 0), -1, x < 0)'),
  Relu: (t) => (t === 'f32' ? 'select(0.0, x, x > 0.0)' : 'max(x, 0)'),
  Sigmoid: () => 'sigmoid_f(x)',
  // clamp: tanh(±9) is ±1 in f32, and some drivers overflow exp() inside tanh for large |x|
  Tanh: () => 'tanh(clamp(x, -9.0, 9.0))',
  Erf: () => 'erf_f(x)',
  Gelu: (_t, a) =>
    a.approximate === 'tanh' ? `x * sigmoid_f(${lit(GELU_2K)} * (x + 0.044715 * x * x * x))` : `0.5 * x * erfc_f(-x * ${lit(Math.SQRT1_2)})`,
  LeakyRelu: () => 'select(p0 * x, x, x >= 0.0)',
  HardSigmoid: () => 'max(0.0, min(1.0, p0 * x + p1))',
  HardSwish: () => 'x * max(0.0, min(1.0, x / 6.0 + 0.5))',
  Softplus: () => 'max(x, 0.0) + log1p_f(exp(-abs(x)))',
  Not: () => 'select(0, 1, x == 0)',
};

/** f32 uniforms p0, p1, … of the ops with numeric attributes (ONNX defaults). */
const PARAMS: { readonly [N in UnaryKernelName]?: (attrs: KernelAttrs[N]) => number[] } = {
  LeakyRelu: (a) => [a.alpha ?? 0.01],
  HardSigmoid: (a) => [a.alpha ?? 0.2, a.beta ?? 0.5],
};

/** Shader keys of the ops whose WGSL depends on a static attribute. */
const KEYS: { readonly [N in UnaryKernelName]?: (attrs: KernelAttrs[N]) => string } = {
  Gelu: (a) => `Gelu-${String(a.approximate)}`,
};

function makeUnary<N extends UnaryKernelName>(
  name: N,
  expr: Expr<N>,
  params?: (attrs: KernelAttrs[N]) => number[],
  keyOf?: (attrs: KernelAttrs[N]) => string,
): KernelConfig<WebGpuBackend, N> {
  return {
    name,
    backend: 'webgpu',
    strided: true,
    run(inputs, attrs, backend) {
      const x = inputs[0] as GpuTensor;
      const e = expr(wgslType(x.dtype), attrs);
      const key = keyOf ? keyOf(attrs) : name;
      return backend.runProgram(mapProgram(x, { key, outDtype: x.dtype, expr: e, prelude: MATH_PRELUDE, f32Params: params ? params(attrs) : [] }));
    },
  };
}

/** Unary element-wise WGSL kernels (same semantics as the cpu ones). */
export const unaryWebGpuKernels: KernelConfig<WebGpuBackend, UnaryKernelName>[] = UNARY_KERNEL_NAMES.map(
  <N extends UnaryKernelName>(n: N) => makeUnary(n, TABLE[n], PARAMS[n], KEYS[n]),
);
