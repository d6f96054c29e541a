import * as T from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';
import { attend, badInput, hostTensor, mergeHeads, ortMask, splitHeads } from './attention_util.js';

/**
 * com.microsoft MultiHeadAttention, as onnxruntime's CPU kernel computes it.
 *
 * query [B, S, N·H] with key [B, L, N·H] and value [B, L, N·Hv] (plus bias [N·H + N·H + N·Hv]
 * added to each), or with key / value already in heads [B, N, L, H] (cross attention). The packed
 * QKV and KV forms are not implemented, as in onnxruntime's CPU kernel. past_key / past_value
 * [B, N, P, H] precede the new keys; present_key / present_value are the concatenation.
 * key_padding_mask ([B, T] 0/1 or [B] lengths) adds mask_filter_value (default −10000) to the
 * scores of the keys it masks; unidirectional masks keys after each query's position;
 * attention_bias [B or 1, N or 1, S, T] is added; scores are scaled by `scale` (default 1/√H).
 */
registerOp(
  'MultiHeadAttention',
  async (inputs, ctx) => {
    const [query, key, value, bias, keyPaddingMask, attentionBias, pastKey, pastValue] = inputs;
    if (inputs[8] || inputs[9]) unsupported(ctx, 'past_sequence_length / cache_indirection (decoder masked attention)');
    const n = ctx.int('num_heads', 0);
    if (n <= 0) throw badInput(ctx, 'num_heads must be positive');
    // onnxruntime's CPU kernel implements neither packed form ([B, S, N, 3, H] QKV, [B, L, N, 2, H] KV)
    if (query!.rank !== 3 || !key || key.rank === 5) unsupported(ctx, `query [${query!.shape.join(', ')}]${key ? ` with key [${key.shape.join(', ')}]` : ' without key'} (packed QKV / KV)`);
    if (!value || value.rank !== key.rank) throw badInput(ctx, `key [${key.shape.join(', ')}] needs a value of the same rank`);
    const d = query!.shape[2]!;
    let [qIn, kIn, vIn] = [query!, key, value];
    if (bias) {
      if (key.rank === 4) throw badInput(ctx, 'bias does not apply to a key and value already in heads [batch, heads, length, head]');
      qIn = T.add(qIn, T.slice(bias, [0], [d]));
      kIn = T.add(kIn, T.slice(bias, [d], [2 * d]));
      vIn = T.add(vIn, T.slice(bias, [2 * d], [2 * d + value.shape[2]!]));
    }
    const q = splitHeads(qIn, n);
    let k = key.rank === 4 ? kIn : splitHeads(kIn, n);
    let v = key.rank === 4 ? vIn : splitHeads(vIn, n);
    if (pastKey && pastValue) {
      k = T.concat([pastKey, k], 2);
      v = T.concat([pastValue, v], 2);
    }
    const [b, , s, h] = q.shape as [number, number, number, number];
    const t = k.shape[2]!;
    const p = pastKey ? pastKey.shape[2]! : 0;
    const maskIdx = keyPaddingMask ? { values: await hostInts(keyPaddingMask), dims: [...keyPaddingMask.shape] } : undefined;
    const mask = ortMask(ctx, b, s, t, p, maskIdx, ctx.int('unidirectional', 0) === 1, ctx.float('mask_filter_value', -10000));
    let scoresBias = mask ? hostTensor(mask, [b, 1, s, t], q) : undefined;
    if (attentionBias) scoresBias = scoresBias ? T.add(scoresBias, attentionBias) : attentionBias;
    const out = attend(q, k, v, { scale: ctx.float('scale', 0) || 1 / Math.sqrt(h), bias: scoresBias });
    return [mergeHeads(out), k, v];
  },
  'com.microsoft',
);
