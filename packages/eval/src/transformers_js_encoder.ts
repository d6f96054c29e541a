/**
 * The JSON files of a Transformers.js model folder for a text encoder (BERT-like): which kind of
 * text model a graph is, the encoder's sizes and task head as the graph states them, and
 * `config.json` (model_type bert, so Transformers.js picks BertModel or the Bert head class of the
 * pipeline: feature-extraction, text-classification, token-classification, fill-mask,
 * question-answering) with `tokenizer_config.json`. Browser-safe.
 */
import { type Model, type ValueType, inferValueTypes, opsetVersion } from '@whittle/graph';
import { LayoutError } from './errors.js';
import { gatherTable, positionTable, tokenizerSpecials } from './transformers_js_config.js';

/** A decoder LM with a KV cache, or a text encoder. */
export type TextModelKind = 'decoder' | 'encoder';

/** The inputs Transformers.js feeds a text encoder (`encoder_forward`: the tokenizer's outputs, token types zero-filled). */
export const TRANSFORMERS_JS_ENCODER_INPUTS: readonly string[] = ['input_ids', 'attention_mask', 'token_type_ids'];
/** Encoder outputs the feature-extraction pipeline reads, in its order of preference (after `logits`, a head's output). */
export const TRANSFORMERS_JS_ENCODER_OUTPUTS: readonly string[] = ['last_hidden_state', 'token_embeddings'];

/** The outputs of a question answering head (span start and end scores, [batch, sequence] each), which Transformers.js' question-answering pipeline reads. */
export const TRANSFORMERS_JS_QA_OUTPUTS: readonly string[] = ['start_logits', 'end_logits'];

/**
 * The Transformers.js pipeline an encoder folder is for: the base encoder's hidden states
 * (`last_hidden_state`), a head's `logits` — [batch, labels] for text classification,
 * [batch, sequence, labels] for token classification, [batch, sequence, vocabulary] for fill-mask —
 * or a question answering head's `start_logits` and `end_logits` ([batch, sequence] each).
 */
export type EncoderTask = 'feature-extraction' | 'text-classification' | 'token-classification' | 'fill-mask' | 'question-answering';
/** Every {@link EncoderTask}. */
export const ENCODER_TASKS: readonly EncoderTask[] = ['feature-extraction', 'text-classification', 'token-classification', 'fill-mask', 'question-answering'];
/** config.json `architectures` per task (the Hugging Face class the ONNX graph was exported from). */
export const BERT_ARCHITECTURES: Record<EncoderTask, string> = {
  'feature-extraction': 'BertModel',
  'text-classification': 'BertForSequenceClassification',
  'token-classification': 'BertForTokenClassification',
  'fill-mask': 'BertForMaskedLM',
  'question-answering': 'BertForQuestionAnswering',
};
/** Whether the task's head classifies into labels (config.json gets id2label / label2id). */
export const isClassificationTask = (t: EncoderTask): boolean => t === 'text-classification' || t === 'token-classification';

const PAST = /^past_key_values\.\d+\.(key|value)$/;

/**
 * Which text model Transformers.js would run: a decoder when the graph has
 * `past_key_values.N.key/value` inputs, an encoder when it has `input_ids` and no cache; throws
 * {@link LayoutError} naming the inputs otherwise. `what` names the model in errors.
 */
export function textModelKind(model: Model, what = 'the model'): TextModelKind {
  const names = model.graph.inputs.map((i) => i.name);
  if (names.some((n) => PAST.test(n))) return 'decoder';
  const crossAttention = names.filter((n) => n === 'encoder_hidden_states' || /^past_key_values\.\d+\.(decoder|encoder)\./.test(n));
  if (crossAttention.length) {
    throw new LayoutError(
      `${what} is the decoder of an encoder-decoder model (inputs ${crossAttention.slice(0, 2).map((n) => `'${n}'`).join(', ')}${crossAttention.length > 2 ? ', …' : ''}): a single file is written as a decoder-only LM or a text encoder; give the model folder (onnx/encoder_model…, onnx/decoder_model_merged… and its configs) to make the variants of every sub-model`,
    );
  }
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
  /** The pipeline the graph's output feeds. */
  task: EncoderTask;
  /** The output the pipeline reads: the hidden states, the head's `logits`, or a question answering head's `start_logits`. */
  output: string;
  /** Every output the pipeline reads: `[output]`, or `start_logits` and `end_logits` for question answering. */
  outputs: readonly string[];
  /** Classes of a classification head (the logits' last dim); undefined for other tasks. */
  labels: number | undefined;
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

/** Options of {@link encoderShapeOf}. */
export interface EncoderShapeOptions {
  /** The pipeline to write the folder for; default: told by the outputs (see {@link encoderShapeOf}). */
  task?: EncoderTask | undefined;
}

const quoted = (xs: readonly string[]): string => xs.map((n) => `'${n}'`).join(', ') || 'none';

/** The task a `logits` output of this shape feeds and its last dim (labels or vocabulary); throws LayoutError when Transformers.js cannot read it. */
function headOf(shape: readonly (number | string | null)[] | undefined, vocab: number | undefined, task: EncoderTask | undefined, what: string): { task: EncoderTask; last: number } {
  if (!shape) throw new LayoutError(`${what}: the shape of output 'logits' is not in the graph; declare it ([batch, labels] or [batch, sequence, labels])`);
  const last = shape[shape.length - 1];
  const dims = `[${shape.map((d) => d ?? '?').join(', ')}]`;
  if (shape.length !== 2 && shape.length !== 3) throw new LayoutError(`${what}: output 'logits' is ${dims}; Transformers.js reads [batch, labels] (text-classification) or [batch, sequence, labels or vocabulary] (token-classification, fill-mask)`);
  if (typeof last !== 'number' || last <= 0) throw new LayoutError(`${what}: the last dim of output 'logits' ${dims} is symbolic; the number of labels (or the vocabulary) must be fixed in the graph`);
  if (shape.length === 2) {
    if (task && task !== 'text-classification') throw new LayoutError(`${what}: --task ${task} needs logits [batch, sequence, …]; output 'logits' is ${dims}, a sequence classification head (--task text-classification)`);
    return { task: 'text-classification', last };
  }
  if (task === 'text-classification') throw new LayoutError(`${what}: --task text-classification needs logits [batch, labels]; output 'logits' is ${dims}, one row per token (--task token-classification or fill-mask)`);
  if (task === 'fill-mask' && vocab !== undefined && last !== vocab) throw new LayoutError(`${what}: --task fill-mask needs logits over the vocabulary (${vocab} tokens); output 'logits' is ${dims}, a token classification head with ${last} labels (--task token-classification)`);
  if (task) return { task, last };
  if (vocab === undefined) throw new LayoutError(`${what}: output 'logits' is ${dims} and the vocabulary size is not in the graph (no Gather of input_ids on a table), so token classification and masked LM cannot be told apart; give --task token-classification or --task fill-mask`);
  // as many classes as tokens: a masked LM's scores over the vocabulary (--task overrides)
  return { task: last === vocab ? 'fill-mask' : 'token-classification', last };
}

/** A declared output's type, else the inferred one (exporters may leave head outputs' shapes out). */
function outputType(model: Model, name: string): ValueType | null | undefined {
  const g = model.graph;
  const declared = g.outputs.find((x) => x.name === name)?.type;
  if (declared?.kind === 'tensor' && declared.shape) return declared;
  return inferValueTypes(g, { opset: opsetVersion(model) ?? 21 }).types.get(name) ?? declared;
}

/**
 * Check a question answering head: both `start_logits` and `end_logits`, float, [batch, sequence]
 * (one score per token, as the question-answering pipeline reads them); throws LayoutError naming
 * the output otherwise.
 */
function checkQaHead(model: Model, outNames: readonly string[], what: string): void {
  const missing = TRANSFORMERS_JS_QA_OUTPUTS.filter((n) => !outNames.includes(n));
  if (missing.length === TRANSFORMERS_JS_QA_OUTPUTS.length) throw new LayoutError(`${what}: --task question-answering reads a question answering head's 'start_logits' and 'end_logits' outputs; the model's outputs are ${quoted(outNames)}`);
  if (missing.length) {
    const has = TRANSFORMERS_JS_QA_OUTPUTS.find((n) => outNames.includes(n))!;
    throw new LayoutError(`${what} has output '${has}' but no '${missing[0]}' output: a question answering head gives both, [batch, sequence] span start and end scores, and Transformers.js' question-answering pipeline reads both (the model's outputs are ${quoted(outNames)})`);
  }
  const ids = model.graph.inputs.find((i) => i.name === 'input_ids')?.type;
  const seq = ids?.kind === 'tensor' ? ids.shape?.[1] : undefined;
  for (const name of TRANSFORMERS_JS_QA_OUTPUTS) {
    const t = outputType(model, name);
    if (t?.kind !== 'tensor') continue;
    if (t.elemType !== undefined && !/^(float16|float32|bfloat16)$/.test(t.elemType)) throw new LayoutError(`${what}: output '${name}' is ${t.elemType}; a question answering head's span scores are floats`);
    if (!t.shape) continue;
    const dims = `[${t.shape.map((d) => d ?? '?').join(', ')}]`;
    if (t.shape.length !== 2) throw new LayoutError(`${what}: output '${name}' is ${dims}; Transformers.js' question-answering pipeline reads one score per token, [batch, sequence]${t.shape.length === 3 && t.shape[2] === 1 ? ' (squeeze the last axis, as BertForQuestionAnswering does)' : ''}`);
    const len = t.shape[1];
    if (typeof len === 'number' && seq !== undefined && seq !== null && len !== seq) throw new LayoutError(`${what}: output '${name}' is ${dims} but input 'input_ids' is [${ids?.kind === 'tensor' ? (ids.shape ?? []).map((d) => d ?? '?').join(', ') : '?'}]; a question answering head scores every token, [batch, sequence]`);
  }
}

/**
 * Read a text encoder's sizes and task head from its graph and check Transformers.js can feed
 * it: only `input_ids`, `attention_mask` and `token_type_ids` inputs, all int64 (Transformers.js'
 * encoder_forward feeds no `position_ids`). The task: `options.task`, else question-answering when
 * the graph has a `start_logits` or `end_logits` output (both are needed, [batch, sequence] each),
 * else a head's when it has a `logits` output (rank 2: text-classification; rank 3: fill-mask when
 * its last dim is the vocabulary, else token-classification), else feature-extraction reading
 * `last_hidden_state` (or `token_embeddings`). Vocabulary and type vocabulary from the tables
 * `Gather`ed by the ids, layers and heads from the attention Softmax scores (or fused attention
 * ops), the feed-forward width from the weights. `what` names the model in errors.
 */
export function encoderShapeOf(model: Model, what = 'the model', options: EncoderShapeOptions = {}): EncoderShape {
  const g = model.graph;
  for (const i of g.inputs) {
    if (i.name === 'position_ids') throw new LayoutError(`${what} takes input 'position_ids', which Transformers.js does not feed a text encoder (its encoder_forward passes only the tokenizer's ${TRANSFORMERS_JS_ENCODER_INPUTS.join(', ')}); export the model without it (BertModel counts positions itself when none are given)`);
    if (!TRANSFORMERS_JS_ENCODER_INPUTS.includes(i.name)) throw new LayoutError(`${what} takes input '${i.name}', which Transformers.js does not feed a text encoder (it feeds ${TRANSFORMERS_JS_ENCODER_INPUTS.join(', ')})`);
    const elem = i.type?.kind === 'tensor' ? i.type.elemType : undefined;
    if (elem !== undefined && elem !== 'int64') throw new LayoutError(`${what}: input '${i.name}' is ${elem}; Transformers.js feeds int64 tensors (export the ids and masks as int64)`);
    const rank = i.type?.kind === 'tensor' ? i.type.shape?.length : undefined;
    if (rank !== undefined && rank !== 2) throw new LayoutError(`${what}: input '${i.name}' has rank ${rank}; Transformers.js feeds [batch, sequence] (multiple-choice heads, [batch, choices, sequence], are not supported)`);
  }
  const outNames = g.outputs.map((o) => o.name);
  const task = options.task;
  const hasLogits = outNames.includes('logits');
  const tok = gatherTable(model, 'input_ids');
  let output: string;
  let head: { task: EncoderTask; last: number | undefined } | undefined;
  if (task === 'question-answering' || (!task && TRANSFORMERS_JS_QA_OUTPUTS.some((n) => outNames.includes(n)))) {
    checkQaHead(model, outNames, what);
    output = TRANSFORMERS_JS_QA_OUTPUTS[0]!;
    head = { task: 'question-answering', last: undefined };
  } else if (task === 'feature-extraction' || (!task && !hasLogits)) {
    const found = TRANSFORMERS_JS_ENCODER_OUTPUTS.find((n) => outNames.includes(n));
    if (!found) {
      const spans = TRANSFORMERS_JS_QA_OUTPUTS.filter((n) => outNames.includes(n));
      const qa = spans.length ? `; ${quoted(spans)} ${spans.length === 1 ? 'is' : 'are'} a question answering head's (--task question-answering)` : '';
      throw new LayoutError(`${what} has no ${TRANSFORMERS_JS_ENCODER_OUTPUTS.map((n) => `'${n}'`).join(' or ')} output, which the feature-extraction pipeline of Transformers.js reads, and no task head 'logits' (outputs: ${quoted(outNames)})${qa}`);
    }
    output = found;
  } else {
    if (!hasLogits) throw new LayoutError(`${what}: --task ${task} reads a head's 'logits' output; the model's outputs are ${quoted(outNames)}`);
    const lt = outputType(model, 'logits');
    const lelem = lt?.kind === 'tensor' ? lt.elemType : undefined;
    if (lelem !== undefined && !/^(float16|float32|bfloat16)$/.test(lelem)) throw new LayoutError(`${what}: output 'logits' is ${lelem}; a head's scores are floats`);
    head = headOf(lt?.kind === 'tensor' ? lt.shape : undefined, tok?.[0], task, what);
    output = 'logits';
  }
  const ot = g.outputs.find((o) => o.name === output)!.type;
  const oshape = ot?.kind === 'tensor' ? ot.shape : undefined;
  const oelem = ot?.kind === 'tensor' ? ot.elemType : undefined;
  if (!head) {
    if (oelem !== undefined && !/^(float16|float32|bfloat16)$/.test(oelem)) throw new LayoutError(`${what}: output '${output}' is ${oelem}; hidden states are floats`);
    if (oshape && oshape.length !== 3) throw new LayoutError(`${what}: output '${output}' has rank ${oshape.length}; hidden states are [batch, sequence, hidden]`);
  }
  const last = head ? undefined : oshape?.[2];
  const hidden = typeof last === 'number' ? last : tok?.[1];
  const ops = new Set(g.nodes.map((n) => n.opType));
  const activation = ops.has('Erf') || ops.has('Gelu') || ops.has('BiasGelu') ? 'gelu' : ops.has('Relu') ? 'relu' : undefined;
  const headTask = head?.task ?? 'feature-extraction';
  return {
    attentionMask: g.inputs.some((i) => i.name === 'attention_mask'),
    tokenTypes: g.inputs.some((i) => i.name === 'token_type_ids'),
    task: headTask,
    output,
    outputs: headTask === 'question-answering' ? TRANSFORMERS_JS_QA_OUTPUTS : [output],
    labels: head && isClassificationTask(headTask) ? head.last : undefined,
    hidden,
    vocab: tok?.[0] ?? (headTask === 'fill-mask' ? head?.last : undefined),
    ...attention(model),
    intermediate: intermediate(model, hidden),
    maxPositions: positionTable(model)?.[0],
    typeVocab: gatherTable(model, 'token_type_ids')?.[0],
    activation,
  };
}

/** `LABEL_0` … `LABEL_{n-1}`: Hugging Face's names for classes nobody named. */
export const defaultLabels = (n: number): string[] => Array.from({ length: n }, (_, i) => `LABEL_${i}`);

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
  /** Class names of a classification head, by index (default {@link defaultLabels}). */
  labels?: readonly string[] | undefined;
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
 * config.json and tokenizer_config.json of a BERT-compatible encoder folder: the Bert class of
 * the task in `architectures`, BertConfig's sizes as the graph gives them (unknown ones left
 * out), `id2label` / `label2id` for a classification head, pad_token_id from the tokenizer, and a
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
  let labels: Record<string, unknown> = {};
  if (shape.labels !== undefined && isClassificationTask(shape.task)) {
    const names = o.labels ?? defaultLabels(shape.labels);
    if (names.length !== shape.labels) throw new LayoutError(`${names.length} labels given for a head with ${shape.labels} classes`);
    labels = { id2label: Object.fromEntries(names.map((n, i) => [String(i), n])), label2id: Object.fromEntries(names.map((n, i) => [n, i])) };
  }
  const config: Record<string, unknown> = {
    architectures: [BERT_ARCHITECTURES[shape.task]],
    model_type: 'bert',
    ...Object.fromEntries(Object.entries(sizes).filter(([, v]) => v !== undefined)),
    ...labels,
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
