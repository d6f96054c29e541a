import type { DType } from '../dtype.js';
import { engine } from '../engine.js';
import type { KernelAttrs, UnaryKernelName } from '../kernel_names.js';
import { ArgumentError, DTypeError } from '../errors.js';
import type { Tensor } from '../tensor.js';

/** Float dtypes (computed in float32, float16 results rounded). */
export const FLOAT_DTYPES: readonly DType[] = ['float32', 'float16'];
/** Signed numeric dtypes. */
export const SIGNED_DTYPES: readonly DType[] = [...FLOAT_DTYPES, 'int32', 'int64', 'int8'];
/** All non-packed numeric dtypes. */
export const NUMERIC_DTYPES: readonly DType[] = [...SIGNED_DTYPES, 'uint8'];

/** Check `x.dtype` is one of `allowed`, throwing a DTypeError that names the op and the choices. */
export function checkDType(op: string, x: Tensor, allowed: readonly DType[]): void {
  if (!allowed.includes(x.dtype)) {
    throw new DTypeError(`${op}: input has dtype ${x.dtype}; ${op} accepts ${allowed.join(', ')} (cast the input first)`);
  }
}

/** Validate the dtype and run the unary kernel `name` (output dtype = input dtype). */
export function unaryOp<N extends UnaryKernelName>(name: N, x: Tensor, allowed: readonly DType[], attrs: KernelAttrs[N]): Tensor {
  checkDType(name, x, allowed);
  return engine().run1(name, [x], attrs);
}

function finite(op: string, what: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ArgumentError(`${op}: ${what} must be a finite number, got ${String(v)}`);
  return v;
}

/** -x (float and signed int dtypes; int results wrap like C). */
export const neg = (x: Tensor): Tensor => unaryOp('Neg', x, SIGNED_DTYPES, {});
/** |x| (all numeric dtypes). */
export const abs = (x: Tensor): Tensor => unaryOp('Abs', x, NUMERIC_DTYPES, {});
/** e^x. */
export const exp = (x: Tensor): Tensor => unaryOp('Exp', x, FLOAT_DTYPES, {});
/** Natural logarithm (NaN for x < 0, -Infinity at 0). */
export const log = (x: Tensor): Tensor => unaryOp('Log', x, FLOAT_DTYPES, {});
/** Square root (NaN for x < 0). */
export const sqrt = (x: Tensor): Tensor => unaryOp('Sqrt', x, FLOAT_DTYPES, {});
/** 1 / x. */
export const reciprocal = (x: Tensor): Tensor => unaryOp('Reciprocal', x, FLOAT_DTYPES, {});
/** sin(x). */
export const sin = (x: Tensor): Tensor => unaryOp('Sin', x, FLOAT_DTYPES, {});
/** cos(x). */
export const cos = (x: Tensor): Tensor => unaryOp('Cos', x, FLOAT_DTYPES, {});
/** Largest integer ≤ x. */
export const floor = (x: Tensor): Tensor => unaryOp('Floor', x, FLOAT_DTYPES, {});
/** Smallest integer ≥ x. */
export const ceil = (x: Tensor): Tensor => unaryOp('Ceil', x, FLOAT_DTYPES, {});
/** Round to nearest integer, halves to even (ONNX Round: 2.5 → 2, -1.5 → -2). */
export const round = (x: Tensor): Tensor => unaryOp('Round', x, FLOAT_DTYPES, {});
/** -1, 0 or 1 by the sign of x (all numeric dtypes; NaN stays NaN). */
export const sign = (x: Tensor): Tensor => unaryOp('Sign', x, NUMERIC_DTYPES, {});
/** max(x, 0) (float and signed int dtypes). */
export const relu = (x: Tensor): Tensor => unaryOp('Relu', x, SIGNED_DTYPES, {});
/** 1 / (1 + e^-x), computed without overflow for any x. */
export const sigmoid = (x: Tensor): Tensor => unaryOp('Sigmoid', x, FLOAT_DTYPES, {});
/** Hyperbolic tangent (saturates cleanly to ±1 for large |x| on every backend). */
export const tanh = (x: Tensor): Tensor => unaryOp('Tanh', x, FLOAT_DTYPES, {});
/** Error function, accurate to about 1e-7 absolute on cpu and webgpu. */
export const erf = (x: Tensor): Tensor => unaryOp('Erf', x, FLOAT_DTYPES, {});

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** 'none' (default): x Φ(x) with the exact erf; 'tanh': the tanh approximation. */
  approximate?: 'none' | 'tanh';
}

/** GELU (ONNX Gelu-20): 0.5 x (1 + erf(x / √2)), or the tanh approximation. */
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const approximate = opts.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  return unaryOp('Gelu', x, FLOAT_DTYPES, { approximate });
}

/** x for x ≥ 0, alpha·x otherwise (ONNX LeakyRelu; alpha defaults to 0.01). */
export function leakyRelu(x: Tensor, alpha = 0.01): Tensor {
  return unaryOp('LeakyRelu', x, FLOAT_DTYPES, { alpha: finite('leakyRelu', 'alpha', alpha) });
}

/** max(0, min(1, alpha·x + beta)) (ONNX HardSigmoid; defaults alpha 0.2, beta 0.5). */
export function hardSigmoid(x: Tensor, alpha = 0.2, beta = 0.5): Tensor {
  return unaryOp('HardSigmoid', x, FLOAT_DTYPES, { alpha: finite('hardSigmoid', 'alpha', alpha), beta: finite('hardSigmoid', 'beta', beta) });
}

/** x · max(0, min(1, x/6 + 1/2)) (ONNX HardSwish). */
export const hardSwish = (x: Tensor): Tensor => unaryOp('HardSwish', x, FLOAT_DTYPES, {});
/** log(1 + e^x), stable for large |x|. */
export const softplus = (x: Tensor): Tensor => unaryOp('Softplus', x, FLOAT_DTYPES, {});
/** Logical not of a bool tensor (ONNX Not). */
export const logicalNot = (x: Tensor): Tensor => unaryOp('Not', x, ['bool'], {});
