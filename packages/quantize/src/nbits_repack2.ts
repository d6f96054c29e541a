/**
 * MatMulNBits' 2-bit layout from its 4-bit one. The streaming kernels write codes in 4-bit
 * containers; a 2-bit grid's codes (0..3) and zero points fit, so repacking four codes per byte
 * gives exactly the bytes `packMatMulNBits(q, 2)` writes (padding codes are the zero point in both).
 */

/** Codes: 4-bit blocks [N, nb, bs/2] → 2-bit blocks [N, nb, bs/4] (bs a multiple of 4). */
export function repackCodes4To2(b4: Uint8Array): Uint8Array {
  const out = new Uint8Array(b4.length >> 1);
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const lo = b4[j]!;
    const hi = b4[j + 1]!;
    out[i] = (lo & 3) | ((lo >> 2) & 12) | ((hi & 3) << 4) | (((hi >> 4) & 3) << 6);
  }
  return out;
}

/** Zero points: per column ceil(nb/2) bytes of nibbles → ceil(nb/4) bytes of 2-bit fields. */
export function repackZeroPoints4To2(z4: Uint8Array, N: number, nb: number): Uint8Array {
  const in4 = Math.ceil(nb / 2);
  const in2 = Math.ceil(nb / 4);
  const out = new Uint8Array(N * in2);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nb; b++) {
      const v = (z4[n * in4 + (b >> 1)]! >> ((b & 1) * 4)) & 3;
      out[n * in2 + (b >> 2)] = out[n * in2 + (b >> 2)]! | (v << ((b & 3) * 2));
    }
  }
  return out;
}
