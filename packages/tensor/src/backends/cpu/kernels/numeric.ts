import type { TensorInfo } from '../../../backend.js';
import { type DType, type StorageArray, bitsOf, fromNumbers, isPacked, readElement } from '../../../dtype.js';
import { cpuValues } from '../backend.js';

/** Dtypes whose cpu storage can be indexed directly as numbers. */
function direct(dtype: DType): boolean {
  return (
    dtype === 'float32' || dtype === 'int32' || dtype === 'int8' || dtype === 'uint8' || dtype === 'bool' ||
    dtype === 'int16' || dtype === 'uint16' || dtype === 'uint32'
  );
}

/**
 * The storage of `info` as numbers indexable with the info's strides/offset: the typed array
 * itself for directly numeric dtypes, else a decoded Float64Array (float16, int64/uint64, packed).
 */
export function numericStorage(info: TensorInfo): ArrayLike<number> {
  const v = cpuValues<StorageArray>(info);
  if (direct(info.dtype)) return v as Float32Array;
  const n = isPacked(info.dtype) ? (v.length * 8) / bitsOf(info.dtype) : v.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = readElement(info.dtype, v, i);
  return out;
}

/** Encode computed numbers as storage of `dtype` (float16 rounded, int64 as BigInt, packed). */
export function encodeNumbers(dtype: DType, values: ArrayLike<number>): StorageArray {
  if (dtype === 'float32') return Float32Array.from(values);
  return fromNumbers(dtype, values);
}

/** Round half to even (as ONNX QuantizeLinear and WGSL round()). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** outer × D × inner decomposition of a contiguous shape around `axis`. */
export function axisDims(shape: readonly number[], axis: number): { outer: number; d: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  return { outer, d: shape[axis] ?? 1, inner };
}
