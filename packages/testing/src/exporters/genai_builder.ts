import { type Model, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import { type DecoderSizeOptions, f32, i64, normal } from './common.js';

/**
 * Options of {@link genaiBuilderDecoder}: 2 layers, hidden 64, 4 query over 2 key/value heads,
 * MLP 2·hidden, vocabulary 256, own LM head unless given.
 */
export interface GenaiBuilderDecoderOptions extends DecoderSizeOptions {
  /** Rows of the cos / sin caches: the longest total sequence (default 64). */
  maxPositions?: number;
}

/** The dims of a {@link genaiBuilderDecoder} that its callers feed by. */
export interface GenaiBuilderDecoderConfig {
  layers: number;
  kvHeads: number;
  headSize: number;
  vocab: number;
  maxPositions: number;
}

/**
 * A Llama-style decoder laid out as onnxruntime-genai's model builder writes it for the CPU
 * execution provider in float32 (`model.onnx` of an onnx-community / genai export).
 *
 * Inputs `input_ids` int64 [batch_size, sequence_length], `attention_mask` int64
 * [batch_size, total_sequence_length], `past_key_values.{i}.key/value` float
 * [batch_size, kv_heads, past_sequence_length, head_size]; outputs `logits`
 * [batch_size, sequence_length, vocab] and `present.{i}.key/value`
 * [batch_size, kv_heads, total_sequence_length, head_size].
 *
 * Nodes, named as the builder names them: the token embedding `Gather`; the mask reformatting
 * subgraph (`ReduceSum` of attention_mask − 1 → `Cast` int32 = seqlens_k, `Shape` → `Gather` 1 →
 * `Cast` int32 = total_sequence_length); per layer `SimplifiedLayerNormalization` (first layer) or
 * `SkipSimplifiedLayerNormalization` carrying the residual sum, q/k/v projections as `MatMul` with
 * float32 [in, out] weights, com.microsoft `GroupQueryAttention` with do_rotary over `cos_cache` /
 * `sin_cache` initializers, the o_proj `MatMul`, a `SkipSimplifiedLayerNormalization`, and the
 * SiLU-gated MLP (gate `MatMul` → `Sigmoid` · gate, times up `MatMul`, down `MatMul`); the final
 * `SkipSimplifiedLayerNormalization` and the lm_head `MatMul` (its own weight, or the embedding
 * table through a `Transpose` when tiedEmbeddings). Opsets: default 21, com.microsoft 1.
 * Weights: normal(0, 0.02·√(64/in)) projections, normal(0, 0.1) embeddings, seeded.
 */
export function genaiBuilderDecoder(options: GenaiBuilderDecoderOptions): { model: Model; config: GenaiBuilderDecoderConfig } {
  const { seed, layers = 2, hidden = 64, heads = 4, kvHeads = 2, vocab = 256, maxPositions = 64, tiedEmbeddings = false } = options;
  const inter = options.intermediate ?? 2 * hidden;
  if (hidden % heads !== 0 || heads % kvHeads !== 0) throw new RangeError(`genaiBuilderDecoder: hidden ${hidden} must split into ${heads} heads, and ${heads} heads into groups over ${kvHeads} kv heads`);
  const h = hidden / heads;
  const rng = new Rng(seed);
  const b = new GraphBuilder('main_graph');
  const weight = (name: string, shape: number[], std: number, mean = 0): string =>
    b.initializer(name, f32(normal(rng, shape[0]! * (shape[1] ?? 1), std).map((v) => v + mean), shape));
  const node = (name: string, op: string, inputs: string[], attrs: Record<string, number | number[] | Tensor> = {}, opts: { domain?: string; outputs?: number; floatAttrs?: string[] } = {}): string[] =>
    b.nodeOutputs(op, inputs, attrs, {
      name,
      outputNames: Array.from({ length: opts.outputs ?? 1 }, (_, i) => `${name}/output_${i}`),
      ...(opts.domain ? { domain: opts.domain } : {}),
      ...(opts.floatAttrs ? { floatAttrs: opts.floatAttrs } : {}),
    });
  const one = (name: string, op: string, inputs: string[], attrs: Record<string, number | number[] | Tensor> = {}, opts: { domain?: string; floatAttrs?: string[] } = {}): string => node(name, op, inputs, attrs, opts)[0]!;
  const MS = 'com.microsoft';

  b.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  b.input('attention_mask', 'int64', ['batch_size', 'total_sequence_length']);
  for (let i = 0; i < layers; i++) {
    b.input(`past_key_values.${i}.key`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', h]);
    b.input(`past_key_values.${i}.value`, 'float32', ['batch_size', kvHeads, 'past_sequence_length', h]);
  }

  const embed = weight('model.embed_tokens.weight', [vocab, hidden], 0.1);
  const x0 = one('/model/embed_tokens/Gather', 'Gather', [embed, 'input_ids']);

  // seqlens_k = ReduceSum(attention_mask) − 1 and total_sequence_length = attention_mask's width, int32
  const scope = '/model/attn_mask_reformat/attn_mask_subgraph';
  const sum = one(`${scope}/ReduceSum`, 'ReduceSum', ['attention_mask', b.initializer('/model/constants/TensorProto.INT64/1D/1', i64([1]))], { keepdims: 0 });
  const sub = one(`${scope}/Sub`, 'Sub', [sum, b.initializer('/model/constants/TensorProto.INT64/0D/1', i64([1], []))]);
  const seqlensK = one(`${scope}/Sub/Cast`, 'Cast', [sub], { to: 6 });
  const width = one(`${scope}/Gather`, 'Gather', [one(`${scope}/Shape`, 'Shape', ['attention_mask']), '/model/constants/TensorProto.INT64/0D/1'], { axis: 0 });
  const totalLen = one(`${scope}/Gather/Cast`, 'Cast', [width], { to: 6 });

  // cos / sin caches [maxPositions, head/2] with base 10000
  const half = h / 2;
  const angles = Array.from({ length: maxPositions * half }, (_, i) => Math.floor(i / half) / 10000 ** ((2 * (i % half)) / h));
  const cos = b.initializer('cos_cache', f32(angles.map(Math.cos), [maxPositions, half]));
  const sin = b.initializer('sin_cache', f32(angles.map(Math.sin), [maxPositions, half]));

  const proj = (k: number) => 0.02 * Math.sqrt(64 / k);
  const norm = (name: string) => weight(name, [hidden], 0.05, 1);
  let residual = x0;
  let pending: string | undefined; // the last block's output, still to be added to the residual
  const skipNorm = (name: string, gamma: string): string => {
    if (!pending) return one(`${name}/SimplifiedLayerNormalization`, 'SimplifiedLayerNormalization', [residual, gamma], { axis: -1, epsilon: 1e-5, stash_type: 1 }, { floatAttrs: ['epsilon'] });
    const outs = node(`${name}/SkipLayerNorm`, 'SkipSimplifiedLayerNormalization', [pending, residual, gamma], { epsilon: 1e-5 }, { domain: MS, outputs: 4, floatAttrs: ['epsilon'] });
    // mean and inv_std_var are not wired, as the builder leaves them
    const n = b.build().nodes.at(-1)!;
    n.outputs[1] = '';
    n.outputs[2] = '';
    residual = outs[3]!;
    return outs[0]!;
  };
  for (let i = 0; i < layers; i++) {
    const l = `/model/layers.${i}`;
    const w = `model.layers.${i}`;
    const xn = skipNorm(`${l}/input_layernorm`, norm(`${w}.input_layernorm.weight`));
    const q = one(`${l}/attn/q_proj/MatMul`, 'MatMul', [xn, weight(`${w}.attn.q_proj.MatMul.weight`, [hidden, hidden], proj(hidden))]);
    const k = one(`${l}/attn/k_proj/MatMul`, 'MatMul', [xn, weight(`${w}.attn.k_proj.MatMul.weight`, [hidden, kvHeads * h], proj(hidden))]);
    const v = one(`${l}/attn/v_proj/MatMul`, 'MatMul', [xn, weight(`${w}.attn.v_proj.MatMul.weight`, [hidden, kvHeads * h], proj(hidden))]);
    const [attn] = b.nodeOutputs(
      'GroupQueryAttention',
      [q, k, v, `past_key_values.${i}.key`, `past_key_values.${i}.value`, seqlensK, totalLen, cos, sin],
      { num_heads: heads, kv_num_heads: kvHeads, scale: 1 / Math.sqrt(h), local_window_size: -1, softcap: 0, do_rotary: 1, rotary_interleaved: 0 },
      { name: `${l}/attn/GroupQueryAttention`, domain: MS, outputNames: [`${l}/attn/GroupQueryAttention/output_0`, `present.${i}.key`, `present.${i}.value`], floatAttrs: ['scale', 'softcap'] },
    );
    pending = one(`${l}/attn/o_proj/MatMul`, 'MatMul', [attn!, weight(`${w}.attn.o_proj.MatMul.weight`, [hidden, hidden], proj(hidden))]);
    const xm = skipNorm(`${l}/post_attention_layernorm`, norm(`${w}.post_attention_layernorm.weight`));
    const gate = one(`${l}/mlp/gate_proj/MatMul`, 'MatMul', [xm, weight(`${w}.mlp.gate_proj.MatMul.weight`, [hidden, inter], proj(hidden))]);
    const up = one(`${l}/mlp/up_proj/MatMul`, 'MatMul', [xm, weight(`${w}.mlp.up_proj.MatMul.weight`, [hidden, inter], proj(hidden))]);
    const act = one(`${l}/mlp/act_fn/Mul`, 'Mul', [gate, one(`${l}/mlp/act_fn/Sigmoid`, 'Sigmoid', [gate])]);
    const gated = one(`${l}/mlp/Mul`, 'Mul', [act, up]);
    pending = one(`${l}/mlp/down_proj/MatMul`, 'MatMul', [gated, weight(`${w}.mlp.down_proj.MatMul.weight`, [inter, hidden], proj(inter))]);
  }
  const xf = skipNorm('/model/norm', norm('model.norm.weight'));
  const head = tiedEmbeddings ? one('/lm_head/Transpose', 'Transpose', [embed], { perm: [1, 0] }) : weight('lm_head.MatMul.weight', [hidden, vocab], proj(hidden));
  b.node('MatMul', [xf, head], {}, { name: '/lm_head/MatMul', outputNames: ['logits'] });

  b.output('logits', 'float32', ['batch_size', 'sequence_length', vocab]);
  for (let i = 0; i < layers; i++) {
    b.output(`present.${i}.key`, 'float32', ['batch_size', kvHeads, 'total_sequence_length', h]);
    b.output(`present.${i}.value`, 'float32', ['batch_size', kvHeads, 'total_sequence_length', h]);
  }
  const model = b.model([{ domain: '', version: 21 }, { domain: MS, version: 1 }], { irVersion: 10, producerName: 'onnxruntime-genai' });
  return { model, config: { layers, kvHeads, headSize: h, vocab, maxPositions } };
}

/**
 * Feeds of a {@link genaiBuilderDecoder} call: `ids` [B, S] new tokens after `past` (per layer
 * [key, value] of [B, kvHeads, P, H], empty when omitted) with an all-ones attention mask
 * [B, P + S].
 */
export function genaiBuilderFeeds(config: GenaiBuilderDecoderConfig, ids: readonly (readonly number[])[], past?: readonly (readonly [Tensor, Tensor])[]): Record<string, Tensor> {
  const bsz = ids.length;
  const s = ids[0]!.length;
  const p = past ? past[0]![0].shape[2]! : 0;
  const feeds: Record<string, Tensor> = {
    input_ids: i64(ids.flat(), [bsz, s]),
    attention_mask: i64(new Array<number>(bsz * (p + s)).fill(1), [bsz, p + s]),
  };
  for (let i = 0; i < config.layers; i++) {
    const empty = tensor(new Float32Array(0), [bsz, config.kvHeads, 0, config.headSize], 'float32', { backend: 'cpu' });
    feeds[`past_key_values.${i}.key`] = past ? past[i]![0] : empty;
    feeds[`past_key_values.${i}.value`] = past ? past[i]![1] : empty;
  }
  return feeds;
}
