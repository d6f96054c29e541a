import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';
import { FLOAT32_LOWEST, attend, badInput, hostTensor, mergeHeads, repeatKv, rotate, splitHeads } from './attention_util.js';

/**
 * com.microsoft GroupQueryAttention, as onnxruntime's CPU kernel computes it.
 *
 * query [B, S, N·H] (or packed [B, S, (N + 2·kvN)·H] when key and value are absent), key and
 * value [B, S, kvN·H], past_key / past_value [B, kvN, P, H], seqlens_k [B] (each row's total
 * length − 1), total_sequence_length (scalar), optional cos_cache / sin_cache [max, dim / 2]
 * for do_rotary and position_ids [B, S].
 *
 * A call whose sequence length equals total_sequence_length is a first prompt: every row starts
 * at position 0 (right padding). Otherwise row b continues after its past of
 * seqlens_k[b] + 1 − S tokens. present_key / present_value [B, kvN, max(total, P), H] hold the
 * row's past followed by the new keys, zeros after. Each query attends causally (within
 * the last local_window_size keys when set) to its row's present keys; scores are scaled (default
 * 1/√H) and soft-capped (softcap) before attention_bias [B or 1, N or 1, S, T] is added and the
 * softmax, whose denominator also counts exp(head_sink[n]) (or exp(0) with smooth_softmax).
 * kvN heads serve N / kvN query heads each.
 */
registerOp(
  'GroupQueryAttention',
  async (inputs, ctx) => {
    const [query, key, value, pastKey, pastValue, seqlensK, totalLen, cosCache, sinCache, positionIds, attentionBias, headSink] = inputs;
    if (ctx.int('qk_output', 0)) unsupported(ctx, 'qk_output');
    const n = ctx.int('num_heads', 0);
    const kvN = ctx.int('kv_num_heads', 0);
    if (n <= 0 || kvN <= 0 || n % kvN) throw badInput(ctx, `num_heads ${n} must be a positive multiple of kv_num_heads ${kvN}`);
    if (query!.rank !== 3) throw badInput(ctx, `query must be [batch, sequence, hidden]; it is [${query!.shape.join(', ')}]`);
    const [b, s, d] = query!.shape as [number, number, number];

    let q: Tensor, k: Tensor, v: Tensor, h: number;
    if (!key) {
      h = d / (n + 2 * kvN);
      if (!Number.isInteger(h)) throw badInput(ctx, `packed query width ${d} is not (num_heads + 2·kv_num_heads)·head_size`);
      const heads = T.transpose(T.reshape(query!, [b, s, n + 2 * kvN, h]), [0, 2, 1, 3]);
      q = T.slice(heads, [0], [n], [1]);
      k = T.slice(heads, [n], [n + kvN], [1]);
      v = T.slice(heads, [n + kvN], [n + 2 * kvN], [1]);
    } else {
      if (!value) throw badInput(ctx, 'key is given without value');
      h = d / n;
      if (!Number.isInteger(h) || key.shape[2] !== kvN * h) throw badInput(ctx, `query width ${d} and key width ${key.shape[2]} do not split into ${n} and ${kvN} heads of one size`);
      q = splitHeads(query!, n);
      k = splitHeads(key, kvN);
      v = splitHeads(value, kvN);
    }

    if (!seqlensK || !totalLen) throw badInput(ctx, 'seqlens_k and total_sequence_length are required');
    const seqlens = await hostInts(seqlensK);
    if (seqlens.length !== b) throw badInput(ctx, `seqlens_k has ${seqlens.length} values for batch ${b}`);
    const total = (await hostInts(totalLen))[0]!;
    const pastLen = pastKey ? pastKey.shape[2]! : 0;
    const presentLen = Math.max(total, pastLen);
    const firstPrompt = s === total;
    const past = seqlens.map((l) => (firstPrompt ? 0 : l + 1 - s));
    past.forEach((p, i) => {
      if (p < 0 || p + s > presentLen || p > pastLen) throw badInput(ctx, `seqlens_k[${i}] = ${seqlens[i]} does not fit a sequence of ${s} after a past of ${pastLen} in ${presentLen} positions`);
    });

    if (ctx.int('do_rotary', 0)) {
      if (!cosCache || !sinCache) throw badInput(ctx, 'do_rotary needs cos_cache and sin_cache');
      const ids = positionIds ?? T.tensor(Array.from({ length: b * s }, (_, i) => past[Math.floor(i / s)]! + (i % s)), [b, s], 'int64', { backend: q.backend });
      const cos = T.unsqueeze(T.gather(cosCache, ids, 0), [1]);
      const sin = T.unsqueeze(T.gather(sinCache, ids, 0), [1]);
      const rotaryDim = 2 * cosCache.shape[1]!;
      const interleaved = ctx.int('rotary_interleaved', 0) === 1;
      q = rotate(q, cos, sin, rotaryDim, interleaved);
      k = rotate(k, cos, sin, rotaryDim, interleaved);
    }

    const presentOf = (pastT: Tensor | undefined, cur: Tensor): Tensor => {
      const rows = past.map((p, i) => {
        const parts: Tensor[] = [];
        if (p > 0) parts.push(T.slice(pastT!, [i, 0], [i + 1, p], [0, 2]));
        parts.push(T.slice(cur, [i], [i + 1], [0]));
        const tail = presentLen - p - s;
        if (tail > 0) parts.push(T.zeros([1, kvN, tail, h], cur.dtype, { backend: cur.backend }));
        return parts.length === 1 ? parts[0]! : T.concat(parts, 2);
      });
      return rows.length === 1 ? rows[0]! : T.concat(rows, 0);
    };
    const presentKey = presentOf(pastKey, k);
    const presentValue = presentOf(pastValue, v);

    // causal (and local-window) mask over each row's present keys
    const window = ctx.int('local_window_size', -1);
    const mask = new Float32Array(b * s * presentLen).fill(FLOAT32_LOWEST);
    for (let i = 0; i < b; i++) {
      for (let t = 0; t < s; t++) {
        const causal = Math.min(past[i]! + t + 1, presentLen);
        const start = window > 0 && causal > window ? causal - window : 0;
        mask.fill(0, (i * s + t) * presentLen + start, (i * s + t) * presentLen + causal);
      }
    }
    const scale = ctx.float('scale', 0) || 1 / Math.sqrt(h);
    let bias = hostTensor(mask, [b, 1, s, presentLen], q);
    if (attentionBias) {
      const width = attentionBias.shape[3]!;
      if (attentionBias.rank !== 4 || width > presentLen) throw badInput(ctx, `attention_bias [${attentionBias.shape.join(', ')}] is not [batch or 1, heads or 1, ${s}, ≤ ${presentLen}]`);
      const padded = width < presentLen ? T.concat([attentionBias, T.zeros([...attentionBias.shape.slice(0, 3), presentLen - width], attentionBias.dtype, { backend: attentionBias.backend })], 3) : attentionBias;
      bias = T.add(bias, padded);
    }
    // a sink logit per head (head_sink) or 0 (smooth_softmax) joins each softmax's denominator
    const sink = headSink ? T.reshape(headSink, [1, n, 1, 1]) : ctx.int('smooth_softmax', 0) ? T.zeros([1, n, 1, 1], q.dtype, { backend: q.backend }) : undefined;
    const out = attend(q, repeatKv(presentKey, n / kvN), repeatKv(presentValue, n / kvN), { scale, softcap: ctx.float('softcap', 0), bias, sink });
    return [mergeHeads(out), presentKey, presentValue];
  },
  'com.microsoft',
);
