import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { unsupported } from './util.js';
import { nbitsCode, nbitsLayout, nbitsZeroPoints } from '../../ir/packed_codes.js';

/**
 * com.microsoft MatMulNBits: Y = A @ dequant(B)^T (+ bias). B is uint8 [N, k_blocks, blob] with
 * `bits` (2, 4, 8)-bit codes packed low bits first along K; scales [N * k_blocks]; zero points
 * optional — packed uint8 [N * ceil(k_blocks * bits / 8)] or float like the scales; default
 * 2^(bits-1); g_idx optional (block of each k). B is dequantized on the host (cached per
 * weight tensor) into float [K, N], then a regular matmul.
 */
const cache = new WeakMap<Tensor, Map<string, Tensor>>();

async function dequantizeB(b: Tensor, scales: Tensor, zp: Tensor | undefined, gIdx: Tensor | undefined, ctx: OpContext, dtype: T.DType): Promise<Tensor> {
  const K = ctx.int('K', 0);
  const N = ctx.int('N', 0);
  const bits = ctx.int('bits', 4);
  const bs = ctx.int('block_size', 0);
  if (![2, 4, 8].includes(bits)) unsupported(ctx, `bits = ${bits}`);
  if (!K || !N || !bs) unsupported(ctx, 'MatMulNBits without K, N and block_size');
  const l = nbitsLayout(K, N, bits, bs);
  const codes = (await b.data()) as Uint8Array;
  const sc = await scales.toFloat64();
  const g = gIdx ? Array.from(await gIdx.toFloat64()) : undefined;
  const zpAt = nbitsZeroPoints(zp ? (zp.dtype === 'uint8' ? ((await zp.data()) as Uint8Array) : await zp.toFloat64()) : undefined, l);
  const w = new Float32Array(K * N);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const blk = g ? g[k]! : Math.floor(k / bs);
      w[k * N + n] = (nbitsCode(codes, l, n, k) - zpAt(n, blk)) * sc[n * l.kBlocks + blk]!;
    }
  }
  const t = T.tensor(w, [K, N], 'float32', { backend: ctx.backend });
  return dtype === 'float32' ? t : T.cast(t, dtype);
}

registerOp(
  'MatMulNBits',
  async ([a, b, scales, zp, gIdx, bias], ctx) => {
    let per = cache.get(b!);
    if (!per) cache.set(b!, (per = new Map()));
    const key = `${ctx.node.name}|${ctx.backend}|${a!.dtype}`;
    let w = per.get(key);
    if (!w) per.set(key, (w = await dequantizeB(b!, scales!, zp, gIdx, ctx, a!.dtype)));
    const y = T.matmul(a!, w);
    return [bias ? T.add(y, bias) : y];
  },
  'com.microsoft',
);
