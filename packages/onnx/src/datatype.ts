import type { DType } from '@whittle/tensor';
import type { OnnxDataType } from '@whittle/graph';

/** TensorProto.DataType numbers, by name (onnx.proto, ONNX 1.22). */
const BY_NUMBER: readonly OnnxDataType[] = [
  'undefined', 'float32', 'uint8', 'int8', 'uint16', 'int16', 'int32', 'int64', 'string', 'bool',
  'float16', 'float64', 'uint32', 'uint64', 'complex64', 'complex128', 'bfloat16',
  'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'uint4', 'int4',
  'float4e2m1', 'float8e8m0', 'uint2', 'int2',
];

const NUMBER_OF = new Map<OnnxDataType, number>(BY_NUMBER.map((n, i) => [n, i]));

/** The element type name of a TensorProto.DataType number (undefined if unknown). */
export function dataTypeName(n: number): OnnxDataType | undefined {
  return BY_NUMBER[n];
}

/** The TensorProto.DataType number of an element type name. */
export function dataTypeNumber(t: OnnxDataType): number {
  return NUMBER_OF.get(t) ?? 0;
}

/** Bits per element (0 for string / undefined). */
export function dataTypeBits(t: OnnxDataType): number {
  switch (t) {
    case 'float64': case 'int64': case 'uint64': case 'complex64':
      return 64;
    case 'complex128':
      return 128;
    case 'float32': case 'int32': case 'uint32':
      return 32;
    case 'float16': case 'bfloat16': case 'int16': case 'uint16':
      return 16;
    case 'uint8': case 'int8': case 'bool': case 'float8e4m3fn': case 'float8e4m3fnuz':
    case 'float8e5m2': case 'float8e5m2fnuz': case 'float8e8m0':
      return 8;
    case 'int4': case 'uint4': case 'float4e2m1':
      return 4;
    case 'int2': case 'uint2':
      return 2;
    default:
      return 0;
  }
}

/** Bytes needed for `count` elements of `t` in raw_data layout. */
export function rawByteLength(t: OnnxDataType, count: number): number {
  const bits = dataTypeBits(t);
  return bits < 8 ? Math.ceil((count * bits) / 8) : count * (bits / 8);
}

const COMPUTE: ReadonlySet<string> = new Set([
  'float32', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool', 'int4', 'uint4', 'int2', 'uint2',
  'int16', 'uint16', 'uint32', 'uint64',
  'float64', 'bfloat16', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'float4e2m1',
]);

/** The tensor DType Whittle computes with for this ONNX type, or undefined (kept as RawTensor). */
export function computeDType(t: OnnxDataType): DType | undefined {
  return COMPUTE.has(t) ? (t as DType) : undefined;
}
