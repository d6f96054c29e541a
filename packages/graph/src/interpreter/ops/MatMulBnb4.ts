import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { unsupported } from './util.js';
import { BNB4_TABLES, dequantizeBnb4 } from '../../ir/packed_codes.js';

export { BNB4_TABLES, BNB4_QUANT_TYPE, dequantizeBnb4 } from '../../ir/packed_codes.js';

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
