import * as T from '@whittle/tensor';
import type { Tensor } from '@whittle/tensor';
import { registerOp } from '../registry.js';
import { hostInts, unsupported } from './util.js';
import { FLOAT32_LOWEST, badInput, hostTensor, repeatKv } from './attention_util.js';

/**
 * ONNX Attention (opsets 23 and 24). Q [B, qN, S, H] or [B, S, qN·H] (with q_num_heads); K, V
 * [B, kvN, L, H] or [B, L, kvN·H] (with kv_num_heads), each kv head serving qN / kvN query heads.
 * past_key / past_value [B, kvN, P, H] precede K and V; present_key / present_value are the
 * concatenation. Scores q·kᵀ·scale (default 1/√H), soft-capped by softcap, plus attn_mask (boolean:
 * false masks out; float: added) broadcast to [B, qN, S, P + L] (keys past a narrower mask are
 * masked out), masked causally when is_causal
 * (query s sees keys up to P + s) and, from opset 24, after each row's nonpad_kv_seqlen keys;
 * softmax, times V. Y keeps Q's layout. qk_matmul_output is the
 * scores at stage qk_matmul_output_mode: 0 q·kᵀ·scale, 1 soft-capped, 2 masked, 3 the softmax —
 * onnxruntime's order (it soft-caps before masking, so its modes 1 and 2 are in that order too).
 */
registerOp('Attention', async (inputs, ctx) => {
  const [qIn, kIn, vIn, attnMask, pastKey, pastValue, nonpadKvSeqlen] = inputs;
  const threeD = qIn!.rank === 3;
  const toHeads = (x: Tensor, heads: number, what: string): Tensor => {
    if (x.rank === 4) return x;
    if (!heads) throw badInput(ctx, `a 3-D ${what} needs the ${what === 'Q' ? 'q' : 'kv'}_num_heads attribute`);
    const [b, s, d] = x.shape as [number, number, number];
    return T.transpose(T.reshape(x, [b, s, heads, d / heads]), [0, 2, 1, 3]);
  };
  const q = toHeads(qIn!, ctx.int('q_num_heads', 0), 'Q');
  let k = toHeads(kIn!, ctx.int('kv_num_heads', 0), 'K');
  let v = toHeads(vIn!, ctx.int('kv_num_heads', 0), 'V');
  const p = pastKey ? pastKey.shape[2]! : 0;
  if (pastKey && pastValue) {
    k = T.concat([pastKey, k], 2);
    v = T.concat([pastValue, v], 2);
  }
  const [b, qN, s, h] = q.shape as [number, number, number, number];
  const kvN = k.shape[1]!;
  if (qN % kvN) throw badInput(ctx, `${qN} query heads do not group over ${kvN} key/value heads`);
  const t = k.shape[2]!;

  let scores = T.mulScalar(T.matmul(q, T.transpose(repeatKv(k, qN / kvN), [0, 1, 3, 2])), ctx.float('scale', 0) || 1 / Math.sqrt(h));
  const raw = scores;
  // onnxruntime soft-caps before the masks (a masked score stays masked), which add the lowest float32
  const softcap = ctx.float('softcap', 0);
  if (softcap > 0) scores = T.mulScalar(T.tanh(T.mulScalar(scores, 1 / softcap)), softcap);
  const capped = scores;
  if (attnMask) {
    let m = attnMask;
    const width = m.shape[m.rank - 1]!;
    // opset 24: a mask narrower than the keys masks out the keys past its width (ONNX's node tests;
    // onnxruntime 1.30 refuses such a mask)
    if (width < t) {
      const pad = [...m.shape.slice(0, -1), t - width];
      m = T.concat([m, m.dtype === 'bool' ? T.cast(T.zeros(pad, 'float32', { backend: m.backend }), 'bool') : T.full(pad, FLOAT32_LOWEST, m.dtype, { backend: m.backend })], m.rank - 1);
    }
    scores = m.dtype === 'bool' ? T.where(m, scores, T.full([], FLOAT32_LOWEST, scores.dtype, { backend: scores.backend })) : T.add(scores, m);
  }
  if (ctx.int('is_causal', 0)) {
    const m = new Float32Array(s * t);
    for (let i = 0; i < s; i++) m.fill(FLOAT32_LOWEST, i * t + p + i + 1, (i + 1) * t);
    scores = T.add(scores, hostTensor(m, [s, t], scores));
  }
  if (nonpadKvSeqlen) {
    // opset 24: keys at or after each row's count of real (non-padding) keys are masked
    const lengths = await hostInts(nonpadKvSeqlen);
    if (lengths.length !== b) throw badInput(ctx, `nonpad_kv_seqlen has ${lengths.length} values for batch ${b}`);
    const m = new Float32Array(b * t);
    lengths.forEach((l, i) => m.fill(FLOAT32_LOWEST, i * t + Math.max(0, Math.min(l, t)), (i + 1) * t));
    scores = T.add(scores, hostTensor(m, [b, 1, 1, t], scores));
  }
  const masked = scores;
  const probs = T.softmax(scores, -1);
  let y = T.matmul(probs, repeatKv(v, qN / kvN));
  if (threeD) y = T.reshape(T.transpose(y, [0, 2, 1, 3]), [b, s, qN * y.shape[3]!]);
  const qk = [raw, capped, masked, probs][ctx.int('qk_matmul_output_mode', 0)];
  if (!qk) unsupported(ctx, `qk_matmul_output_mode ${ctx.int('qk_matmul_output_mode', 0)}`);
  return [y, k, v, qk];
});

