import { type ExternalTensorRef, type Model, type RawTensor, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import { type DecoderLmConfig, type DecoderLmOptions, decoderLmConfig } from './config.js';

const f32 = (v: Float32Array, shape: number[]): Tensor => tensor(v, shape, 'float32', { backend: 'cpu' });
const i64 = (v: number[], shape: number[]): Tensor => tensor(BigInt64Array.from(v.map(BigInt)), shape, 'int64', { backend: 'cpu' });

/** The symbolic dimension names of the decoder's inputs and outputs (as Optimum names them). */
export const DECODER_DIMS = { batch: 'batch_size', sequence: 'sequence_length', past: 'past_sequence_length', total: 'total_sequence_length' } as const;

/**
 * Where {@link buildDecoderLm} puts each float32 weight instead of keeping it in the graph: the
 * sink stores the values (e.g. appends them to an external data file) and returns their reference.
 * The graph then holds only references, so a model larger than memory or protobuf's 2 GB can be
 * generated one tensor at a time.
 */
export type DecoderWeightSink = (name: string, values: Float32Array, dims: readonly number[]) => ExternalTensorRef;

/** A decoder LM and its sizes. */
export interface DecoderLm {
  model: Model;
  config: DecoderLmConfig;
}

/**
 * A GPT-style decoder language model as an ONNX graph (opset 17), laid out like the decoders
 * Transformers.js runs (Optimum's `decoder_model.onnx` with past):
 *
 * - inputs `input_ids` int64 [batch_size, sequence_length], `attention_mask` int64
 *   [batch_size, total_sequence_length], `position_ids` int64 [batch_size, sequence_length],
 *   `past_key_values.{i}.key` / `.value` float32 [batch_size, heads, past_sequence_length, head_dim]
 *   (past length 0 starts generation);
 * - outputs `logits` [batch_size, sequence_length, vocab] and `present.{i}.key` / `.value`
 *   [batch_size, heads, total_sequence_length, head_dim] (the past with this call's keys appended).
 *
 * Inside: token embedding and learned positions (`Gather` on `position_ids`), pre-LayerNorm blocks
 * (ONNX `LayerNormalization`), multi-head self-attention with separate Q/K/V MatMul projections, a
 * causal mask (query s sees key t when t ≤ past + s) combined with the padding mask through `Where`
 * before `Softmax`, an exact (Erf) GELU MLP, a final LayerNorm and an output projection tied to the
 * token embedding: the same `transformer.wte.weight` is read by the `Gather` and, through a
 * `Transpose`, by the last MatMul. Weights are seeded: normal(0, 0.02), residual projections scaled
 * by 1/√(2·layers) as GPT-2 does, LayerNorm scale 1 and bias 0.
 */
export function buildDecoderLm(options: DecoderLmOptions, sink?: DecoderWeightSink): DecoderLm {
  const c = decoderLmConfig(options);
  const { layers, dModel: d, heads, headDim: dh, vocab, ffn } = c;
  const rng = new Rng(options.seed);
  const b = new GraphBuilder('main_graph');
  const external = new Map<string, RawTensor>();
  const weight = (name: string, v: Float32Array, shape: number[]): string => {
    if (!sink) return b.initializer(name, f32(v, shape));
    // a one-element stand-in reserves the name; swapped for the sink's reference once built
    const n = b.initializer(name, f32(new Float32Array(1), [1]));
    external.set(n, { dataType: 'float32', dims: shape, external: sink(n, v, shape) });
    return n;
  };
  const normal = (name: string, shape: number[], std: number): string => {
    const n = shape.reduce((a, x) => a * x, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    return weight(name, a, shape);
  };
  const { batch, sequence, past, total } = DECODER_DIMS;
  b.input('input_ids', 'int64', [batch, sequence]);
  b.input('attention_mask', 'int64', [batch, total]);
  b.input('position_ids', 'int64', [batch, sequence]);
  for (let i = 0; i < layers; i++) {
    b.input(`past_key_values.${i}.key`, 'float32', [batch, heads, past, dh]);
    b.input(`past_key_values.${i}.value`, 'float32', [batch, heads, past, dh]);
  }

  // weights (initializer order = parameter order of a GraphModule)
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  const wte = normal('transformer.wte.weight', [vocab, d], 0.02);
  const wpe = normal('transformer.wpe.weight', [c.maxPositions, d], 0.01);
  const ln = (name: string): [string, string] => [weight(`${name}.weight`, new Float32Array(d).fill(1), [d]), weight(`${name}.bias`, new Float32Array(d), [d])];
  const lin = (name: string, k: number, n: number, std = 0.02): [string, string] => [normal(`${name}.weight`, [k, n], std), weight(`${name}.bias`, new Float32Array(n), [n])];
  const blocks = Array.from({ length: layers }, (_, i) => {
    const p = `transformer.h.${i}`;
    return {
      ln1: ln(`${p}.ln_1`), q: lin(`${p}.attn.q_proj`, d, d), k: lin(`${p}.attn.k_proj`, d, d), v: lin(`${p}.attn.v_proj`, d, d),
      o: lin(`${p}.attn.out_proj`, d, d, residualStd), ln2: ln(`${p}.ln_2`), fc: lin(`${p}.mlp.fc_in`, d, ffn), proj: lin(`${p}.mlp.fc_out`, ffn, d, residualStd),
    };
  });
  const lnf = ln('transformer.ln_f');

  const node = (op: string, inputs: string[], attrs: Record<string, number | number[] | Tensor> = {}, name = op, floats: string[] = []): string =>
    b.node(op, inputs, attrs, { name, outputNames: [`${name}_output_0`], floatAttrs: floats });
  let k = 0;
  const constant = (t: Tensor): string => node('Constant', [], { value: t }, `/Constant_${k++}`);
  const scalarF = (v: number): string => constant(f32(Float32Array.of(v), []));
  const scalarI = (v: number): string => constant(i64([v], []));
  const vecI = (v: number[]): string => constant(i64(v, [v.length]));
  const layerNorm = (x: string, [g, beta]: [string, string], scope: string): string =>
    node('LayerNormalization', [x, g, beta], { axis: -1, epsilon: 1e-5 }, `${scope}/LayerNormalization`, ['epsilon']);
  const linear = (x: string, [w, bias]: [string, string], scope: string): string =>
    node('Add', [bias, node('MatMul', [x, w], {}, `${scope}/MatMul`)], {}, `${scope}/Add`);

  // S from input_ids, P from the first past key (0 at the start), T = P + S
  const s = node('Gather', [node('Shape', ['input_ids'], {}, '/Shape'), scalarI(1)], { axis: 0 }, '/Gather');
  const p = node('Gather', [node('Shape', ['past_key_values.0.key'], {}, '/Shape_1'), scalarI(2)], { axis: 0 }, '/Gather_1');
  const t = node('Add', [p, s], {}, '/Add');
  const one = scalarI(1);
  const queries = node('Range', [p, t, one], {}, '/Range'); // [S]: absolute positions of this call's tokens
  const keys = node('Range', [scalarI(0), t, one], {}, '/Range_1'); // [T]
  const causal = node('LessOrEqual', [keys, node('Unsqueeze', [queries, vecI([1])], {}, '/Unsqueeze')], {}, '/LessOrEqual'); // [S, T]
  const pad = node('Unsqueeze', [node('Cast', ['attention_mask'], { to: 9 }, '/Cast'), vecI([1, 2])], {}, '/Unsqueeze_1'); // [B, 1, 1, T]
  const allowed = node('And', [causal, pad], {}, '/And'); // [B, 1, S, T]
  const masked = scalarF(-3.4028234663852886e38);
  const scale = scalarF(Math.sqrt(dh));

  let h = node('Add', [node('Gather', [wte, 'input_ids'], { axis: 0 }, '/wte/Gather'), node('Gather', [wpe, 'position_ids'], { axis: 0 }, '/wpe/Gather')], {}, '/Add_1');
  const presents: string[] = [];
  blocks.forEach((w, i) => {
    const sc = `/h.${i}`;
    const x = layerNorm(h, w.ln1, `${sc}/ln_1`);
    const split = (y: string, label: string): string =>
      node('Transpose', [node('Reshape', [y, vecI([0, 0, heads, dh])], {}, `${sc}/attn/Reshape_${label}`)], { perm: [0, 2, 1, 3] }, `${sc}/attn/Transpose_${label}`);
    const q = split(linear(x, w.q, `${sc}/attn/q_proj`), 'q');
    // the past with this call's keys/values appended is the present output itself
    const cat = (kind: 'key' | 'value', y: string, label: string): string =>
      b.node('Concat', [`past_key_values.${i}.${kind}`, y], { axis: 2 }, { name: `${sc}/attn/${label}`, outputNames: [`present.${i}.${kind}`] });
    const key = cat('key', split(linear(x, w.k, `${sc}/attn/k_proj`), 'k'), 'Concat');
    const value = cat('value', split(linear(x, w.v, `${sc}/attn/v_proj`), 'v'), 'Concat_1');
    presents.push(key, value);
    let scores = node('MatMul', [q, node('Transpose', [key], { perm: [0, 1, 3, 2] }, `${sc}/attn/Transpose_kt`)], {}, `${sc}/attn/MatMul`);
    scores = node('Div', [scores, scale], {}, `${sc}/attn/Div`);
    scores = node('Where', [allowed, scores, masked], {}, `${sc}/attn/Where`);
    const probs = node('Softmax', [scores], { axis: -1 }, `${sc}/attn/Softmax`);
    const merged = node('Reshape', [node('Transpose', [node('MatMul', [probs, value], {}, `${sc}/attn/MatMul_1`)], { perm: [0, 2, 1, 3] }, `${sc}/attn/Transpose_out`), vecI([0, 0, d])], {}, `${sc}/attn/Reshape_out`);
    h = node('Add', [h, linear(merged, w.o, `${sc}/attn/out_proj`)], {}, `${sc}/Add`);
    // exact GELU as torch exports it: 0.5 · u · (1 + erf(u / √2))
    const u = linear(layerNorm(h, w.ln2, `${sc}/ln_2`), w.fc, `${sc}/mlp/fc_in`);
    const erf = node('Erf', [node('Div', [u, scalarF(Math.SQRT2)], {}, `${sc}/mlp/act/Div`)], {}, `${sc}/mlp/act/Erf`);
    const gelu = node('Mul', [node('Mul', [u, node('Add', [erf, scalarF(1)], {}, `${sc}/mlp/act/Add`)], {}, `${sc}/mlp/act/Mul`), scalarF(0.5)], {}, `${sc}/mlp/act/Mul_1`);
    h = node('Add', [h, linear(gelu, w.proj, `${sc}/mlp/fc_out`)], {}, `${sc}/Add_1`);
  });
  h = layerNorm(h, lnf, '/ln_f');
  // output projection tied to the token embedding: logits = h · wteᵀ
  const logits = b.node('MatMul', [h, node('Transpose', [wte], { perm: [1, 0] }, '/lm_head/Transpose')], {}, { name: '/lm_head/MatMul', outputNames: ['logits'] });
  b.output(logits, 'float32', [batch, sequence, vocab]);
  for (const pr of presents) b.output(pr, 'float32', [batch, heads, total, dh]);
  const model = b.model([{ domain: '', version: 17 }], { irVersion: 8, producerName: 'whittle' });
  for (const [n, raw] of external) {
    model.graph.initializers.delete(n);
    model.graph.rawInitializers.set(n, raw);
  }
  return { model, config: c };
}
