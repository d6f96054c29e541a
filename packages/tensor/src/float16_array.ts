/**
 * Bulk float32 ⇄ float16 conversion for weight files, readbacks and float16 outputs: the
 * per-value `float32ToFloat16Bits` / `float16BitsToFloat32` cost a branchy call (and a
 * power of two) per element. No imports: the streaming quantizer's band threads load this file
 * alone (subpath `@whittle/tensor/float16`).
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

// ---- float16 → float32 ---------------------------------------------------------------------

// a 65536-entry table of float32 bits (256 KB, built on first use): one load per value
let table: Uint32Array | undefined;

/**
 * Float32 bits of every float16 bit pattern: the exact value (every half is a float32); NaN as the
 * quiet NaN 0x7fc00000, which is what `float16ToFloat32Array(bits)` stores, so
 * the in-memory passes and the streaming ones see the same float32 bits.
 */
function halfTable(): Uint32Array {
  if (table) return table;
  const t = new Uint32Array(65536);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0x1f) t[h] = mant ? 0x7fc00000 : (sign | 0x7f800000) >>> 0;
    else if (exp === 0) {
      // subnormal (or zero): mant · 2^-24 is exact in float32
      f[0] = mant * 2 ** -24;
      t[h] = (sign | u[0]!) >>> 0;
    } else t[h] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  }
  table = t;
  return t;
}

/** Decode `src` (float16 bits) into `dst` (the float32 bits of the same values; dst.length ≥ src.length). */
export function decodeFloat16Bits(src: Uint16Array, dst: Uint32Array): void {
  const t = halfTable();
  for (let i = 0; i < src.length; i++) dst[i] = t[src[i]!]!;
}

/** The float32 values of float16 bits, as a new array: the same values as mapping `float16BitsToFloat32` over them. */
export function float16ToFloat32Array(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  decodeFloat16Bits(src, new Uint32Array(out.buffer));
  return out;
}
