/**
 * The small IEEE-like float formats of ONNX, as pure encode/decode functions on their codes:
 * float8 E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ and float4 E2M1 (onnx.ai/onnx/technical/float8.html,
 * float4.html). Encoding rounds a float32 to nearest, ties to even; `saturate` decides what
 * happens out of range, following the ONNX Cast tables and the onnx 1.22 reference data:
 *
 * | x              | E4M3FN        | E4M3FNUZ | E5M2          | E5M2FNUZ | E2M1      |
 * | -------------- | ------------- | -------- | ------------- | -------- | --------- |
 * | ±0             | ±0            | 0        | ±0            | 0        | ±0        |
 * | NaN            | NaN (sign kept) | NaN    | NaN (sign kept) | NaN    | -0 (0b1000) |
 * | ±Inf, sat      | ±max          | ±max     | ±max          | ±max     | ±6        |
 * | ±Inf, no sat   | ±NaN          | NaN      | ±Inf          | NaN      | ±6        |
 * | [x] > max, sat | ±max          | ±max     | ±max          | ±max     | ±6        |
 * | [x] > max, no sat | ±NaN       | NaN      | ±Inf          | NaN      | ±6        |
 *
 * float4 E2M1 has no NaN or infinity and always saturates; NaN becomes 0b1000 as in the ONNX
 * conformance data (the prose table of float4.md says 6; onnx's reference and tests give -0).
 */

/** One minifloat format: field widths, bias and its special codes. */
export interface Minifloat {
  readonly name: 'float8e4m3fn' | 'float8e4m3fnuz' | 'float8e5m2' | 'float8e5m2fnuz' | 'float4e2m1';
  /** Exponent bits. */
  readonly eb: number;
  /** Mantissa bits. */
  readonly mb: number;
  readonly bias: number;
  /** Largest finite magnitude code (sign bit clear). */
  readonly maxCode: number;
  /** How non-finite values are encoded: 'fn' (NaN = all ones, no Inf), 'ieee' (E5M2: Inf and NaN), 'fnuz' (NaN = -0 code), 'none' (float4). */
  readonly kind: 'fn' | 'ieee' | 'fnuz' | 'none';
}

export const FLOAT8E4M3FN: Minifloat = { name: 'float8e4m3fn', eb: 4, mb: 3, bias: 7, maxCode: 0x7e, kind: 'fn' };
export const FLOAT8E4M3FNUZ: Minifloat = { name: 'float8e4m3fnuz', eb: 4, mb: 3, bias: 8, maxCode: 0x7f, kind: 'fnuz' };
export const FLOAT8E5M2: Minifloat = { name: 'float8e5m2', eb: 5, mb: 2, bias: 15, maxCode: 0x7b, kind: 'ieee' };
export const FLOAT8E5M2FNUZ: Minifloat = { name: 'float8e5m2fnuz', eb: 5, mb: 2, bias: 16, maxCode: 0x7f, kind: 'fnuz' };
export const FLOAT4E2M1: Minifloat = { name: 'float4e2m1', eb: 2, mb: 1, bias: 1, maxCode: 0x7, kind: 'none' };

/** The sign bit of a format's code. */
export const signBit = (f: Minifloat): number => 1 << (f.eb + f.mb);

/** The code of NaN (positive, or with `sign` where the format has signed NaNs). */
export function nanCode(f: Minifloat, sign = 0): number {
  switch (f.kind) {
    case 'fn':
      return sign | (signBit(f) - 1);
    case 'ieee':
      return sign | (((1 << f.eb) - 1) << f.mb) | (1 << (f.mb - 1));
    case 'fnuz':
      return signBit(f);
    case 'none':
      return signBit(f);
  }
}

/** Decode a code (sign bit at eb + mb) to its value. */
export function decodeMinifloat(f: Minifloat, code: number): number {
  const s = signBit(f);
  const sign = code & s ? -1 : 1;
  const mag = code & (s - 1);
  const e = mag >>> f.mb;
  const m = mag & ((1 << f.mb) - 1);
  if (f.kind === 'fn' && mag === s - 1) return NaN;
  if (f.kind === 'fnuz' && code === s) return NaN;
  if (f.kind === 'ieee' && e === (1 << f.eb) - 1) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** (1 - f.bias - f.mb);
  return sign * (1 + m / (1 << f.mb)) * 2 ** (e - f.bias);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Encode the float32 bit pattern `bits` (the algorithm the WGSL encoder mirrors). */
export function encodeMinifloatBits(f: Minifloat, bits: number, saturate: boolean): number {
  const s = signBit(f);
  const sign = bits >>> 31 ? s : 0;
  const a = bits & 0x7fffffff;
  const zero = f.kind === 'fnuz' ? 0 : sign;
  if (a > 0x7f800000) return f.kind === 'none' ? s : nanCode(f, sign);
  const overflow = saturate || f.kind === 'none' ? sign | f.maxCode : f.kind === 'ieee' ? sign | (((1 << f.eb) - 1) << f.mb) : nanCode(f, sign);
  if (a === 0x7f800000) return overflow;
  if (a < 0x00800000) return zero; // ±0 and float32 subnormals, far below every minifloat
  const e = (a >>> 23) - 127;
  const m = (a & 0x7fffff) | 0x800000;
  const emin = 1 - f.bias;
  let shift = 23 - f.mb;
  let base = (e + f.bias - 1) << f.mb;
  if (e < emin) {
    shift += emin - e;
    base = 0;
  }
  if (shift > 25) return zero;
  let q = m >>> shift;
  const rem = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  if (rem > half || (rem === half && q & 1)) q++;
  const code = base + q; // a mantissa carry moves into the exponent field by itself
  if (code > f.maxCode) return overflow;
  return code === 0 ? zero : sign | code;
}

/** Encode a number (rounded to float32 first, as the ONNX reference does). */
export function encodeMinifloat(f: Minifloat, value: number, saturate = true): number {
  f32[0] = value;
  return encodeMinifloatBits(f, u32[0]!, saturate);
}
