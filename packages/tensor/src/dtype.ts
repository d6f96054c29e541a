import { DTypeError } from './errors.js';
import { type FloatFormat, FLOAT_FORMATS, decodeFloatFormat, encodeFloatFormat, isFloatFormat } from './float_formats/index.js';

/**
 * Element types. `float16` is stored as IEEE half bits in a Uint16Array; `int64` as a
 * BigInt64Array; `bool` as a Uint8Array of 0/1; `int4`/`uint4`/`int2`/`uint2` packed
 * little-end-first into bytes the way ONNX packs them (element 0 in the low bits). `int16`,
 * `uint16`, `uint32` and `uint64` are stored in Int16Array, Uint16Array, Uint32Array and
 * BigUint64Array; their arithmetic wraps modulo 2^bits as in C. `float64`, `bfloat16` and the
 * float8/float4 formats are storage-only (see {@link isStorageOnly}).
 */
export type DType =
  | 'float32'
  | 'float16'
  | 'int32'
  | 'int64'
  | 'int8'
  | 'uint8'
  | 'bool'
  | 'int4'
  | 'uint4'
  | 'int2'
  | 'uint2'
  | 'int16'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float64'
  | 'bfloat16'
  | FloatFormat;

export const DTYPES: readonly DType[] = [
  'float32', 'float16', 'int32', 'int64', 'int8', 'uint8', 'bool', 'int4', 'uint4', 'int2', 'uint2',
  'int16', 'uint16', 'uint32', 'uint64',
  'float64', 'bfloat16', ...FLOAT_FORMATS,
];

/**
 * Dtypes Whittle stores and converts but does not compute with: `float64` (a Float64Array;
 * float32 words on webgpu), `bfloat16` (bits in a Uint16Array; float32 words on webgpu) and the
 * float formats (codes in bytes, float4e2m1 packed; one i32 code per element on webgpu). Only
 * Cast and Contiguous accept them; cast to float32 to compute.
 */
export function isStorageOnly(dtype: DType): boolean {
  return dtype === 'float64' || dtype === 'bfloat16' || isFloatFormat(dtype);
}

/** The typed array that stores each dtype on the CPU. */
export type StorageArray =
  | Float32Array
  | Uint16Array
  | Int32Array
  | BigInt64Array
  | Int8Array
  | Uint8Array
  | Float64Array
  | Int16Array
  | Uint32Array
  | BigUint64Array;

/** Bits per element. */
export function bitsOf(dtype: DType): number {
  switch (dtype) {
    case 'float32':
    case 'int32':
    case 'uint32':
      return 32;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 64;
    case 'float16':
    case 'int16':
    case 'uint16':
    case 'bfloat16':
      return 16;
    case 'int8':
    case 'uint8':
    case 'bool':
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0':
      return 8;
    case 'int4':
    case 'uint4':
    case 'float4e2m1':
      return 4;
    case 'int2':
    case 'uint2':
      return 2;
  }
}

export function isPacked(dtype: DType): boolean {
  return bitsOf(dtype) < 8;
}

/** Floating-point dtypes: float32, float16 and the storage-only float64, bfloat16 and float formats. */
export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'float64' || dtype === 'bfloat16' || isFloatFormat(dtype);
}

export function isInteger(dtype: DType): boolean {
  return !isFloat(dtype) && dtype !== 'bool';
}

/** Number of storage elements (bytes for packed types) that hold `size` logical elements. */
export function storageLength(dtype: DType, size: number): number {
  const bits = bitsOf(dtype);
  return bits < 8 ? Math.ceil((size * bits) / 8) : size;
}

export function byteLength(dtype: DType, size: number): number {
  const bits = bitsOf(dtype);
  return bits < 8 ? Math.ceil((size * bits) / 8) : size * (bits / 8);
}

/** Allocate zeroed storage for `size` logical elements. */
export function allocStorage(dtype: DType, size: number): StorageArray {
  const n = storageLength(dtype, size);
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float16':
      return new Uint16Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'bfloat16':
      return new Uint16Array(n);
    default:
      return new Uint8Array(n);
  }
}

/** Check that `values` is the storage array type of `dtype` and long enough. */
export function checkStorage(dtype: DType, values: StorageArray, size: number, where: string): void {
  const want = allocStorage(dtype, 0).constructor;
  if (values.constructor !== want) {
    throw new DTypeError(
      `${where}: dtype ${dtype} is stored as ${want.name}, got ${values.constructor.name}`,
    );
  }
  const n = storageLength(dtype, size);
  if (values.length !== n) {
    throw new DTypeError(`${where}: ${size} elements of ${dtype} need ${n} storage slots, got ${values.length}`);
  }
}

/** Integer range [min, max] of an integer dtype. */
export function intRange(dtype: DType): [number, number] {
  switch (dtype) {
    case 'int8':
      return [-128, 127];
    case 'uint8':
      return [0, 255];
    case 'int4':
      return [-8, 7];
    case 'uint4':
      return [0, 15];
    case 'int2':
      return [-2, 1];
    case 'uint2':
      return [0, 3];
    case 'int16':
      return [-32768, 32767];
    case 'uint16':
      return [0, 65535];
    case 'int32':
      return [-2147483648, 2147483647];
    case 'uint32':
      return [0, 4294967295];
    case 'int64':
      return [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
    case 'uint64':
      return [0, Number.MAX_SAFE_INTEGER];
    case 'bool':
      return [0, 1];
    default:
      throw new DTypeError(`intRange: ${dtype} is not an integer dtype`);
  }
}

// ---- float16 <-> float32 -------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Round a float32 to the nearest float16 (ties to even) and return its bits. */
export function float32ToFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow -> signed zero
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  return sign | half;
}

/** Decode float16 bits to a number. */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Decode bfloat16 bits to a number. */
export function bfloat16BitsToFloat32(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0]!;
}

/** Round a float32 to bfloat16 (ties to even) and return its bits. */
export function float32ToBfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff;
  const rounding = 0x7fff + ((x >>> 16) & 1);
  return ((x + rounding) >>> 16) & 0xffff;
}

// ---- packed sub-byte ----------------------------------------------------------------

/** Read element `i` of packed int4/uint4/int2/uint2 storage. */
export function readPacked(dtype: DType, bytes: Uint8Array, i: number): number {
  const bits = bitsOf(dtype);
  const perByte = 8 / bits;
  const byte = bytes[Math.floor(i / perByte)]!;
  const shift = (i % perByte) * bits;
  const mask = (1 << bits) - 1;
  const v = (byte >>> shift) & mask;
  const signed = dtype === 'int4' || dtype === 'int2';
  return signed && v >= 1 << (bits - 1) ? v - (1 << bits) : v;
}

/** Write element `i` of packed storage (value must already be in range). */
export function writePacked(dtype: DType, bytes: Uint8Array, i: number, value: number): void {
  const bits = bitsOf(dtype);
  const perByte = 8 / bits;
  const at = Math.floor(i / perByte);
  const shift = (i % perByte) * bits;
  const mask = (1 << bits) - 1;
  bytes[at] = (bytes[at]! & ~(mask << shift)) | ((value & mask) << shift);
}

/** Unpack a packed array to one Int32 per element. */
export function unpackToInt32(dtype: DType, bytes: Uint8Array, size: number): Int32Array {
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) out[i] = readPacked(dtype, bytes, i);
  return out;
}

/** Pack Int32 values (already in range) into packed storage. */
export function packFromInt32(dtype: DType, values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(storageLength(dtype, values.length));
  for (let i = 0; i < values.length; i++) writePacked(dtype, out, i, values[i]!);
  return out;
}

/**
 * Read element `i` of any storage as a JS number (float16 decoded, int64 narrowed,
 * packed unpacked). Slow path for references, printing and generic code.
 */
export function readElement(dtype: DType, values: StorageArray, i: number): number {
  if (dtype === 'float16') return float16BitsToFloat32((values as Uint16Array)[i]!);
  if (dtype === 'bfloat16') return bfloat16BitsToFloat32((values as Uint16Array)[i]!);
  if (isFloatFormat(dtype)) return decodeFloatFormat(dtype, dtype === 'float4e2m1' ? readPacked(dtype, values as Uint8Array, i) : (values as Uint8Array)[i]!);
  if (dtype === 'int64' || dtype === 'uint64') return Number((values as BigInt64Array | BigUint64Array)[i]!);
  if (isPacked(dtype)) return readPacked(dtype, values as Uint8Array, i);
  return (values as Float32Array)[i]!;
}

/** Write element `i` (inverse of readElement; values are rounded/truncated as the dtype needs). */
export function writeElement(dtype: DType, values: StorageArray, i: number, v: number): void {
  if (dtype === 'float16') (values as Uint16Array)[i] = float32ToFloat16Bits(v);
  else if (dtype === 'bfloat16') (values as Uint16Array)[i] = float32ToBfloat16Bits(v);
  else if (dtype === 'float4e2m1') writePacked(dtype, values as Uint8Array, i, encodeFloatFormat(dtype, v));
  else if (isFloatFormat(dtype)) (values as Uint8Array)[i] = encodeFloatFormat(dtype, v);
  else if (dtype === 'int64' || dtype === 'uint64') (values as BigInt64Array | BigUint64Array)[i] = BigInt(Math.trunc(v));
  else if (isPacked(dtype)) writePacked(dtype, values as Uint8Array, i, Math.trunc(v));
  else if (dtype === 'bool') (values as Uint8Array)[i] = v ? 1 : 0;
  else (values as Float32Array)[i] = v;
}

/** Decode any storage to a Float64Array (for references and tests). */
export function toFloat64(dtype: DType, values: StorageArray, size: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = readElement(dtype, values, i);
  return out;
}

/** Build storage of `dtype` from plain numbers. */
export function fromNumbers(dtype: DType, values: ArrayLike<number>): StorageArray {
  const out = allocStorage(dtype, values.length);
  for (let i = 0; i < values.length; i++) writeElement(dtype, out, i, values[i]!);
  return out;
}
