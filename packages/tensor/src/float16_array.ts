/**
 * Bulk float32 → float16 conversion for weight files, readbacks and float16 outputs: the per-value
 * {@link float32ToFloat16Bits} costs a branchy call per element.
 */
const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);
/** The float (2^-1) whose addition to a value below 2^-14 leaves its float16 subnormal code, rounded, in the low bits. */
const DENORM_MAGIC = (127 - 15 + (23 - 10) + 1) << 23;
scratchU[0] = DENORM_MAGIC;
const DENORM_MAGIC_F = scratchF[0]!;

/**
 * float32 bits → float16 bits, round to nearest even, the same bits as {@link float32ToFloat16Bits}
 * on a whole array at once. Branch-light (F. Giesen's float_to_half_fast3_rtne):
 * normals round by adding 0xfff plus the kept mantissa's lowest bit before the shift; subnormals
 * by one float addition that lets the FPU round; NaN becomes 0x7e00, overflow ±inf.
 */
export function float32BitsToFloat16(src: Uint32Array, dst: Uint16Array): void {
  for (let i = 0; i < src.length; i++) {
    const bits = src[i]!;
    const sign = (bits >>> 16) & 0x8000;
    const x = bits & 0x7fffffff;
    if (x >= 0x47800000) dst[i] = sign | (x > 0x7f800000 ? 0x7e00 : 0x7c00); // ≥ 65536 (65520 rounds up below), inf, nan
    else if (x < 0x38800000) {
      // below 2^-14: float16 subnormal or zero
      scratchU[0] = x;
      scratchF[0] = scratchF[0]! + DENORM_MAGIC_F;
      dst[i] = sign | (scratchU[0]! - DENORM_MAGIC);
    } else dst[i] = sign | ((x + 0xc8000fff + ((x >>> 13) & 1)) >>> 13); // rebias (−112 << 23) and round; >>> wraps mod 2^32
  }
}
