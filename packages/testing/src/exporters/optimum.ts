import { type Graph, type Model, GraphBuilder } from '@whittle/graph';
import { Rng, type Tensor, tensor } from '@whittle/tensor';
import { normalTensor } from './common.js';

/** Options of {@link optimumDecoder}. */
export interface OptimumDecoderOptions {
  /** Seed of the weights. */
  seed: number;
  /** Default opset import (default 14). */
  opset?: number;
  /** Decoder blocks (default 2). */
  layers?: number;
  /** Hidden size (default 64). */
  dModel?: number;
  /** Attention heads (default 4; must divide dModel). */
  heads?: number;
  /** Vocabulary size (default 256). */
  vocab?: number;
}

/** Longest position the learned position table covers. */
export const OPTIMUM_DECODER_MAX_POSITIONS = 128;

const f32 = (v: Float32Array, shape: number[]): Tensor => tensor(v, shape, 'float32', { backend: 'cpu' });
const i64 = (v: number[], shape: number[]): Tensor => tensor(BigInt64Array.from(v.map(BigInt)), shape, 'int64', { backend: 'cpu' });

/** Names of the main-graph weights of one decoder block. */
interface BlockWeights {
  ln1: [string, string];
  attn: [string, string];
  attnProj: [string, string];
  ln2: [string, string];
  fc: [string, string];
  proj: [string, string];
}

interface Dims {
  layers: number;
  d: number;
  heads: number;
  vocab: number;
}

/**
 * One branch of the merged decoder: with or without past key/values. Reads the weights (main-graph
 * initializers, shared by both branches) and the main-graph inputs by name.
 */
function decoderBranch(withPast: boolean, dims: Dims, w: { wte: string; wpe: string; blocks: BlockWeights[]; lnf: [string, string] }): Graph {
  const tag = withPast ? 'optimum::if_true' : 'optimum::if_false';
  const b = new GraphBuilder(withPast ? 'then_branch' : 'else_branch');
  const { d, heads } = dims;
  const dh = d / heads;
  let k = 0;
  const node = (op: string, inputs: string[], attrs: Record<string, number | number[] | Tensor> = {}, label = op, floats: string[] = []): string =>
    b.node(op, inputs, attrs, { name: `${tag}/${label}`, outputNames: [`${tag}/${label}_output_${k++}`], floatAttrs: floats });
  const constant = (t: Tensor, label = 'Constant'): string => node('Constant', [], { value: t }, label);
  const scalarF = (v: number): string => constant(f32(Float32Array.of(v), []));
  const scalarI = (v: number): string => constant(i64([v], []));
  const vecI = (v: number[]): string => constant(i64(v, [v.length]));

  const layerNorm = (x: string, [g, beta]: [string, string], scope: string): string => {
    const mean = node('ReduceMean', [x], { axes: [-1] }, `${scope}/ReduceMean`);
    const c = node('Sub', [x, mean], {}, `${scope}/Sub`);
    const v = node('ReduceMean', [node('Pow', [c, scalarF(2)], {}, `${scope}/Pow`)], { axes: [-1] }, `${scope}/ReduceMean_1`);
    const std = node('Sqrt', [node('Add', [v, scalarF(1e-5)], {}, `${scope}/Add`)], {}, `${scope}/Sqrt`);
    const n = node('Div', [c, std], {}, `${scope}/Div`);
    return node('Add', [node('Mul', [n, g], {}, `${scope}/Mul`), beta], {}, `${scope}/Add_1`);
  };
  const linear = (x: string, [wt, bias]: [string, string], scope: string): string =>
    node('Add', [bias, node('MatMul', [x, wt], {}, `${scope}/MatMul`)], {}, `${scope}/Add`);

  // sequence lengths: S from input_ids, P from the first past key (0 without past), T = P + S
  const s = node('Gather', [node('Shape', ['input_ids'], {}, 'transformer/Shape'), scalarI(1)], { axis: 0 }, 'transformer/Gather');
  const p = withPast
    ? node('Gather', [node('Shape', ['past_key_values.0.key'], {}, 'transformer/Shape_1'), scalarI(2)], { axis: 0 }, 'transformer/Gather_1')
    : scalarI(0);
  const t = node('Add', [p, s], {}, 'transformer/Add');
  const one = scalarI(1);
  const positions = node('Range', [p, t, one], {}, 'transformer/Range'); // [S]
  const keys = node('Range', [scalarI(0), t, one], {}, 'transformer/Range_1'); // [T]
  // causal mask [S, T] (key t visible from query s when t <= P + s) and the padding mask [B, 1, 1, T]
  const causal = node('LessOrEqual', [keys, node('Unsqueeze', [positions, vecI([1])], {}, 'transformer/Unsqueeze')], {}, 'transformer/LessOrEqual');
  const pad = node('Unsqueeze', [node('Cast', ['attention_mask'], { to: 9 }, 'transformer/Cast'), vecI([1, 2])], {}, 'transformer/Unsqueeze_1');
  const allowed = node('And', [causal, pad], {}, 'transformer/And'); // [B, 1, S, T]
  const negInf = scalarF(-3.4028234663852886e38);

  let h = node('Add', [
    node('Gather', [w.wte, 'input_ids'], { axis: 0 }, 'transformer/wte/Gather'),
    node('Gather', [w.wpe, positions], { axis: 0 }, 'transformer/wpe/Gather'),
  ], {}, 'transformer/Add_1');
  const presents: string[] = [];
  w.blocks.forEach((bw, i) => {
    const sc = `transformer/h.${i}`;
    const x = layerNorm(h, bw.ln1, `${sc}/ln_1`);
    const qkv = linear(x, bw.attn, `${sc}/attn/c_attn`);
    const parts = b.nodeOutputs('Split', [qkv, vecI([d, d, d])], { axis: 2 }, {
      name: `${tag}/${sc}/attn/Split`, outputNames: ['q', 'k', 'v'].map((n) => `${tag}/${sc}/attn/Split_output_${n}`),
    });
    const heads4 = (y: string, label: string): string =>
      node('Transpose', [node('Reshape', [y, vecI([0, 0, heads, dh])], {}, `${sc}/attn/Reshape_${label}`)], { perm: [0, 2, 1, 3] }, `${sc}/attn/Transpose_${label}`);
    const q = heads4(parts[0]!, 'q');
    let key = heads4(parts[1]!, 'k');
    let value = heads4(parts[2]!, 'v');
    if (withPast) {
      key = node('Concat', [`past_key_values.${i}.key`, key], { axis: 2 }, `${sc}/attn/Concat`);
      value = node('Concat', [`past_key_values.${i}.value`, value], { axis: 2 }, `${sc}/attn/Concat_1`);
    }
    presents.push(key, value);
    let scores = node('MatMul', [q, node('Transpose', [key], { perm: [0, 1, 3, 2] }, `${sc}/attn/Transpose_kt`)], {}, `${sc}/attn/MatMul`);
    scores = node('Div', [scores, scalarF(Math.sqrt(dh))], {}, `${sc}/attn/Div`);
    scores = node('Where', [allowed, scores, negInf], {}, `${sc}/attn/Where`);
    const probs = node('Softmax', [scores], { axis: -1 }, `${sc}/attn/Softmax`);
    let a = node('MatMul', [probs, value], {}, `${sc}/attn/MatMul_1`);
    a = node('Reshape', [node('Transpose', [a], { perm: [0, 2, 1, 3] }, `${sc}/attn/Transpose_out`), vecI([0, 0, d])], {}, `${sc}/attn/Reshape_out`);
    h = node('Add', [h, linear(a, bw.attnProj, `${sc}/attn/c_proj`)], {}, `${sc}/Add`);
    // MLP with the tanh GELU ("gelu_new") written out as the exporter does
    const u = linear(layerNorm(h, bw.ln2, `${sc}/ln_2`), bw.fc, `${sc}/mlp/c_fc`);
    const cube = node('Mul', [node('Pow', [u, scalarF(3)], {}, `${sc}/mlp/act/Pow`), scalarF(0.044715)], {}, `${sc}/mlp/act/Mul`);
    const inner = node('Mul', [node('Add', [u, cube], {}, `${sc}/mlp/act/Add`), scalarF(Math.sqrt(2 / Math.PI))], {}, `${sc}/mlp/act/Mul_1`);
    const gelu = node('Mul', [node('Mul', [u, scalarF(0.5)], {}, `${sc}/mlp/act/Mul_2`), node('Add', [node('Tanh', [inner], {}, `${sc}/mlp/act/Tanh`), scalarF(1)], {}, `${sc}/mlp/act/Add_1`)], {}, `${sc}/mlp/act/Mul_3`);
    h = node('Add', [h, linear(gelu, bw.proj, `${sc}/mlp/c_proj`)], {}, `${sc}/Add_1`);
  });
  h = layerNorm(h, w.lnf, 'transformer/ln_f');
  // LM head tied with the token embedding: logits = h · wteᵀ
  const logits = node('MatMul', [h, node('Transpose', [w.wte], { perm: [1, 0] }, 'lm_head/Transpose')], {}, 'lm_head/MatMul');
  b.output(logits, 'float32', ['batch_size', 'sequence_length', dims.vocab]);
  for (const pr of presents) b.output(pr, 'float32', ['batch_size', heads, withPast ? 'past_sequence_length + sequence_length' : 'sequence_length', dh]);
  return b.build();
}

/**
 * What Hugging Face Optimum exports as `decoder_model_merged.onnx` for a GPT-2 style decoder.
 * Inputs `input_ids` int64 [B, S], `attention_mask` int64 [B, P + S],
 * `past_key_values.{i}.key/value` float [B, H, P, Dh] and `use_cache_branch` bool [1]; one
 * top-level `If` on `use_cache_branch` whose then-branch is the decoder with past (keys/values
 * concatenated to the past) and else-branch the decoder without past; outputs `logits`
 * [B, S, vocab] and `present.{i}.key/value` [B, H, P + S (or S), Dh]. Every weight is a
 * main-graph initializer read by both branches (shared, as Optimum's merge leaves them). Inside a
 * branch: token + learned position embeddings (`Gather`), LayerNorm written out
 * (ReduceMean/Sub/Pow/Sqrt/Div), Gemm-free projections (MatMul with a [K, N] weight + Add), a
 * fused QKV projection split into heads, a causal mask (Range/LessOrEqual) combined with the
 * padding mask through `Where`, tanh-GELU written out, and the LM head tied with the token
 * embedding: the same `transformer.wte.weight` read by the `Gather` and, through a `Transpose`, by
 * the final MatMul. Weights: normal(0, 0.02) projections, normal(0, 0.1) embeddings, seeded.
 */
export function optimumDecoder(options: OptimumDecoderOptions): Model {
  const { seed, opset = 14, layers = 2, dModel: d = 64, heads = 4, vocab = 256 } = options;
  if (d % heads !== 0) throw new RangeError(`optimumDecoder: dModel ${d} is not a multiple of heads ${heads}; pick heads dividing dModel`);
  const rng = new Rng(seed);
  const b = new GraphBuilder('main_graph');
  const normal = (shape: number[], std: number, mean = 0): Tensor => normalTensor(rng, shape, std, mean);
  const dh = d / heads;
  b.input('input_ids', 'int64', ['batch_size', 'sequence_length']);
  b.input('attention_mask', 'int64', ['batch_size', 'past_sequence_length + sequence_length']);
  for (let i = 0; i < layers; i++) {
    b.input(`past_key_values.${i}.key`, 'float32', ['batch_size', heads, 'past_sequence_length', dh]);
    b.input(`past_key_values.${i}.value`, 'float32', ['batch_size', heads, 'past_sequence_length', dh]);
  }
  b.input('use_cache_branch', 'bool', [1]);
  const wte = b.initializer('transformer.wte.weight', normal([vocab, d], 0.1));
  const wpe = b.initializer('transformer.wpe.weight', normal([OPTIMUM_DECODER_MAX_POSITIONS, d], 0.1));
  const ln = (name: string): [string, string] => [b.initializer(`${name}.weight`, normal([d], 0.05, 1)), b.initializer(`${name}.bias`, normal([d], 0.02))];
  const lin = (name: string, k: number, n: number): [string, string] => [b.initializer(`${name}.weight`, normal([k, n], 0.02 * Math.sqrt(64 / k))), b.initializer(`${name}.bias`, normal([n], 0.02))];
  const blocks: BlockWeights[] = [];
  for (let i = 0; i < layers; i++) {
    const p = `transformer.h.${i}`;
    blocks.push({
      ln1: ln(`${p}.ln_1`), attn: lin(`${p}.attn.c_attn`, d, 3 * d), attnProj: lin(`${p}.attn.c_proj`, d, d),
      ln2: ln(`${p}.ln_2`), fc: lin(`${p}.mlp.c_fc`, d, 4 * d), proj: lin(`${p}.mlp.c_proj`, 4 * d, d),
    });
  }
  const weights = { wte, wpe, blocks, lnf: ln('transformer.ln_f') };
  const outputs = ['logits'];
  for (let i = 0; i < layers; i++) outputs.push(`present.${i}.key`, `present.${i}.value`);
  b.nodeOutputs('If', ['use_cache_branch'], {
    then_branch: decoderBranch(true, { layers, d, heads, vocab }, weights),
    else_branch: decoderBranch(false, { layers, d, heads, vocab }, weights),
  }, { name: 'optimum::if', outputNames: outputs });
  b.output('logits', 'float32', ['batch_size', 'sequence_length', vocab]);
  for (let i = 0; i < layers; i++) {
    b.output(`present.${i}.key`, 'float32', ['batch_size', heads, 'past_sequence_length + sequence_length', dh]);
    b.output(`present.${i}.value`, 'float32', ['batch_size', heads, 'past_sequence_length + sequence_length', dh]);
  }
  return b.model([{ domain: '', version: opset }], { irVersion: 8, producerName: 'pytorch', producerVersion: '2.1.0' });
}
