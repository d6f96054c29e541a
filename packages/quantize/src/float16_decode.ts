/**
 * Bulk float16 → float32 decoding for the streaming quantizer: bands of half floats are decoded
 * into the float32 bands the MatMulNBits kernel reads, on this thread or on a band thread. A
 * 65536-entry table of float32 bits (256 KB, built on first use) costs one load per value, where
 * the per-value `float16BitsToFloat32` of @whittle/tensor computes a power of two each time. No
 * package imports: a band thread loads only the kernel's files.
 */

let table: Uint32Array | undefined;

/**
 * Float32 bits of every float16 bit pattern: the exact value (every half is a float32); NaN as the
 * quiet NaN 0x7fc00000, which is what `Float32Array.from(bits, float16BitsToFloat32)` stores, so
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
