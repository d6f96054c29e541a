import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';

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

/**
 * com.microsoft MatMulBnb4: Y = A @ dequant(B)ᵀ where B packs the transposed weight [N, K] in 4-bit
 * bnb codes (see {@link dequantizeBnb4}). Dequantized on the host once per weight tensor, then a
 * regular matmul.
 */
const cache = new WeakMap<Tensor, Map<string, Tensor>>();

registerOp(
  'MatMulBnb4',
  async ([a, b, absmax], ctx) => {
    const K = ctx.int('K', 0);
    const N = ctx.int('N', 0);
    const bs = ctx.int('block_size', 0);
    const type = ctx.int('quant_type', 1);
    if (!K || !N || !bs) unsupported(ctx, 'MatMulBnb4 without K, N and block_size');
    if (type !== 0 && type !== 1) unsupported(ctx, `quant_type = ${type}`);
    let per = cache.get(b!);
    if (!per) cache.set(b!, (per = new Map()));
    const key = `${ctx.node.name}|${ctx.backend}|${a!.dtype}`;
    let w = per.get(key);
    if (!w) {
      const wt = dequantizeBnb4((await b!.data()) as Uint8Array, await absmax!.toFloat64(), N * K, bs, type === 1 ? BNB4_TABLES.nf4 : BNB4_TABLES.fp4);
      // [N, K] → [K, N] for A @ W
      const kn = new Float32Array(K * N);
      for (let r = 0; r < N; r++) for (let c = 0; c < K; c++) kn[c * N + r] = wt[r * K + c]!;
      const t = T.tensor(kn, [K, N], 'float32', { backend: ctx.backend });
      per.set(key, (w = a!.dtype === 'float32' ? t : T.cast(t, a!.dtype)));
    }
    return [T.matmul(a!, w)];
  },
  'com.microsoft',
);
