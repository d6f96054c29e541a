/**
 * A BERT-like transformer encoder (batch first) as `torch.onnx.export` writes it at opset 14:
 * MatMul with [K, N] weight initializers + Add bias, per-head Reshape whose shape is built from
 * Shape → Gather → Unsqueeze → Concat (or a constant), Transpose, scaled dot-product attention
 * (MatMul, Div by √Dh, Softmax, MatMul), LayerNorm decomposed into ReduceMean/Sub/Pow/ReduceMean/
 * Add/Sqrt/Div/Mul/Add (opset 14 has no LayerNormalization), FFN with Gelu decomposed via Erf.
 * Optionally BertModel's inputs: `attention_mask` (its extended mask added to the scores) and
 * `token_type_ids`, and a task head with a `logits` output (or `start_logits` / `end_logits`).
 */
import { GraphBuilder, type Model } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { f32, i64, normal, torchConstant, torchNode } from './common.js';

/** Options of {@link torchTransformerEncoder}. */
export interface TransformerFixtureOptions {
  seed?: number;
  /** Default opset import (default 14). */
  opset?: number;
  layers?: number;
  dModel?: number;
  heads?: number;
  ffn?: number;
  /**
   * With a vocabulary size the input is `input_ids` (int64 [batch_size, sequence]) looked up with
   * `Gather` in `embeddings.word_embeddings.weight`, plus position embeddings sliced to the
   * sequence length; without, the input is `src` (float [batch_size, sequence, dModel]).
   */
  vocab?: number;
  /** Longest sequence of the position embeddings (default 128). */
  maxPositions?: number;
  /** Head reshapes built from the runtime shape (default, 'dynamic') or constant `[0, 0, H, Dh]`. */
  shapes?: 'dynamic' | 'constant';
  /** FFN activation: exact Gelu via Erf (default) or Relu. */
  activation?: 'gelu' | 'relu';
  /**
   * Add an `attention_mask` input (int64 [batch_size, sequence], 1 = attend) as torch.onnx.export
   * writes Hugging Face BertModel's extended mask: Unsqueeze → Unsqueeze → Cast → Sub(1, ·) →
   * Mul(·, float32 min), added to every layer's scaled scores before the Softmax. Default false.
   */
  attentionMask?: boolean;
  /**
   * With `vocab`: rows of a token type table; adds a `token_type_ids` input (int64
   * [batch_size, sequence]) whose `embeddings.token_type_embeddings.weight` rows are added to the
   * word embeddings, as BertEmbeddings does. Default: no token types.
   */
  typeVocab?: number;
  /**
   * A task head on the hidden states, as torch.onnx.export writes Hugging Face's Bert heads; the
   * only output is then `logits`. 'sequence-classification' (BertForSequenceClassification): the
   * first token → pooler Gemm (transB) + Tanh → classifier Gemm, logits [batch_size, numLabels];
   * 'token-classification': classifier MatMul + Add on every token, [batch_size, sequence,
   * numLabels]; 'masked-lm' (needs `vocab`): transform MatMul + Gelu + LayerNorm, decoder MatMul
   * to the vocabulary + bias, [batch_size, sequence, vocab]. 'question-answering'
   * (BertForQuestionAnswering): `qa_outputs` MatMul + Add to 2 scores per token, Split on the last
   * axis and Squeeze, two outputs `start_logits` and `end_logits` [batch_size, sequence].
   * Default: none (`last_hidden_state`).
   */
  head?: 'sequence-classification' | 'token-classification' | 'masked-lm' | 'question-answering';
  /** Classes of a classification head (default 2; a question answering head always has 2). */
  numLabels?: number;
  /** Scale of the classifier's weights (default 1: logits of about unit size). */
  classifierGain?: number;
}

/**
 * What torch.onnx.export writes for a batch-first BERT-like encoder (`nn.TransformerEncoder`
 * style post-norm layers with separate Q/K/V projections). Node names follow BERT's modules:
 * `/encoder/layer.0/attention/self/query/MatMul`, `/encoder/layer.0/intermediate/dense/MatMul`;
 * MatMul weights are `onnx::MatMul_N` ([in, out], transposed by the exporter), biases keep their
 * parameter names. The sequence length is the symbolic dim `sequence`; the output is
 * `last_hidden_state` [batch_size, sequence, dModel].
 */
export function torchTransformerEncoder(opts: TransformerFixtureOptions = {}): Model {
  const rng = new Rng(opts.seed ?? 0);
  const opset = opts.opset ?? 14;
  const L = opts.layers ?? 2;
  const D = opts.dModel ?? 64;
  const H = opts.heads ?? 4;
  const F = opts.ffn ?? 128;
  const Dh = D / H;
  if (!Number.isInteger(Dh)) throw new RangeError(`torchTransformerEncoder: dModel ${D} is not a multiple of heads ${H}`);
  const dynamic = (opts.shapes ?? 'dynamic') === 'dynamic';
  const b = new GraphBuilder('main_graph');
  let matmulId = 1000;
  const linear = (x: string, mod: string, din: number, dout: number, gain = 1): string => {
    const scope = `/${mod.replace(/\.(?=[A-Za-z])/g, '/')}`;
    const w = b.initializer(`onnx::MatMul_${matmulId++}`, f32(normal(rng, din * dout, gain / Math.sqrt(din)), [din, dout]));
    const bias = b.initializer(`${mod}.bias`, f32(normal(rng, dout, 0.02), [dout]));
    const y = torchNode(b, scope, 'MatMul', [x, w]);
    return torchNode(b, scope, 'Add', [bias, y]);
  };
  const layerNorm = (x: string, mod: string): string => {
    const scope = `/${mod.replace(/\.(?=[A-Za-z])/g, '/')}`;
    const mean = torchNode(b, scope, 'ReduceMean', [x], { axes: [-1], keepdims: 1 });
    const d = torchNode(b, scope, 'Sub', [x, mean]);
    const sq = torchNode(b, scope, 'Pow', [d, torchConstant(b, scope, f32([2], []))]);
    const vr = torchNode(b, scope, 'ReduceMean', [sq], { axes: [-1], keepdims: 1 });
    const ve = torchNode(b, scope, 'Add', [vr, torchConstant(b, scope, f32([1e-12], []))]);
    const sd = torchNode(b, scope, 'Sqrt', [ve]);
    const n = torchNode(b, scope, 'Div', [d, sd]);
    const gamma = b.initializer(`${mod}.weight`, f32(Float32Array.from({ length: D }, () => 1 + rng.normal() * 0.05), [D]));
    const beta = b.initializer(`${mod}.bias`, f32(normal(rng, D, 0.02), [D]));
    return torchNode(b, scope, 'Add', [torchNode(b, scope, 'Mul', [n, gamma]), beta]);
  };
  /** [B, S, H·Dh] → [B, S, H, Dh] with the shape built as torch does. */
  const shapeOf = (x: string, scope: string, tail: number[]): string => {
    if (!dynamic) return torchConstant(b, scope, i64([0, 0, ...tail]));
    const dims = [0, 1].map((axis) => {
      const sh = torchNode(b, scope, 'Shape', [x]);
      const g = torchNode(b, scope, 'Gather', [sh, torchConstant(b, scope, i64([axis], []))], { axis: 0 });
      return torchNode(b, scope, 'Unsqueeze', [g, torchConstant(b, scope, i64([0]))]);
    });
    return torchNode(b, scope, 'Concat', [...dims, ...tail.map((v) => torchConstant(b, scope, i64([v])))], { axis: 0 });
  };

  if (opts.typeVocab !== undefined && !opts.vocab) throw new RangeError('torchTransformerEncoder: typeVocab needs vocab (token types are embedded next to input_ids)');
  let x: string;
  let mask: string | undefined;
  if (opts.vocab) {
    const ids = b.input('input_ids', 'int64', ['batch_size', 'sequence']);
    if (opts.attentionMask) mask = b.input('attention_mask', 'int64', ['batch_size', 'sequence']);
    const types = opts.typeVocab ? b.input('token_type_ids', 'int64', ['batch_size', 'sequence']) : undefined;
    const maxPos = opts.maxPositions ?? 128;
    const words = b.initializer('embeddings.word_embeddings.weight', f32(normal(rng, opts.vocab * D, 0.5), [opts.vocab, D]));
    const pos = b.initializer('embeddings.position_embeddings.weight', f32(normal(rng, maxPos * D, 0.5), [maxPos, D]));
    const posIds = b.initializer('embeddings.position_ids', i64(Array.from({ length: maxPos }, (_, i) => i), [1, maxPos]));
    let we = torchNode(b, '/embeddings/word_embeddings', 'Gather', [words, ids], { axis: 0 });
    if (types) {
      const table = b.initializer('embeddings.token_type_embeddings.weight', f32(normal(rng, opts.typeVocab! * D, 0.5), [opts.typeVocab!, D]));
      we = torchNode(b, '/embeddings', 'Add', [we, torchNode(b, '/embeddings/token_type_embeddings', 'Gather', [table, types], { axis: 0 })]);
    }
    const sh = torchNode(b, '/embeddings', 'Shape', [ids]);
    const len = torchNode(b, '/embeddings', 'Gather', [sh, torchConstant(b, '/embeddings', i64([1], []))], { axis: 0 });
    const end = torchNode(b, '/embeddings', 'Unsqueeze', [len, torchConstant(b, '/embeddings', i64([0]))]);
    const sl = torchNode(b, '/embeddings', 'Slice', [posIds, torchConstant(b, '/embeddings', i64([0])), end, torchConstant(b, '/embeddings', i64([1])), torchConstant(b, '/embeddings', i64([1]))]);
    const pe = torchNode(b, '/embeddings/position_embeddings', 'Gather', [pos, sl], { axis: 0 });
    x = layerNorm(torchNode(b, '/embeddings', 'Add', [we, pe]), 'embeddings.LayerNorm');
  } else {
    x = b.input('src', 'float32', ['batch_size', 'sequence', D]);
    if (opts.attentionMask) mask = b.input('attention_mask', 'int64', ['batch_size', 'sequence']);
  }
  // BertModel.get_extended_attention_mask: (1 - mask[:, None, None, :]) * finfo(float32).min
  let extended: string | undefined;
  if (mask) {
    const u1 = torchNode(b, '', 'Unsqueeze', [mask, torchConstant(b, '', i64([1]))]);
    const u2 = torchNode(b, '', 'Unsqueeze', [u1, torchConstant(b, '', i64([2]))]);
    const cast = torchNode(b, '', 'Cast', [u2], { to: 1 });
    const inv = torchNode(b, '', 'Sub', [torchConstant(b, '', f32([1], [])), cast]);
    extended = torchNode(b, '', 'Mul', [inv, torchConstant(b, '', f32([-3.4028234663852886e38], []))]);
  }

  for (let l = 0; l < L; l++) {
    const m = `encoder.layer.${l}`;
    const att = `/encoder/layer.${l}/attention/self`;
    const heads = (name: string, perm: number[]): string => {
      const p = linear(x, `${m}.attention.self.${name}`, D, D);
      const r = torchNode(b, att, 'Reshape', [p, shapeOf(x, att, [H, Dh])]);
      return torchNode(b, att, 'Transpose', [r], { perm });
    };
    const q = heads('query', [0, 2, 1, 3]);
    const kT = heads('key', [0, 2, 3, 1]);
    const v = heads('value', [0, 2, 1, 3]);
    const scores = torchNode(b, att, 'MatMul', [q, kT]);
    const scaled = torchNode(b, att, 'Div', [scores, torchConstant(b, att, f32([Math.sqrt(Dh)], []))]);
    const probs = torchNode(b, att, 'Softmax', [extended ? torchNode(b, att, 'Add', [scaled, extended]) : scaled], { axis: -1 });
    const ctx = torchNode(b, att, 'Transpose', [torchNode(b, att, 'MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
    const merged = torchNode(b, att, 'Reshape', [ctx, shapeOf(x, att, [D])]);
    const attOut = linear(merged, `${m}.attention.output.dense`, D, D, 0.5);
    const h1 = layerNorm(torchNode(b, `/encoder/layer.${l}/attention/output`, 'Add', [attOut, x]), `${m}.attention.output.LayerNorm`);
    let f = linear(h1, `${m}.intermediate.dense`, D, F);
    const actScope = `/encoder/layer.${l}/intermediate/intermediate_act_fn`;
    if ((opts.activation ?? 'gelu') === 'gelu') {
      const e = torchNode(b, actScope, 'Erf', [torchNode(b, actScope, 'Div', [f, torchConstant(b, actScope, f32([Math.SQRT2], []))])]);
      const one = torchNode(b, actScope, 'Add', [e, torchConstant(b, actScope, f32([1], []))]);
      f = torchNode(b, actScope, 'Mul', [torchNode(b, actScope, 'Mul', [f, one]), torchConstant(b, actScope, f32([0.5], []))]);
    } else f = torchNode(b, actScope, 'Relu', [f]);
    const ffnOut = linear(f, `${m}.output.dense`, F, D, 0.5);
    x = layerNorm(torchNode(b, `/encoder/layer.${l}/output`, 'Add', [ffnOut, h1]), `${m}.output.LayerNorm`);
  }
  if (!opts.head) {
    b.node('Identity', [x], {}, { name: 'Identity_out', outputNames: ['last_hidden_state'] });
    b.output('last_hidden_state', 'float32', ['batch_size', 'sequence', D]);
  } else if (opts.head === 'question-answering') {
    // BertForQuestionAnswering: logits.split(1, dim=-1), each squeeze(-1)
    const scores = linear(x, 'qa_outputs', D, 2, opts.classifierGain ?? 1);
    const [start, end] = b.nodeOutputs('Split', [scores, torchConstant(b, '', i64([1, 1]))], { axis: -1 }, { name: '/Split', outputNames: ['/Split_output_0', '/Split_output_1'] });
    ['start_logits', 'end_logits'].forEach((name, k) => {
      torchNode(b, '', 'Squeeze', [[start!, end!][k]!, torchConstant(b, '', i64([-1]))], {}, { outputName: name });
      b.output(name, 'float32', ['batch_size', 'sequence']);
    });
  } else {
    const N = opts.numLabels ?? 2;
    const gain = opts.classifierGain ?? 1;
    let logits: string;
    let dims: (string | number)[];
    if (opts.head === 'sequence-classification') {
      // BertPooler: hidden_states[:, 0] → dense → tanh; nn.Linear on 2-D input exports as Gemm(transB=1)
      const gemm = (y: string, mod: string, dout: number, g: number): string => {
        const w = b.initializer(`${mod}.weight`, f32(normal(rng, dout * D, g / Math.sqrt(D)), [dout, D]));
        const bias = b.initializer(`${mod}.bias`, f32(normal(rng, dout, 0.02), [dout]));
        return torchNode(b, `/${mod.replace(/\.(?=[A-Za-z])/g, '/')}`, 'Gemm', [y, w, bias], { alpha: 1, beta: 1, transB: 1 }, { floatAttrs: ['alpha', 'beta'] });
      };
      const first = torchNode(b, '/bert/pooler', 'Gather', [x, torchConstant(b, '/bert/pooler', i64([0], []))], { axis: 1 });
      const pooled = torchNode(b, '/bert/pooler/activation', 'Tanh', [gemm(first, 'bert.pooler.dense', D, 1)]);
      logits = gemm(pooled, 'classifier', N, gain);
      dims = ['batch_size', N];
    } else if (opts.head === 'token-classification') {
      logits = linear(x, 'classifier', D, N, gain);
      dims = ['batch_size', 'sequence', N];
    } else {
      if (!opts.vocab) throw new RangeError('torchTransformerEncoder: a masked-lm head needs vocab');
      const scope = '/cls/predictions/transform/transform_act_fn';
      const t = linear(x, 'cls.predictions.transform.dense', D, D);
      const e = torchNode(b, scope, 'Erf', [torchNode(b, scope, 'Div', [t, torchConstant(b, scope, f32([Math.SQRT2], []))])]);
      const act = torchNode(b, scope, 'Mul', [torchNode(b, scope, 'Mul', [t, torchNode(b, scope, 'Add', [e, torchConstant(b, scope, f32([1], []))])]), torchConstant(b, scope, f32([0.5], []))]);
      logits = linear(layerNorm(act, 'cls.predictions.transform.LayerNorm'), 'cls.predictions.decoder', D, opts.vocab, gain);
      dims = ['batch_size', 'sequence', opts.vocab];
    }
    b.node('Identity', [logits], {}, { name: 'Identity_out', outputNames: ['logits'] });
    b.output('logits', 'float32', dims);
  }
  return b.model([{ domain: '', version: opset }], { irVersion: 8, producerName: 'pytorch', producerVersion: '2.1.0' });
}
