import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';
import { attend, badInput, hostTensor, mergeHeads, ortMask, splitHeads } from './attention_util.js';

/**
 * com.microsoft Attention (the fused self-attention of BERT and GPT-2 exports from
 * onnxruntime's transformers optimizer), as its CPU kernel computes it.
 *
 * input [B, S, Din] @ weights [Din, Dq + Dk + Dv] (+ bias) gives q, k, v (widths from
 * qkv_hidden_sizes, else thirds), split into num_heads heads. past [2, B, N, P, H] precedes the
 * new keys and values; present [2, B, N, P + S, H] is the concatenation. mask_index is a raw
 * 0/1 mask [B, T] or [B, S, T], or end positions [B] (with start positions, [2B]): masked keys add
 * mask_filter_value (default −10000). unidirectional masks keys after each query's position;
 * attention_bias [B or 1, N or 1, S, T] is added; scores are scaled by `scale` (default 1/√H).
 */
registerOp(
  'Attention',
  async (inputs, ctx) => {
    const [input, weights, bias, maskIndex, past, attentionBias] = inputs;
    if (inputs[6] || ctx.int('past_present_share_buffer', 0)) unsupported(ctx, 'a past buffer shared with present (past_sequence_length)');
    if (ctx.int('do_rotary', 0)) unsupported(ctx, 'do_rotary');
    const n = ctx.int('num_heads', 0);
    if (n <= 0) throw badInput(ctx, 'num_heads must be positive');
    if (input!.rank !== 3) throw badInput(ctx, `input must be [batch, sequence, hidden]; it is [${input!.shape.join(', ')}]`);
    const width = weights!.shape[1]!;
    const sizes = ctx.ints('qkv_hidden_sizes') ?? [width / 3, width / 3, width / 3];
    if (sizes.length !== 3 || sizes[0] !== sizes[1] || sizes[0]! + sizes[1]! + sizes[2]! !== width || sizes.some((x) => x % n)) {
      throw badInput(ctx, `qkv_hidden_sizes [${sizes.join(', ')}] must be q = k widths and a v width, multiples of num_heads ${n}, summing to the weights' ${width} columns`);
    }
    let qkv = T.matmul(input!, weights!);
    if (bias) qkv = T.add(qkv, bias);
    const [qIn, kIn, vIn] = T.split(qkv, sizes, 2) as [Tensor, Tensor, Tensor];
    let [q, k, v] = [splitHeads(qIn, n), splitHeads(kIn, n), splitHeads(vIn, n)];
    const p = past ? past.shape[3]! : 0;
    if (past) {
      const pastOf = (i: number): Tensor => T.squeeze(T.slice(past, [i], [i + 1], [0]), [0]);
      k = T.concat([pastOf(0), k], 2);
      v = T.concat([pastOf(1), v], 2);
    }
    const [b, , s, h] = q.shape as [number, number, number, number];
    const t = k.shape[2]!;
    const maskIdx = maskIndex ? { values: await hostInts(maskIndex), dims: [...maskIndex.shape] } : undefined;
    if (maskIdx && maskIdx.dims.length === 4) unsupported(ctx, 'a 4-D (Megatron) mask_index');
    const mask = ortMask(ctx, b, s, t, p, maskIdx, ctx.int('unidirectional', 0) === 1, ctx.float('mask_filter_value', -10000));
    let scoresBias = mask ? hostTensor(mask, [b, 1, s, t], q) : undefined;
    if (attentionBias) scoresBias = scoresBias ? T.add(scoresBias, attentionBias) : attentionBias;
    const out = attend(q, k, v, { scale: ctx.float('scale', 0) || 1 / Math.sqrt(h), bias: scoresBias });
    // present only holds keys and values of one head size
    const present = k.shape[3] === v.shape[3] ? T.concat([T.unsqueeze(k, [0]), T.unsqueeze(v, [0])], 0) : undefined;
    return [mergeHeads(out), present];
  },
  'com.microsoft',
);
