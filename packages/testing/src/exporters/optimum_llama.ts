import { type Model, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor } from '@whittle/tensor';
import { type DecoderSizeOptions, f32, i64, normalTensor } from './common.js';

/**
 * Options of {@link optimumLlamaDecoder}: 2 layers, hidden 64, 4 query over 2 key/value heads, MLP
 * 2.75·hidden (rounded to 8), vocabulary 256, own LM head unless given.
 */
export interface OptimumLlamaDecoderOptions extends DecoderSizeOptions {
  /** Default opset import (default 17). */
  opset?: number;
  /** Biases on the q/k/v projections (Qwen2). */
  qkvBias?: boolean;
  /**
   * A residual channel with a huge value on every third token from the embedding on, as trained
   * LLMs carry ("massive activations", hundreds to thousands): the RMSNorm's x² leaves float16's
   * range.
   */
  massiveActivation?: { channel: number; value: number };
}

/** The RMSNorm epsilon Llama configs use. */
const EPS = 1e-6;
/** The rotary base (rope_theta) of Llama 2. */
const ROPE_THETA = 10000;

/**
 * What `optimum-cli export onnx --task text-generation-with-past` writes as `model.onnx` for a
 * Llama / Qwen2 / SmolLM-style decoder (torch.onnx, opset 17; one graph, the past may be empty):
 * inputs `input_ids` [B, S], `attention_mask` [B, P + S], `position_ids` [B, S] and
 * `past_key_values.{i}.key/value` [B, kvHeads, P, headDim]; outputs `logits` [B, S, vocab] and
 * `present.{i}.key/value`. Inside, as the exporter writes it: RMSNorm as Cast → Pow → ReduceMean →
 * Add(eps) → Sqrt → Reciprocal → Mul → Cast → Mul(weight); rotary embedding computed in the graph
 * (inv_freq [1, headDim/2, 1] expanded to the batch, MatMul with the float positions, Concat of the
 * angles, Cos / Sin) and applied with rotate_half (Slice, Neg, Concat); grouped key/value heads
 * repeated with Unsqueeze → Expand → Reshape; an additive causal + padding mask with float32's
 * lowest value where a key is hidden; SiLU-gated MLP (Sigmoid · Mul); projections as MatMul with
 * [K, N] weights. Weights are seeded normal; names follow torch (`model.layers.0.self_attn.q_proj`).
 */
export function optimumLlamaDecoder(options: OptimumLlamaDecoderOptions): Model {
  const { seed, opset = 17, layers = 2, hidden: d = 64, heads = 4, kvHeads = 2, vocab = 256, qkvBias = false, tiedEmbeddings = false } = options;
  const intermediate = options.intermediate ?? Math.round((2.75 * d) / 8) * 8;
  if (d % heads !== 0) throw new RangeError(`optimumLlamaDecoder: hidden ${d} is not a multiple of heads ${heads}`);
  if (heads % kvHeads !== 0) throw new RangeError(`optimumLlamaDecoder: kvHeads ${kvHeads} does not divide heads ${heads}`);
  const dh = d / heads;
  if (dh % 2 !== 0) throw new RangeError(`optimumLlamaDecoder: head size ${dh} must be even for the rotary embedding`);
  const rng = new Rng(seed);
  const b = new GraphBuilder('main_graph');
  const normal = (shape: number[], std: number, mean = 0): Tensor => normalTensor(rng, shape, std, mean);
  let k = 0;
  const node = (op: string, inputs: string[], attrs: Record<string, number | number[] | Tensor> = {}, label = op, floats: string[] = []): string =>
    b.node(op, inputs, attrs, { name: `/${label}`, outputNames: [`/${label}_output_${k++}`], floatAttrs: floats });
  const constant = (t: Tensor, label: string): string => node('Constant', [], { value: t }, label);
  const scalarF = (v: number, label: string): string => constant(f32([v], []), label);
  const vecI = (v: number[], label: string): string => constant(i64(v, [v.length]), label);

  b.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  b.input('attention_mask', 'int64', ['batch_size', 'past_sequence_length + sequence_length']);
  b.input('position_ids', 'int64', ['batch_size', 'sequence_length']);
  for (let i = 0; i < layers; i++) {
    b.input(`past_key_values.${i}.key`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', dh]);
    b.input(`past_key_values.${i}.value`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', dh]);
  }

  const table = new Float32Array(vocab * d);
  for (let j = 0; j < table.length; j++) table[j] = rng.normal() * 0.1;
  if (options.massiveActivation) {
    const { channel, value } = options.massiveActivation;
    // on every third token, as LLMs carry them on a few tokens (the first, delimiters)
    for (let v = 0; v < vocab; v += 3) table[v * d + channel] = value;
  }
  const embed = b.initializer('model.embed_tokens.weight', f32(table, [vocab, d]));
  const rmsWeight = (name: string): string => b.initializer(name, normal([d], 0.05, 1));
  const linear = (x: string, name: string, kIn: number, nOut: number, bias = false): string => {
    // torch stores an exported Linear's weight transposed, as onnx::MatMul_<n>
    const w = b.initializer(`onnx::MatMul_${1000 + k}`, normal([kIn, nOut], 0.6 / Math.sqrt(kIn)));
    const y = node('MatMul', [x, w], {}, `${name}/MatMul`);
    return bias ? node('Add', [b.initializer(`${name.replace(/\//g, '.')}.bias`, normal([nOut], 0.02)), y], {}, `${name}/Add`) : y;
  };
  const rmsNorm = (x: string, weight: string, scope: string): string => {
    const xf = node('Cast', [x], { to: 1 }, `${scope}/Cast`);
    const variance = node('ReduceMean', [node('Pow', [xf, scalarF(2, `${scope}/Constant`)], {}, `${scope}/Pow`)], { axes: [-1], keepdims: 1 }, `${scope}/ReduceMean`);
    const inv = node('Reciprocal', [node('Sqrt', [node('Add', [variance, scalarF(EPS, `${scope}/Constant_1`)], {}, `${scope}/Add`)], {}, `${scope}/Sqrt`)], {}, `${scope}/Reciprocal`);
    const normed = node('Cast', [node('Mul', [xf, inv], {}, `${scope}/Mul`)], { to: 1 }, `${scope}/Cast_1`);
    return node('Mul', [weight, normed], {}, `${scope}/Mul_1`);
  };

  // sequence lengths: S from input_ids, P from the first past key, T = P + S
  const s = node('Gather', [node('Shape', ['input_ids'], {}, 'model/Shape'), constant(i64([1], []), 'model/Constant')], { axis: 0 }, 'model/Gather');
  const p = node('Gather', [node('Shape', ['past_key_values.0.key'], {}, 'model/Shape_1'), constant(i64([2], []), 'model/Constant_1')], { axis: 0 }, 'model/Gather_1');
  const t = node('Add', [p, s], {}, 'model/Add');
  const one = constant(i64([1], []), 'model/Constant_2');
  const queries = node('Range', [p, t, one], {}, 'model/Range'); // [S]: absolute positions of the queries
  const keys = node('Range', [constant(i64([0], []), 'model/Constant_3'), t, one], {}, 'model/Range_1'); // [T]
  const causal = node('LessOrEqual', [keys, node('Unsqueeze', [queries, vecI([1], 'model/Constant_4')], {}, 'model/Unsqueeze')], {}, 'model/LessOrEqual'); // [S, T]
  const pad = node('Unsqueeze', [node('Cast', ['attention_mask'], { to: 9 }, 'model/Cast'), vecI([1, 2], 'model/Constant_5')], {}, 'model/Unsqueeze_1'); // [B, 1, 1, T]
  const allowed = node('And', [causal, pad], {}, 'model/And'); // [B, 1, S, T]
  // additive mask: 0 where a key is visible, float32's lowest value where it is not
  const mask = node('Where', [allowed, scalarF(0, 'model/Constant_6'), scalarF(-3.4028234663852886e38, 'model/Constant_7')], {}, 'model/Where');

  // rotary embedding, computed once: angles [B, S, dh] from inv_freq · positions
  const invFreq = new Float32Array(dh / 2);
  for (let i = 0; i < dh / 2; i++) invFreq[i] = 1 / ROPE_THETA ** ((2 * i) / dh);
  const batch = node('Gather', [node('Shape', ['position_ids'], {}, 'model/rotary_emb/Shape'), constant(i64([0], []), 'model/rotary_emb/Constant')], { axis: 0 }, 'model/rotary_emb/Gather');
  // expand(B, -1, 1): the exporter writes the -1 as 1, which Expand broadcasts
  const expandTo = node('Concat', [node('Unsqueeze', [batch, vecI([0], 'model/rotary_emb/Constant_1')], {}, 'model/rotary_emb/Unsqueeze'), vecI([1, 1], 'model/rotary_emb/Constant_2')], { axis: 0 }, 'model/rotary_emb/Concat');
  const invExpanded = node('Expand', [constant(f32(invFreq, [1, dh / 2, 1]), 'model/rotary_emb/Constant_3'), expandTo], {}, 'model/rotary_emb/Expand');
  const posF = node('Cast', [node('Unsqueeze', ['position_ids', vecI([1], 'model/rotary_emb/Constant_4')], {}, 'model/rotary_emb/Unsqueeze_1')], { to: 1 }, 'model/rotary_emb/Cast');
  const freqs = node('Transpose', [node('MatMul', [invExpanded, posF], {}, 'model/rotary_emb/MatMul')], { perm: [0, 2, 1] }, 'model/rotary_emb/Transpose');
  const angles = node('Concat', [freqs, freqs], { axis: -1 }, 'model/rotary_emb/Concat_1');
  const cos = node('Unsqueeze', [node('Cos', [angles], {}, 'model/rotary_emb/Cos'), vecI([1], 'model/Constant_8')], {}, 'model/Unsqueeze_2'); // [B, 1, S, dh]
  const sin = node('Unsqueeze', [node('Sin', [angles], {}, 'model/rotary_emb/Sin'), vecI([1], 'model/Constant_9')], {}, 'model/Unsqueeze_3');

  let h = node('Gather', [embed, 'input_ids'], { axis: 0 }, 'model/embed_tokens/Gather');
  const presents: string[] = [];
  const halfStart = vecI([0], 'model/Constant_10');
  const halfMid = vecI([dh / 2], 'model/Constant_11');
  const halfEnd = vecI([2 ** 62], 'model/Constant_12');
  const lastAxis = vecI([3], 'model/Constant_13');
  const rotate = (x: string, sc: string): string => {
    const x1 = node('Slice', [x, halfStart, halfMid, lastAxis], {}, `${sc}/Slice`);
    const x2 = node('Slice', [x, halfMid, halfEnd, lastAxis], {}, `${sc}/Slice_1`);
    const rotated = node('Concat', [node('Neg', [x2], {}, `${sc}/Neg`), x1], { axis: -1 }, `${sc}/Concat`);
    return node('Add', [node('Mul', [x, cos], {}, `${sc}/Mul`), node('Mul', [rotated, sin], {}, `${sc}/Mul_1`)], {}, `${sc}/Add`);
  };
  for (let i = 0; i < layers; i++) {
    const sc = `model/layers.${i}`;
    const x = rmsNorm(h, rmsWeight(`model.layers.${i}.input_layernorm.weight`), `${sc}/input_layernorm`);
    const split = (y: string, n: number, label: string): string =>
      node('Transpose', [node('Reshape', [y, vecI([0, 0, n, dh], `${sc}/self_attn/Constant_${label}`)], {}, `${sc}/self_attn/Reshape_${label}`)], { perm: [0, 2, 1, 3] }, `${sc}/self_attn/Transpose_${label}`);
    const q = rotate(split(linear(x, `${sc}/self_attn/q_proj`, d, heads * dh, qkvBias), heads, 'q'), `${sc}/self_attn/rope_q`);
    let key = rotate(split(linear(x, `${sc}/self_attn/k_proj`, d, kvHeads * dh, qkvBias), kvHeads, 'k'), `${sc}/self_attn/rope_k`);
    let value = split(linear(x, `${sc}/self_attn/v_proj`, d, kvHeads * dh, qkvBias), kvHeads, 'v');
    key = node('Concat', [`past_key_values.${i}.key`, key], { axis: -2 }, `${sc}/self_attn/Concat`);
    value = node('Concat', [`past_key_values.${i}.value`, value], { axis: -2 }, `${sc}/self_attn/Concat_1`);
    presents.push(key, value);
    // repeat_kv: [B, kvH, T, dh] → [B, kvH, rep, T, dh] → [B, H, T, dh]
    const repeat = (y: string, label: string): string => {
      if (kvHeads === heads) return y;
      const shape = node('Shape', [y], {}, `${sc}/self_attn/Shape_${label}`);
      const dimsAt = (idx: number[], l: string): string => node('Gather', [shape, vecI(idx, `${sc}/self_attn/Constant_g${l}${label}`)], { axis: 0 }, `${sc}/self_attn/Gather_${l}${label}`);
      const bt = dimsAt([0], 'b');
      const tl = dimsAt([2], 't');
      const rep = vecI([kvHeads, heads / kvHeads], `${sc}/self_attn/Constant_rep${label}`);
      const dhv = vecI([dh], `${sc}/self_attn/Constant_dh${label}`);
      const expanded = node('Expand', [node('Unsqueeze', [y, vecI([2], `${sc}/self_attn/Constant_u${label}`)], {}, `${sc}/self_attn/Unsqueeze_${label}`), node('Concat', [bt, rep, tl, dhv], { axis: 0 }, `${sc}/self_attn/Concat_e${label}`)], {}, `${sc}/self_attn/Expand_${label}`);
      return node('Reshape', [expanded, node('Concat', [bt, vecI([heads], `${sc}/self_attn/Constant_h${label}`), tl, dhv], { axis: 0 }, `${sc}/self_attn/Concat_r${label}`)], {}, `${sc}/self_attn/Reshape_rep${label}`);
    };
    const kr = repeat(key, 'k');
    const vr = repeat(value, 'v');
    let scores = node('MatMul', [q, node('Transpose', [kr], { perm: [0, 1, 3, 2] }, `${sc}/self_attn/Transpose_kt`)], {}, `${sc}/self_attn/MatMul`);
    scores = node('Add', [node('Mul', [scores, scalarF(1 / Math.sqrt(dh), `${sc}/self_attn/Constant_scale`)], {}, `${sc}/self_attn/Mul`), mask], {}, `${sc}/self_attn/Add`);
    const probs = node('Softmax', [scores], { axis: -1 }, `${sc}/self_attn/Softmax`);
    let a = node('MatMul', [probs, vr], {}, `${sc}/self_attn/MatMul_1`);
    a = node('Reshape', [node('Transpose', [a], { perm: [0, 2, 1, 3] }, `${sc}/self_attn/Transpose_out`), vecI([0, 0, d], `${sc}/self_attn/Constant_out`)], {}, `${sc}/self_attn/Reshape_out`);
    h = node('Add', [h, linear(a, `${sc}/self_attn/o_proj`, heads * dh, d)], {}, `${sc}/Add`);
    const y = rmsNorm(h, rmsWeight(`model.layers.${i}.post_attention_layernorm.weight`), `${sc}/post_attention_layernorm`);
    const gate = linear(y, `${sc}/mlp/gate_proj`, d, intermediate);
    const up = linear(y, `${sc}/mlp/up_proj`, d, intermediate);
    const act = node('Mul', [gate, node('Sigmoid', [gate], {}, `${sc}/mlp/act_fn/Sigmoid`)], {}, `${sc}/mlp/act_fn/Mul`);
    h = node('Add', [h, linear(node('Mul', [act, up], {}, `${sc}/mlp/Mul`), `${sc}/mlp/down_proj`, intermediate, d)], {}, `${sc}/Add_1`);
  }
  h = rmsNorm(h, rmsWeight('model.norm.weight'), 'model/norm');
  const head = tiedEmbeddings ? node('Transpose', [embed], { perm: [1, 0] }, 'lm_head/Transpose') : b.initializer('onnx::MatMul_lm_head', normal([d, vocab], 0.6 / Math.sqrt(d)));
  b.nodeOutputs('MatMul', [h, head], {}, { name: '/lm_head/MatMul', outputNames: ['logits'] });
  b.output('logits', 'float32', ['batch_size', 'sequence_length', vocab]);
  presents.forEach((pr, j) => {
    const name = `present.${j >> 1}.${j % 2 ? 'value' : 'key'}`;
    b.nodeOutputs('Identity', [pr], {}, { name: `/present_${j}`, outputNames: [name] });
    b.output(name, 'float32', ['batch_size', kvHeads, 'past_sequence_length + sequence_length', dh]);
  });
  return b.model([{ domain: '', version: opset }], { irVersion: 8, producerName: 'pytorch', producerVersion: '2.4.0' });
}
