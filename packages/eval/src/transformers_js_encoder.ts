/**
 * The JSON files of a Transformers.js model folder for a text encoder (BERT-like, run with the
 * `feature-extraction` pipeline): which kind of text model a graph is, the encoder's sizes as
 * the graph states them, and `config.json` (model_type bert, so Transformers.js picks BertModel)
 * with `tokenizer_config.json`. Browser-safe.
 */
import { type Model, inferValueTypes, opsetVersion } from '@whittle/graph';
import { LayoutError } from './errors.js';
import { gatherTable, positionTable, tokenizerSpecials } from './transformers_js_config.js';

/** A decoder LM with a KV cache, or a text encoder. */
export type TextModelKind = 'decoder' | 'encoder';

/** The inputs Transformers.js feeds a text encoder (`encoder_forward`: the tokenizer's outputs, token types zero-filled). */
export const TRANSFORMERS_JS_ENCODER_INPUTS: readonly string[] = ['input_ids', 'attention_mask', 'token_type_ids'];
/** Encoder outputs the feature-extraction pipeline reads, in its order of preference (after `logits`, a head's output). */
export const TRANSFORMERS_JS_ENCODER_OUTPUTS: readonly string[] = ['last_hidden_state', 'token_embeddings'];

const PAST = /^past_key_values\.\d+\.(key|value)$/;

/**
 * Which text model Transformers.js would run: a decoder when the graph has
 * `past_key_values.N.key/value` inputs, an encoder when it has `input_ids` and no cache; throws
 * {@link LayoutError} naming the inputs otherwise. `what` names the model in errors.
 */
export function textModelKind(model: Model, what = 'the model'): TextModelKind {
  const names = model.graph.inputs.map((i) => i.name);
  if (names.some((n) => PAST.test(n))) return 'decoder';
  if (names.includes('input_ids')) return 'encoder';
  throw new LayoutError(
    `${what} has no past_key_values.N.key/value inputs (a decoder LM exported with a KV cache, e.g. 'optimum-cli export onnx --task text-generation-with-past') and no input_ids input (a text encoder such as BERT, 'optimum-cli export onnx --task feature-extraction'); its inputs are ${names.map((n) => `'${n}'`).join(', ') || 'none'}`,
  );
}

/** Sizes of a text encoder as its ONNX graph states them (undefined: not found in the graph). */
export interface EncoderShape {
  /** Whether the graph takes `attention_mask` / `token_type_ids` (it always takes `input_ids`). */
  attentionMask: boolean;
  tokenTypes: boolean;
  /** The hidden-state output the feature-extraction pipeline reads. */
  output: string;
  hidden: number | undefined;
  vocab: number | undefined;
  layers: number | undefined;
  heads: number | undefined;
  /** Width of the feed-forward layer. */
  intermediate: number | undefined;
  /** Rows of the learned position table. */
  maxPositions: number | undefined;
  /** Rows of the token type table. */
  typeVocab: number | undefined;
  /** 'gelu' (Erf or a Gelu op), 'relu', or undefined. */
  activation: string | undefined;
}

const mostCommon = (xs: readonly number[]): number | undefined => {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
};

/** Attention layers and heads: fused com.microsoft attention ops, else the Softmax nodes over [batch, heads, query, key] scores. */
function attention(model: Model): { layers: number | undefined; heads: number | undefined } {
  const g = model.graph;
  const fused = g.nodes.filter((n) => n.opType === 'Attention' || n.opType === 'MultiHeadAttention');
  if (fused.length) {
    const heads = fused.map((n) => n.attributes.get('num_heads')).map((a) => (a?.type === 'int' ? Number(a.value) : NaN)).filter(Number.isFinite);
    return { layers: fused.length, heads: mostCommon(heads) };
  }
  const softmax = g.nodes.filter((n) => n.opType === 'Softmax');
  if (!softmax.length) return { layers: undefined, heads: undefined };
  const { types } = inferValueTypes(g, { opset: opsetVersion(model) ?? 21 });
  const heads: number[] = [];
  for (const n of softmax) {
    const t = types.get(n.inputs[0]!);
    const shape = t?.kind === 'tensor' ? t.shape : undefined;
    if (shape?.length === 4 && typeof shape[1] === 'number') heads.push(shape[1]);
  }
  return heads.length ? { layers: heads.length, heads: mostCommon(heads) } : { layers: undefined, heads: undefined };
}

/** The feed-forward width: F where weights [D, F] and [F, D] (F ≠ D) both multiply activations. */
function intermediate(model: Model, hidden: number | undefined): number | undefined {
  if (hidden === undefined) return undefined;
  const g = model.graph;
  const pairs: [number, number][] = [];
  for (const n of g.nodes) {
    if (n.opType !== 'MatMul' && n.opType !== 'Gemm') continue;
    const w = g.initializers.get(n.inputs[1]!);
    if (w?.shape.length !== 2) continue;
    const transB = n.opType === 'Gemm' && n.attributes.get('transB')?.value === 1;
    pairs.push(transB ? [w.shape[1]!, w.shape[0]!] : [w.shape[0]!, w.shape[1]!]);
  }
  const has = (k: number, m: number): boolean => pairs.some(([a, b]) => a === k && b === m);
  return mostCommon(pairs.filter(([k, m]) => k === hidden && m !== hidden && has(m, hidden)).map(([, m]) => m));
}

/**
 * Read a text encoder's sizes from its graph and check Transformers.js can feed it: only
 * `input_ids`, `attention_mask` and `token_type_ids` inputs, all int64, and a hidden-state output
 * named `last_hidden_state` (or `token_embeddings`). Vocabulary and type vocabulary from the
 * tables `Gather`ed by the ids, layers and heads from the attention Softmax scores (or fused
 * attention ops), the feed-forward width from the weights. `what` names the model in errors.
 */
export function encoderShapeOf(model: Model, what = 'the model'): EncoderShape {
  const g = model.graph;
  for (const i of g.inputs) {
    if (!TRANSFORMERS_JS_ENCODER_INPUTS.includes(i.name)) throw new LayoutError(`${what} takes input '${i.name}', which Transformers.js does not feed a text encoder (it feeds ${TRANSFORMERS_JS_ENCODER_INPUTS.join(', ')})`);
    const elem = i.type?.kind === 'tensor' ? i.type.elemType : undefined;
    if (elem !== undefined && elem !== 'int64') throw new LayoutError(`${what}: input '${i.name}' is ${elem}; Transformers.js feeds int64 tensors (export the ids and masks as int64)`);
  }
  const outNames = g.outputs.map((o) => o.name);
  const output = TRANSFORMERS_JS_ENCODER_OUTPUTS.find((n) => outNames.includes(n));
  if (!output) {
    const head = outNames.includes('logits') ? ": 'logits' is a task head's output (classification, masked LM); export the base encoder" : '';
    throw new LayoutError(`${what} has no ${TRANSFORMERS_JS_ENCODER_OUTPUTS.map((n) => `'${n}'`).join(' or ')} output, which the feature-extraction pipeline of Transformers.js reads (outputs: ${outNames.map((n) => `'${n}'`).join(', ')})${head}`);
  }
  const ot = g.outputs.find((o) => o.name === output)!.type;
  const oshape = ot?.kind === 'tensor' ? ot.shape : undefined;
  const oelem = ot?.kind === 'tensor' ? ot.elemType : undefined;
  if (oelem !== undefined && !/^(float16|float32|bfloat16)$/.test(oelem)) throw new LayoutError(`${what}: output '${output}' is ${oelem}; hidden states are floats`);
  if (oshape && oshape.length !== 3) throw new LayoutError(`${what}: output '${output}' has rank ${oshape.length}; hidden states are [batch, sequence, hidden]`);
  const tok = gatherTable(model, 'input_ids');
  const last = oshape?.[2];
  const hidden = typeof last === 'number' ? last : tok?.[1];
  const ops = new Set(g.nodes.map((n) => n.opType));
  const activation = ops.has('Erf') || ops.has('Gelu') || ops.has('BiasGelu') ? 'gelu' : ops.has('Relu') ? 'relu' : undefined;
  return {
    attentionMask: g.inputs.some((i) => i.name === 'attention_mask'),
    tokenTypes: g.inputs.some((i) => i.name === 'token_type_ids'),
    output,
    hidden,
    vocab: tok?.[0],
    ...attention(model),
    intermediate: intermediate(model, hidden),
    maxPositions: positionTable(model)?.[0],
    typeVocab: gatherTable(model, 'token_type_ids')?.[0],
    activation,
  };
}

/** Options of {@link transformersJsEncoderFiles}. */
export interface TransformersJsEncoderFilesOptions {
  /** tokenizer.json content (parsed or text): its special tokens and model type. */
  tokenizer: unknown;
  /** A tokenizer_config.json to copy instead of the one written. */
  tokenizerConfig?: Record<string, unknown> | undefined;
  /** The longest input (default: the position table's rows, else 512). */
  maxPositions?: number | undefined;
  /** `use_external_data_format` entries: file name → chunks. */
  externalData?: Record<string, number> | undefined;
  /** Transformers.js dtype to load when the caller gives none. */
  defaultDtype?: string | undefined;
}

/** BertConfig fields an encoder's config.json states; the ones the graph does not give are left out. */
export const BERT_CONFIG_SIZES: readonly string[] = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size'];

const CLS = ['[CLS]', '<s>', '<cls>'];
const SEP = ['[SEP]', '</s>', '<sep>'];
const PAD = ['[PAD]', '<pad>'];
const UNK = ['[UNK]', '<unk>'];
const MASK = ['[MASK]', '<mask>'];

/** Whether a tokenizer.json normalizer lowercases (BertNormalizer.lowercase, Lowercase, in a Sequence). */
function lowercases(n: unknown): boolean | undefined {
  const x = n as { type?: unknown; lowercase?: unknown; normalizers?: unknown } | null | undefined;
  if (!x) return undefined;
  if (x.type === 'BertNormalizer') return x.lowercase !== false;
  if (x.type === 'Lowercase') return true;
  if (x.type === 'Sequence' && Array.isArray(x.normalizers)) return x.normalizers.map(lowercases).find((v) => v !== undefined);
  return undefined;
}

/**
 * config.json and tokenizer_config.json of a BERT-compatible encoder folder: BertConfig's sizes
 * as the graph gives them (unknown ones left out), pad_token_id from the tokenizer, and a
 * `transformers.js_config` with the default dtype and external data files. A WordPiece
 * tokenizer gets `tokenizer_class: BertTokenizer` (token type ids returned); another keeps
 * Transformers.js' generic tokenizer.
 */
export function transformersJsEncoderFiles(shape: EncoderShape, o: TransformersJsEncoderFilesOptions): { config: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  const tj = (typeof o.tokenizer === 'string' ? JSON.parse(o.tokenizer) : o.tokenizer) as { model?: { type?: unknown }; normalizer?: unknown } | null;
  const specials = tokenizerSpecials(tj);
  const first = (names: readonly string[]): [string, number] | undefined => {
    for (const n of names) if (specials.has(n)) return [n, specials.get(n)!];
    return undefined;
  };
  const maxPositions = o.maxPositions ?? shape.maxPositions ?? 512;
  const pad = first(PAD);
  const tjs: Record<string, unknown> = {};
  if (o.defaultDtype) tjs.dtype = o.defaultDtype;
  if (o.externalData && Object.keys(o.externalData).length) tjs.use_external_data_format = o.externalData;
  const sizes: Record<string, number | string | undefined> = {
    vocab_size: shape.vocab,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.intermediate,
    hidden_act: shape.activation,
    max_position_embeddings: o.maxPositions ?? shape.maxPositions,
    type_vocab_size: shape.typeVocab,
  };
  const config: Record<string, unknown> = {
    architectures: ['BertModel'],
    model_type: 'bert',
    ...Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined)),
    ...(pad ? { pad_token_id: pad[1] } : {}),
    ...(Object.keys(tjs).length ? { 'transformers.js_config': tjs } : {}),
  };
  const tokens: Record<string, string> = {};
  for (const [k, names] of [['cls_token', CLS], ['sep_token', SEP], ['pad_token', PAD], ['unk_token', UNK], ['mask_token', MASK]] as const) {
    const t = first(names);
    if (t) tokens[k] = t[0];
  }
  const lower = lowercases(tj?.normalizer);
  const tokenizerConfig = o.tokenizerConfig ?? {
    ...(tj?.model?.type === 'WordPiece' ? { tokenizer_class: 'BertTokenizer' } : {}),
    model_max_length: maxPositions,
    ...(lower !== undefined ? { do_lower_case: lower } : {}),
    clean_up_tokenization_spaces: true,
    ...tokens,
  };
  return { config, tokenizerConfig };
}
