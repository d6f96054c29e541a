import { type DType, type Tensor, DTYPES, toFloat64 } from '@whittle/tensor';
import type { OnnxDataType, RawTensor } from './types.js';

/** ONNX TensorProto.DataType codes, by index. */
const CODES: OnnxDataType[] = [
  'undefined', 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool',
  'float16', 'float64', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16', 'float8e4m3fn',
  'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'uint4', 'int4', 'float4e2m1', 'float8e8m0',
  'uint2', 'int2',
];

/** The element type for an ONNX TensorProto.DataType code (e.g. Cast's `to`). */
export function onnxTypeFromCode(code: number): OnnxDataType {
  return CODES[code] ?? 'undefined';
}

/** The ONNX TensorProto.DataType code of an element type. */
export function onnxTypeCode(t: OnnxDataType): number {
  const i = CODES.indexOf(t);
  return i < 0 ? 0 : i;
}

/** True when Whittle computes with this element type (it is a tensor DType). */
export function isComputable(t: OnnxDataType): t is DType {
  return (DTYPES as readonly string[]).includes(t);
}

/** Bits per element of an ONNX element type (0 for string/undefined). */
export function onnxBits(t: OnnxDataType): number {
  switch (t) {
    case 'float64': case 'int64': case 'uint64': case 'complex64':
      return 64;
    case 'complex128':
      return 128;
    case 'float32': case 'int32': case 'uint32':
      return 32;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16':
      return 16;
    case 'int4': case 'uint4': case 'float4e2m1':
      return 4;
    case 'int2': case 'uint2':
      return 2;
    case 'string': case 'undefined':
      return 0;
    default:
      return 8;
  }
}

/** Element values of a cpu tensor as float64 (int64 narrowed to number). */
export function tensorValues(t: Tensor): Float64Array {
  return toFloat64(t.dtype, t.dataSync(), t.size);
}

/** Element values of a cpu tensor as plain integers (for shapes, axes, indices). */
export function tensorInts(t: Tensor): number[] {
  return Array.from(tensorValues(t), (v) => Math.trunc(v));
}

/** Size in bytes of an initializer (computable or raw). */
export function initializerBytes(t: Tensor | RawTensor): number {
  if ('storage' in t) return Math.ceil((t.size * onnxBits(t.dtype)) / 8);
  if (t.rawData) return t.rawData.byteLength;
  if (t.external) return t.external.length;
  if (t.strings) return t.strings.reduce((s, b) => s + b.byteLength, 0);
  return 0;
}

/** Number of elements of an initializer. */
export function initializerSize(t: Tensor | RawTensor): number {
  if ('storage' in t) return t.size;
  return t.dims.reduce((a, b) => a * b, 1);
}
