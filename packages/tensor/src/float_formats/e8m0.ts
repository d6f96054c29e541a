/**
 * float8 E8M0 (OCP MX scale format, ONNX FLOAT8E8M0): an unsigned power of two, code c is
 * 2^(c - 127); 0xFF is NaN; there is no zero and no sign. Encoding follows onnx's reference
 * (numpy_helper.to_float8e8m0): the float32 exponent field, rounded by `roundMode`.
 */

/** Rounding of Cast to float8e8m0 (ONNX Cast attribute round_mode, default 'up'). */
export type E8m0RoundMode = 'up' | 'down' | 'nearest';

/** Decode an E8M0 code. */
export function decodeE8m0(code: number): number {
  return code === 0xff ? NaN : 2 ** (code - 127);
}

/**
 * Encode a float32 bit pattern: NaN and ±Inf → 0xFF; the sign is dropped; 'down' keeps the
 * exponent field, 'up' adds one when any mantissa bit is set, 'nearest' adds one when the
 * guard bit is set and (round bit, sticky bits or a non-zero exponent) — onnx's rule. With
 * `saturate`, rounding never carries 0xFE into 0xFF (NaN).
 */
export function encodeE8m0Bits(bits: number, saturate: boolean, roundMode: E8m0RoundMode): number {
  const e = (bits >>> 23) & 0xff;
  if (e === 0xff) return 0xff;
  let up = false;
  if (roundMode === 'up') up = (bits & 0x7fffff) !== 0;
  else if (roundMode === 'nearest') up = (bits & 0x400000) !== 0 && ((bits & 0x200000) !== 0 || (bits & 0x1fffff) !== 0 || e > 0);
  if (up && saturate && e === 0xfe) up = false;
  return up ? e + 1 : e;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Encode a number (rounded to float32 first). */
export function encodeE8m0(value: number, saturate = true, roundMode: E8m0RoundMode = 'up'): number {
  f32[0] = value;
  return encodeE8m0Bits(u32[0]!, saturate, roundMode);
}
