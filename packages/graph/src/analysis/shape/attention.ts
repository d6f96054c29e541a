/**
 * Shape rules of the attention-family ops onnxruntime-genai's model builder and onnxruntime's
 * transformers optimizer write (com.microsoft GroupQueryAttention, MultiHeadAttention, Attention,
 * RotaryEmbedding, SkipSimplifiedLayerNormalization), of ONNX's opset-23 Attention and
 * RotaryEmbedding and of ai.onnx.preview FlexAttention, so shapes — and the FLOPs estimate
 * built on them — flow through such models.
 */
import { getInt, getInts } from '../../ir/attributes.js';
import type { Dim } from '../../ir/types.js';
import { type OutInfo, type RuleContext, registerShapeRule } from './rule.js';

const MS = 'com.microsoft';

const num = (d: Dim | undefined): d is number => typeof d === 'number';
/** a + b when both are known. */
const plus = (a: Dim | undefined, b: Dim | undefined): Dim => (num(a) && num(b) ? a + b : null);
/** a / b when a is known and b divides it. */
const over = (a: Dim | undefined, b: number): Dim => (num(a) && b > 0 && a % b === 0 ? a / b : null);
const times = (a: Dim | undefined, b: Dim | undefined): Dim => (num(a) && num(b) ? a * b : null);

const sameAsInput = (c: RuleContext): OutInfo[] => [{ elem: c.elem(0), shape: c.shape(0) }];
registerShapeRule('RotaryEmbedding', sameAsInput, MS);
registerShapeRule('RotaryEmbedding', sameAsInput);

/** SkipSimplifiedLayerNormalization: output and input_skip_bias_sum as input; mean and inv_std_var [..., 1]. */
registerShapeRule(
  'SkipSimplifiedLayerNormalization',
  (c) => {
    const x = c.shape(0);
    const stats = { elem: 'float32' as const, shape: x?.map((d, i) => (i === x.length - 1 ? 1 : d)) };
    return [{ elem: c.elem(0), shape: x }, stats, stats, { elem: c.elem(0), shape: x }];
  },
  MS,
);

/**
 * GroupQueryAttention: output [B, S, N·H]; present_key / present_value [B, kvN, max(total, P), H]
 * (a symbolic total_sequence_length, e.g. the attention mask's width, stands for the max).
 */
registerShapeRule(
  'GroupQueryAttention',
  (c) => {
    const q = c.shape(0);
    const n = getInt(c.node, 'num_heads', 0);
    const kvN = getInt(c.node, 'kv_num_heads', 0);
    if (!q || q.length !== 3) return [{ elem: c.elem(0) }, { elem: c.elem(0) }, { elem: c.elem(0) }];
    const packed = !c.has(1);
    const h = packed ? over(q[2], n + 2 * kvN) : over(q[2], n);
    const total = c.data(6)?.[0];
    const past = c.has(3) ? c.shape(3)?.[2] : 0;
    // max(total, past); a symbolic total (the attention mask's width) is taken to cover the past, as the model builder declares it
    const presentLen: Dim = num(total) && num(past) ? Math.max(total, past) : total !== undefined && total !== null && !num(total) ? total : null;
    const present = { elem: c.elem(0), shape: [q[0]!, kvN, presentLen, h] };
    return [{ elem: c.elem(0), shape: [q[0]!, q[1]!, packed ? times(h, n) : q[2]!] }, present, { ...present }];
  },
  MS,
);

/** MultiHeadAttention: output [B, S, N·Hv]; present_key / present_value [B, N, P + L, H or Hv]. */
registerShapeRule(
  'MultiHeadAttention',
  (c) => {
    const q = c.shape(0);
    const k = c.shape(1);
    const v = c.shape(2);
    const n = getInt(c.node, 'num_heads', 0);
    if (!q || q.length !== 3 || !k || !v) return [{ elem: c.elem(0) }, { elem: c.elem(0) }, { elem: c.elem(0) }];
    const inHeads = k.length === 4;
    const hv = inHeads ? v[3] : over(v[2], n);
    const h = inHeads ? k[3] : over(k[2], n);
    const l = inHeads ? k[2] : k[1];
    const t = c.has(6) ? plus(c.shape(6)?.[2], l) : l;
    return [
      { elem: c.elem(0), shape: [q[0]!, q[1]!, times(hv, n)] },
      { elem: c.elem(0), shape: [q[0]!, n, t ?? null, h ?? null] },
      { elem: c.elem(0), shape: [q[0]!, n, t ?? null, hv ?? null] },
    ];
  },
  MS,
);

/** com.microsoft Attention: output [B, S, Dv]; present [2, B, N, P + S, H]. */
registerShapeRule(
  'Attention',
  (c) => {
    const x = c.shape(0);
    const w = c.shape(1);
    const n = getInt(c.node, 'num_heads', 0);
    const sizes = getInts(c.node, 'qkv_hidden_sizes');
    const third = over(w?.[1], 3);
    const [dq, dv] = sizes?.length === 3 ? [sizes[0]!, sizes[2]!] : [third, third];
    if (!x || x.length !== 3) return [{ elem: c.elem(0) }, { elem: c.elem(0) }];
    const past = c.has(4) ? c.shape(4)?.[3] : 0;
    return [
      { elem: c.elem(0), shape: [x[0]!, x[1]!, dv] },
      { elem: c.elem(0), shape: [2, x[0]!, n, plus(past, x[1]), over(dq, n)] },
    ];
  },
  MS,
);

/** ONNX Attention (opset 23): Y in Q's layout; present_key / present_value [B, kvN, P + L, H]; qk [B, qN, S, P + L]. */
registerShapeRule('Attention', (c) => {
  const q = c.shape(0);
  const k = c.shape(1);
  const v = c.shape(2);
  if (!q || !k || !v) return [{ elem: c.elem(0) }, { elem: c.elem(0) }, { elem: c.elem(0) }, { elem: c.elem(0) }];
  const qN: Dim = q.length === 4 ? q[1]! : getInt(c.node, 'q_num_heads', 0) || null;
  const kvN: Dim = k.length === 4 ? k[1]! : getInt(c.node, 'kv_num_heads', 0) || null;
  const heads = (s: readonly Dim[], count: Dim): [Dim, Dim] => (s.length === 4 ? [s[2]!, s[3]!] : [s[1]!, num(count) ? over(s[2], count) : null]);
  const [, h] = heads(k, kvN);
  const [l, hv] = heads(v, kvN);
  const t = c.has(4) ? plus(c.shape(4)?.[2], l) : l;
  const s = q.length === 4 ? q[2]! : q[1]!;
  const y = q.length === 4 ? [q[0]!, qN, s, hv] : [q[0]!, s, times(qN, hv)];
  return [
    { elem: c.elem(0), shape: y },
    { elem: c.elem(0), shape: [q[0]!, kvN, t, h] },
    { elem: c.elem(0), shape: [q[0]!, kvN, t, hv] },
    { elem: c.elem(0), shape: [q[0]!, qN, s, t] },
  ];
});

// ai.onnx.preview FlexAttention: Y [B, Hq, L, Ev] from Q [B, Hq, L, E] and V [B, Hkv, S, Ev]
registerShapeRule('FlexAttention', (c) => {
  const [q, v] = [c.shape(0), c.shape(2)];
  return [{ elem: c.elem(0), shape: q ? [q[0]!, q[1]!, q[2]!, v?.[3] ?? null] : undefined }];
}, 'ai.onnx.preview');
