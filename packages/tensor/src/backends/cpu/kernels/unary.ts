import type { KernelConfig, TensorInfo } from '../../../backend.js';
import { type KernelAttrs, UNARY_KERNEL_NAMES, type UnaryKernelName } from '../../../kernel_names.js';
import {
  type DType,
  type StorageArray,
  allocStorage,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  isPacked,
  readPacked,
} from '../../../dtype.js';
import { isContiguous, sizeOf } from '../../../shape.js';
import { type CpuBackend, cpuValues } from '../backend.js';
import { forEachStrided } from '../strided.js';
import { erf, erfc } from './erf.js';

/** A scalar function applied element by element. */
export type ScalarFn = (x: number) => number;

/** Reader of storage slot `s` as a number (float16 decoded, int64 narrowed, packed unpacked). */
export function decoder(dtype: DType, values: StorageArray): (s: number) => number {
  if (dtype === 'float16') return (s) => float16BitsToFloat32((values as Uint16Array)[s]!);
  if (dtype === 'int64' || dtype === 'uint64') return (s) => Number((values as BigInt64Array | BigUint64Array)[s]!);
  if (isPacked(dtype)) return (s) => readPacked(dtype, values as Uint8Array, s);
  const v = values as Float32Array;
  return (s) => v[s]!;
}

/** Writer of slot `d` from a number (float16 rounded, int64 as BigInt; typed arrays wrap ints). */
export function encoder(dtype: DType, out: StorageArray): (d: number, v: number) => void {
  if (dtype === 'float16') return (d, v) => ((out as Uint16Array)[d] = float32ToFloat16Bits(v));
  if (dtype === 'int64' || dtype === 'uint64') return (d, v) => ((out as BigInt64Array | BigUint64Array)[d] = BigInt(Math.trunc(v)));
  const o = out as Float32Array;
  return (d, v) => (o[d] = v);
}

/**
 * Apply `fn` to every element of `x` (any strides, non-packed) into new contiguous storage of
 * `outDtype`. float16 inputs are decoded, `fn` runs in float64 and the result is rounded to
 * the output dtype on store.
 */
export function mapStrided(x: TensorInfo, outDtype: DType, fn: ScalarFn): StorageArray {
  const size = sizeOf(x.shape);
  const out = allocStorage(outDtype, size);
  const src = cpuValues<StorageArray>(x);
  if (x.dtype === 'float32' && outDtype === 'float32' && x.offset === 0 && isContiguous(x.shape, x.strides)) {
    const a = src as Float32Array;
    const o = out as Float32Array;
    for (let i = 0; i < size; i++) o[i] = fn(a[i]!);
    return out;
  }
  const read = decoder(x.dtype, src);
  const write = encoder(outDtype, out);
  forEachStrided(x.shape, x.strides, x.offset, (s, d) => write(d, fn(read(s))));
  return out;
}

/** Round half to even (ONNX Round). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  const e = Math.exp(-Math.abs(x));
  const r = 1 / (1 + e);
  return x >= 0 ? r : e * r;
}

const GELU_K = Math.sqrt(2 / Math.PI);

/** The scalar math of every unary op; attrs carry alpha/beta/approximate. */
const TABLE: { readonly [N in UnaryKernelName]: (attrs: KernelAttrs[N]) => ScalarFn } = {
  Neg: () => (x) => -x,
  Abs: () => Math.abs,
  Exp: () => Math.exp,
  Log: () => Math.log,
  Sqrt: () => Math.sqrt,
  Reciprocal: () => (x) => 1 / x,
  Sin: () => Math.sin,
  Cos: () => Math.cos,
  Floor: () => Math.floor,
  Ceil: () => Math.ceil,
  Round: () => roundHalfEven,
  Sign: () => (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  Relu: () => (x) => (x > 0 ? x : 0),
  Sigmoid: () => sigmoid,
  Tanh: () => Math.tanh,
  Erf: () => erf,
  Gelu: (a) =>
    a.approximate === 'tanh'
      ? (x) => x * sigmoid(2 * GELU_K * (x + 0.044715 * x * x * x))
      : (x) => 0.5 * x * erfc(-x * Math.SQRT1_2),
  LeakyRelu: (a) => {
    const alpha = a.alpha ?? 0.01;
    return (x) => (x >= 0 ? x : alpha * x);
  },
  HardSigmoid: (a) => {
    const alpha = a.alpha ?? 0.2;
    const beta = a.beta ?? 0.5;
    return (x) => Math.max(0, Math.min(1, alpha * x + beta));
  },
  HardSwish: () => (x) => x * Math.max(0, Math.min(1, x / 6 + 0.5)),
  Softplus: () => (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  Not: () => (x) => (x ? 0 : 1),
};

/** The unary op names (ONNX op types) this factory provides. */
export const UNARY_OPS: readonly string[] = UNARY_KERNEL_NAMES;

function makeUnary<N extends UnaryKernelName>(name: N, make: (attrs: KernelAttrs[N]) => ScalarFn): KernelConfig<CpuBackend, N> {
  return {
    name,
    backend: 'cpu',
    strided: true,
    run([x], attrs, backend) {
      const values = mapStrided(x!, x!.dtype, make(attrs));
      return [backend.output(x!.dtype, x!.shape, values)];
    },
  };
}

/** Unary element-wise cpu kernels (read any strides; output dtype = input dtype). */
export const unaryCpuKernels: KernelConfig<CpuBackend, UnaryKernelName>[] = UNARY_KERNEL_NAMES.map(<N extends UnaryKernelName>(n: N) => makeUnary(n, TABLE[n]));
