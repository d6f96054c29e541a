/**
 * Layouts of onnxruntime's packed low-bit weights, shared by the interpreter's kernels (which
 * dequantize them) and the analyses that count what they hold (parameters, zero weights):
 * MatMulNBits codes and zero points, GatherBlockQuantized zero points, bitsandbytes' 4-bit tables.
 * Pure functions over plain arrays.
 */

/** A MatMulNBits weight's geometry, from the node's attributes. */
export interface NBitsLayout {
  K: number;
  N: number;
  bits: number;
  blockSize: number;
  /** ceil(K / blockSize) */
  kBlocks: number;
  /** bytes per block: blockSize · bits / 8 */
  blob: number;
}

/** The layout of a MatMulNBits weight with these attributes. */
export function nbitsLayout(K: number, N: number, bits: number, blockSize: number): NBitsLayout {
  return { K, N, bits, blockSize, kBlocks: Math.ceil(K / blockSize), blob: (blockSize * bits) / 8 };
}

/** The code of weight (row n, k) in MatMulNBits' B [N, kBlocks, blob]: low bits first along K. */
export function nbitsCode(codes: Uint8Array, l: NBitsLayout, n: number, k: number): number {
  const per = 8 / l.bits;
  const inBlock = k % l.blockSize;
  const byte = codes[n * l.kBlocks * l.blob + Math.floor(k / l.blockSize) * l.blob + Math.floor(inBlock / per)]!;
  return (byte >> ((inBlock % per) * l.bits)) & ((1 << l.bits) - 1);
}

/**
 * MatMulNBits' zero point of (row n, block): packed uint8 [N · ceil(kBlocks · bits / 8)] (low
 * bits first), float like the scales [N · kBlocks], or absent (2^(bits-1)).
 */
export function nbitsZeroPoints(zp: Uint8Array | ArrayLike<number> | undefined, l: NBitsLayout): (n: number, block: number) => number {
  if (!zp) return () => 1 << (l.bits - 1);
  if (zp instanceof Uint8Array) return packedZeroPoints(zp, l.bits, l.kBlocks);
  return (n, b) => zp[n * l.kBlocks + b]!;
}

/**
 * Zero points packed along the block axis, `8 / bits` a byte, low bits first, each row of
 * `blocks` starting on a byte (MatMulNBits, uint8 GatherBlockQuantized): (row, block) → value.
 */
export function packedZeroPoints(zp: Uint8Array, bits: number, blocks: number): (row: number, block: number) => number {
  const per = 8 / bits;
  const rowBytes = Math.ceil(blocks / per);
  const mask = (1 << bits) - 1;
  return (row, b) => (zp[row * rowBytes + Math.floor(b / per)]! >> ((b % per) * bits)) & mask;
}

/**
 * The 16 values of bitsandbytes' 4-bit data types, indexed by code: NormalFloat (NF4, QLoRA:
 * quantiles of a standard normal scaled to [-1, 1], an exact 0) and the FP4 (e2m1) variant.
 */
export const BNB4_TABLES = {
  fp4: Float32Array.from([0, 0.0052083333, 0.6666667, 1, 0.3333333, 0.5, 0.1666667, 0.25, -0, -0.0052083333, -0.6666667, -1, -0.3333333, -0.5, -0.1666667, -0.25]),
  nf4: Float32Array.from([
    -1, -0.6961928009986877, -0.5250730514526489, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1,
  ]),
} as const;

/** MatMulBnb4's `quant_type` attribute: 0 FP4, 1 NF4. */
export const BNB4_QUANT_TYPE = { fp4: 0, nf4: 1 } as const;

/**
 * Values of a bnb4 tensor: `n` weights in blocks of `blockSize` (flattened, a block may span rows),
 * two codes a byte, the first in the high nibble, each times its block's absmax.
 */
export function dequantizeBnb4(packed: Uint8Array, absmax: ArrayLike<number>, n: number, blockSize: number, table: Float32Array): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const byte = packed[i >> 1]!;
    out[i] = table[i & 1 ? byte & 15 : byte >> 4]! * absmax[Math.floor(i / blockSize)]!;
  }
  return out;
}

