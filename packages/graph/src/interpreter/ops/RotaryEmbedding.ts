import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import type { OpContext } from '../context.js';
import { hostInts } from './util.js';
import { badInput, rotate } from './attention_util.js';

/**
 * Rotary position embedding, in onnxruntime's com.microsoft form (input, position_ids, cos_cache,
 * sin_cache) and ONNX's opset-23 form (X, cos_cache, sin_cache, optional position_ids).
 *
 * The input is [B, S, N·H] or [B, N, S, H]. The first rotary_embedding_dim channels of each head
 * (default: twice the cache width) rotate by the cos / sin rows picked by position_ids — [B, S]
 * ids, or in the com.microsoft form a one-element offset (positions offset … offset + S − 1); in
 * the ONNX form without position_ids the caches are already [B, S, dim / 2]. `interleaved` pairs
 * channels (2i, 2i + 1) instead of (i, i + dim / 2). The com.microsoft `scale` attribute is
 * accepted and, as in onnxruntime's kernels, unused.
 */
async function rotaryEmbedding(x: Tensor, pos: Tensor | undefined, cosCache: Tensor, sinCache: Tensor, ctx: OpContext): Promise<Tensor> {
  if (x.rank !== 3 && x.rank !== 4) throw badInput(ctx, `input must be 3-D [batch, sequence, hidden] or 4-D [batch, heads, sequence, head]; it is [${x.shape.join(', ')}]`);
  const [b, s] = x.rank === 3 ? [x.shape[0]!, x.shape[1]!] : [x.shape[0]!, x.shape[2]!];
  const half = cosCache.shape[cosCache.rank - 1]!;
  let rotaryDim = ctx.int('rotary_embedding_dim', 0);
  let numHeads = ctx.int('num_heads', 0);
  // onnxruntime refuses a partial rotary dim without num_heads, whatever the input's rank
  if (rotaryDim && !numHeads && ctx.node.domain === 'com.microsoft') throw badInput(ctx, 'num_heads is required with rotary_embedding_dim');
  let headSize: number;
  if (x.rank === 4) {
    headSize = x.shape[3]!;
    numHeads = x.shape[1]!;
  } else {
    if (!numHeads) {
      if (rotaryDim) throw badInput(ctx, 'num_heads is required with rotary_embedding_dim on a 3-D input');
      numHeads = x.shape[2]! / (2 * half);
      if (!Number.isInteger(numHeads)) throw badInput(ctx, `hidden size ${x.shape[2]} is not a multiple of the rotary dim ${2 * half}; set num_heads`);
    }
    headSize = x.shape[2]! / numHeads;
    if (!Number.isInteger(headSize)) throw badInput(ctx, `hidden size ${x.shape[2]} is not a multiple of num_heads ${numHeads}`);
  }
  if (!rotaryDim) rotaryDim = headSize;
  if (rotaryDim !== 2 * half || rotaryDim > headSize) throw badInput(ctx, `rotary dim ${rotaryDim} must be twice the cos/sin cache width ${half} and at most the head size ${headSize}`);

  // cos / sin as [B, S, dim/2]
  let cos: Tensor;
  let sin: Tensor;
  if (!pos) {
    if (cosCache.rank !== 3) throw badInput(ctx, `without position_ids cos_cache must be [batch, sequence, dim/2]; it is [${cosCache.shape.join(', ')}]`);
    [cos, sin] = [cosCache, sinCache];
  } else {
    let ids = pos;
    if (pos.rank < 2 && pos.size === 1) {
      const offset = (await hostInts(pos))[0]!;
      ids = T.tensor(Array.from({ length: b * s }, (_, i) => offset + (i % s)), [b, s], 'int64', { backend: x.backend });
    } else if (pos.rank !== 2 || pos.shape[0] !== b || pos.shape[1] !== s) {
      throw badInput(ctx, `position_ids must be [${b}, ${s}] or a one-element offset; they are [${pos.shape.join(', ')}]`);
    }
    cos = T.gather(cosCache, ids, 0);
    sin = T.gather(sinCache, ids, 0);
  }
  if (x.rank === 4) {
    // [B, N, S, H] with cos [B, 1, S, dim/2]
    return rotate(x, T.unsqueeze(cos, [1]), T.unsqueeze(sin, [1]), rotaryDim, ctx.int('interleaved', 0) === 1);
  }
  const heads = T.reshape(x, [b, s, numHeads, headSize]);
  const y = rotate(heads, T.unsqueeze(cos, [2]), T.unsqueeze(sin, [2]), rotaryDim, ctx.int('interleaved', 0) === 1);
  return T.reshape(y, x.shape);
}

registerOp('RotaryEmbedding', async ([x, pos, cos, sin], ctx) => [await rotaryEmbedding(x!, pos, cos!, sin!, ctx)], 'com.microsoft');
registerOp('RotaryEmbedding', async ([x, cos, sin, pos], ctx) => [await rotaryEmbedding(x!, pos, cos!, sin!, ctx)]);
