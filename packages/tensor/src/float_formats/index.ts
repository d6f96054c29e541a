/**
 * Float storage formats: the 8- and 4-bit float dtypes Whittle stores as codes (one byte each,
 * float4e2m1 packed two per byte) and converts exactly with Cast, QuantizeLinear and
 * DequantizeLinear, but does not compute with.
 */
import { decodeE8m0, encodeE8m0, type E8m0RoundMode } from './e8m0.js';
import { FLOAT4E2M1, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ, type Minifloat, decodeMinifloat, encodeMinifloat } from './minifloat.js';

export type { E8m0RoundMode } from './e8m0.js';
export type { Minifloat } from './minifloat.js';

/** The float storage-format dtypes. */
export type FloatFormat = 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float8e8m0' | 'float4e2m1';

export const FLOAT_FORMATS: readonly FloatFormat[] = ['float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz', 'float8e8m0', 'float4e2m1'];

const MINIFLOATS: Readonly<Record<Exclude<FloatFormat, 'float8e8m0'>, Minifloat>> = {
  float8e4m3fn: FLOAT8E4M3FN,
  float8e4m3fnuz: FLOAT8E4M3FNUZ,
  float8e5m2: FLOAT8E5M2,
  float8e5m2fnuz: FLOAT8E5M2FNUZ,
  float4e2m1: FLOAT4E2M1,
};

/** Options of a conversion to a float format (ONNX Cast attributes). */
export interface FloatFormatOptions {
  /** Clamp out-of-range values (and ±Inf) to the largest finite value; default true. */
  saturate?: boolean;
  /** Rounding to float8e8m0 only; default 'up'. */
  roundMode?: E8m0RoundMode;
}

/** True for the float storage formats (float8 variants, float8e8m0, float4e2m1). */
export function isFloatFormat(dtype: string): dtype is FloatFormat {
  return (FLOAT_FORMATS as readonly string[]).includes(dtype);
}

/** The minifloat descriptor of a format (undefined for float8e8m0, which is exponent-only). */
export function minifloatOf(dtype: FloatFormat): Minifloat | undefined {
  return dtype === 'float8e8m0' ? undefined : MINIFLOATS[dtype];
}

/** Decode one code of `dtype` to its value (exact). */
export function decodeFloatFormat(dtype: FloatFormat, code: number): number {
  return dtype === 'float8e8m0' ? decodeE8m0(code) : decodeMinifloat(MINIFLOATS[dtype], code);
}

/** Encode a number as a code of `dtype` (through float32, round to nearest even / roundMode). */
export function encodeFloatFormat(dtype: FloatFormat, value: number, opts: FloatFormatOptions = {}): number {
  const saturate = opts.saturate ?? true;
  if (dtype === 'float8e8m0') return encodeE8m0(value, saturate, opts.roundMode ?? 'up');
  return encodeMinifloat(MINIFLOATS[dtype], value, saturate);
}
