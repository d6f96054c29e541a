import type { KernelConfig, TensorInfo } from '../../../backend.js';
import type { BinaryKernelName } from '../../../kernel_names.js';
import { type DType, allocStorage } from '../../../dtype.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { type ArithOp, binaryF32 } from './binary_f32.js';

type BinaryFn = (a: number, b: number) => number;

/**
 * Broadcast `fn` over a and b (any strides) into a contiguous output. The innermost dimension
 * runs in a tight loop with fixed strides.
 */
export function binaryStrided(
  a: TensorInfo,
  b: TensorInfo,
  outDtype: DType,
  fn: BinaryFn,
): { shape: number[]; values: Float32Array } {
  const shape = broadcastShapes(a.shape, b.shape);
  const size = sizeOf(shape);
  const out = allocStorage(outDtype, size) as Float32Array;
  const av = cpuValues(a);
  const bv = cpuValues(b);
  const sa = broadcastStrides(a.shape, a.strides, shape);
  const sb = broadcastStrides(b.shape, b.strides, shape);
  const rank = shape.length;
  if (size === 0) return { shape, values: out };
  if (rank === 0) {
    out[0] = fn(av[a.offset]!, bv[b.offset]!);
    return { shape, values: out };
  }
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const n = shape[last]!;
  const ia = sa[last]!;
  const ib = sb[last]!;
  let pa = a.offset;
  let pb = b.offset;
  let o = 0;
  for (;;) {
    for (let j = 0, xa = pa, xb = pb; j < n; j++, xa += ia, xb += ib) out[o++] = fn(av[xa]!, bv[xb]!);
    let d = last - 1;
    for (; d >= 0; d--) {
      idx[d]!++;
      pa += sa[d]!;
      pb += sb[d]!;
      if (idx[d]! < shape[d]!) break;
      pa -= sa[d]! * shape[d]!;
      pb -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return { shape, values: out };
}

const F32_LOOPS = new Set<BinaryKernelName>(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);

/**
 * `fn` computes in float64 (or BigInt for int64/uint64) and the typed-array store wraps integer
 * results modulo 2^bits; `int32Fn`, when given, replaces it for int32/uint32, whose products
 * are not exact in float64.
 */
function makeBinary(name: BinaryKernelName, fn: BinaryFn, outDtype?: DType, int32Fn?: BinaryFn): KernelConfig<CpuBackend, BinaryKernelName> {
  return {
    name,
    backend: 'cpu',
    strided: true,
    run([a, b], _attrs, backend) {
      const dtype = outDtype ?? a!.dtype;
      if (dtype === 'float32' && F32_LOOPS.has(name)) {
        // dedicated loops per op and broadcast pattern (same float32 result per element)
        const { shape, values } = binaryF32(name as ArithOp, a!, b!);
        return [backend.output(dtype, shape, values)];
      }
      const f = int32Fn && (a!.dtype === 'int32' || a!.dtype === 'uint32') ? int32Fn : fn;
      const { shape, values } = binaryStrided(a!, b!, dtype, f);
      return [backend.output(dtype, shape, values)];
    },
  };
}

const cmp = (f: (a: number, b: number) => boolean): BinaryFn => (a, b) => (f(a, b) ? 1 : 0);

/** Binary element-wise cpu kernels (float and wrapping integer arithmetic; comparisons give bool). */
export const binaryCpuKernels: KernelConfig<CpuBackend, BinaryKernelName>[] = [
  makeBinary('Add', (a, b) => a + b),
  makeBinary('Sub', (a, b) => a - b),
  makeBinary('Mul', (a, b) => a * b, undefined, Math.imul),
  makeBinary('Div', (a, b) => a / b),
  makeBinary('Pow', (a, b) => Math.pow(a, b)),
  makeBinary('Max', (a, b) => (a > b || Number.isNaN(a) ? a : b)),
  makeBinary('Min', (a, b) => (a < b || Number.isNaN(a) ? a : b)),
  makeBinary('Equal', cmp((a, b) => a === b), 'bool'),
  makeBinary('Less', cmp((a, b) => a < b), 'bool'),
  makeBinary('Greater', cmp((a, b) => a > b), 'bool'),
  makeBinary('LessOrEqual', cmp((a, b) => a <= b), 'bool'),
  makeBinary('GreaterOrEqual', cmp((a, b) => a >= b), 'bool'),
  makeBinary('And', cmp((a, b) => !!a && !!b), 'bool'),
  makeBinary('Or', cmp((a, b) => !!a || !!b), 'bool'),
  makeBinary('Xor', cmp((a, b) => !!a !== !!b), 'bool'),
];
