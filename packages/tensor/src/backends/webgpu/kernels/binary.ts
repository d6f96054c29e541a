import type { KernelConfig } from '../../../backend.js';
import type { BinaryKernelName } from '../../../kernel_names.js';
import type { DType } from '../../../dtype.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import { type GpuTensor, type WebGpuBackend, type WgslScalar, wgslType } from '../backend.js';
import { Uniforms, roundF16, declareBindings, dispatch1D, mainLinear, offsetFn } from '../wgsl.js';
import { wrapInt } from './unary.js';

/** `expr` uses `a` and `b` (storage-typed values) and yields the output storage type. */
type ExprFn = (t: WgslScalar) => string;

function makeBinary(name: BinaryKernelName, expr: ExprFn, outDtype?: DType): KernelConfig<WebGpuBackend, BinaryKernelName> {
  return {
    name,
    backend: 'webgpu',
    strided: true,
    run(inputs, _attrs, backend) {
      const a = inputs[0] as GpuTensor;
      const b = inputs[1] as GpuTensor;
      const dtype = outDtype ?? a.dtype;
      const shape = broadcastShapes(a.shape, b.shape);
      const rank = shape.length;
      const size = sizeOf(shape);
      const u = new Uniforms();
      u.add(size);
      const shapeAt = u.add(...shape);
      const saAt = u.add(...broadcastStrides(a.shape, a.strides, shape));
      const aOff = u.add(a.offset);
      const sbAt = u.add(...broadcastStrides(b.shape, b.strides, shape));
      const bOff = u.add(b.offset);
      const t = wgslType(a.dtype);
      // narrow ints (int8/uint8/int16/uint16 in i32 words) wrap like C; i32/u32 wrap natively
      const result = dtype === 'float16' ? roundF16(expr(t)) : wgslType(dtype) === 'i32' ? wrapInt(expr(t), dtype) : expr(t);
      return backend.runProgram({
        key: `${name}:${a.dtype}:${dtype}:${rank}`,
        source: () => `${name === 'Pow' ? POW_HELPER : ''}
${declareBindings([{ name: 'A', dtype: a.dtype }, { name: 'B', dtype: b.dtype }], [{ name: 'Y', dtype }])}
${offsetFn('offA', rank, shapeAt, saAt, aOff)}
${offsetFn('offB', rank, shapeAt, sbAt, bOff)}
${mainLinear('u[0]', `  let a = A[offA(idx)];\n  let b = B[offB(idx)];\n  Y[idx] = ${result};`)}`,
        inputs: [a, b],
        outputs: [{ dtype, shape }],
        uniforms: u.values,
        dispatch: dispatch1D(size),
      });
    },
  };
}

// WGSL pow is undefined for negative bases: follow C's pow (odd integer exponents keep the sign).
const POW_HELPER = `
fn powf(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (a >= 0.0) { return pow(a, b); }
  if (floor(b) != b) { var nanBits = 0x7fc00000u; return bitcast<f32>(nanBits); }
  let m = pow(-a, b);
  return select(m, -m, (b - 2.0 * floor(b / 2.0)) == 1.0);
}
fn powi(a: i32, b: i32) -> i32 {
  var r = 1;
  for (var k = 0; k < b; k++) { r = r * a; }
  return r;
}
fn powu(a: u32, b: u32) -> u32 {
  var r = 1u;
  for (var k = 0u; k < b; k++) { r = r * a; }
  return r;
}`;

const boolOf = (e: string): string => `select(0, 1, ${e})`;
const truthy = (t: string, v: string): string => (t === 'f32' ? `(${v} != 0.0)` : `(${v} != 0)`);

/** Binary element-wise WGSL kernels (same semantics as the cpu ones). */
export const binaryWebGpuKernels: KernelConfig<WebGpuBackend, BinaryKernelName>[] = [
  makeBinary('Add', () => 'a + b'),
  makeBinary('Sub', () => 'a - b'),
  makeBinary('Mul', () => 'a * b'),
  // integer division truncates toward zero (as C, ONNX and the cpu kernel do)
  makeBinary('Div', (t) => (t === 'f32' ? 'a / b' : 'select(0, a / b, b != 0)')),
  makeBinary('Pow', (t) => (t === 'f32' ? 'powf(a, b)' : t === 'u32' ? 'powu(a, b)' : 'powi(a, b)')),
  makeBinary('Max', () => 'max(a, b)'),
  makeBinary('Min', () => 'min(a, b)'),
  makeBinary('Equal', () => boolOf('a == b'), 'bool'),
  makeBinary('Less', () => boolOf('a < b'), 'bool'),
  makeBinary('Greater', () => boolOf('a > b'), 'bool'),
  makeBinary('LessOrEqual', () => boolOf('a <= b'), 'bool'),
  makeBinary('GreaterOrEqual', () => boolOf('a >= b'), 'bool'),
  makeBinary('And', (t) => boolOf(`${truthy(t, 'a')} && ${truthy(t, 'b')}`), 'bool'),
  makeBinary('Or', (t) => boolOf(`${truthy(t, 'a')} || ${truthy(t, 'b')}`), 'bool'),
  makeBinary('Xor', (t) => boolOf(`${truthy(t, 'a')} != ${truthy(t, 'b')}`), 'bool'),
];
