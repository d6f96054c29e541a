/**
 * The JSON files of a Transformers.js model folder for a decoder LM: `config.json` (model_type
 * gpt2, so Transformers.js picks GPT2LMHeadModel, or llama for a GroupQueryAttention decoder, with
 * the sizes read from the ONNX graph), `generation_config.json` and `tokenizer_config.json`.
 * Browser-safe.
 */
import type { Graph, Model } from '@whittle/graph';
import { type FusedAttentionShape, fusedAttentionShape, headTiedToEmbedding } from './decoder_attention.js';
import { LayoutError } from './errors.js';

/** Sizes of a decoder as its ONNX graph states them. */
export interface DecoderShape {
  layers: number;
  /** Heads of the KV cache (the past inputs' dim 1): the key/value heads. */
  heads: number;
  headDim: number;
  /**
   * Query and key/value heads and rotary positions from GroupQueryAttention nodes (onnxruntime-genai's
   * model-builder layout), when the graph has them.
   */
  attention?: FusedAttentionShape | undefined;
  /** Whether the LM head reads the token embedding table (tie_word_embeddings). */
  tiedEmbeddings?: boolean | undefined;
  /** Width of the token embedding (query heads × headDim when the table is not found). */
  hidden: number;
  vocab: number;
  /** Rows of the learned position table or of the rotary caches, when the graph has them. */
  maxPositions: number | undefined;
  /**
   * Query heads when the graph has no learned position table (rotary positions computed in the
   * graph, as Optimum exports Llama / Qwen2 / SmolLM): GroupQueryAttention's num_heads, else
   * hidden / head_dim. Such a decoder is written as model_type llama.
   */
  queryHeads?: number | undefined;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

function allGraphs(g: Graph): Graph[] {
  const out = [g];
  for (const n of g.nodes) for (const a of n.attributes.values()) if (a.type === 'graph') out.push(...allGraphs(a.value));
  return out;
}

/** Rows and width of the initializer a Gather on `indices` (an input name) reads, in any (sub)graph. */
export function gatherTable(model: Model, indices: string): readonly number[] | undefined {
  return gatherTableOf(model, indices)?.shape;
}

function gatherTableOf(model: Model, indices: string): { name: string; shape: readonly number[] } | undefined {
  for (const g of allGraphs(model.graph)) {
    const n = g.nodes.find((x) => x.opType === 'Gather' && x.inputs[1] === indices);
    const t = n ? (g.initializers.get(n.inputs[0]!) ?? model.graph.initializers.get(n.inputs[0]!)) : undefined;
    if (t?.shape.length === 2) return { name: n!.inputs[0]!, shape: t.shape };
  }
  return undefined;
}

/**
 * Read a decoder's sizes from its graph: layers and heads from the `past_key_values.N.key`
 * inputs ([batch, heads, past, head_dim]), the vocabulary from the `logits` output or the token
 * table, the position table from a `Gather` on `position_ids` or an initializer named like one
 * (`wpe`, `position_embeddings`); with GroupQueryAttention, the query heads from its num_heads
 * (its kv_num_heads must be the cache's heads) and the positions from its rotary caches' rows.
 * `what` names the model in errors.
 */
export function decoderShapeOf(model: Model, what = 'the model'): DecoderShape {
  const pasts = model.graph.inputs.filter((i) => PAST.test(i.name));
  if (!pasts.length) throw new LayoutError(`${what} has no past_key_values.N.key/value inputs: Transformers.js runs decoder LMs exported with a KV cache (Optimum's layout, e.g. 'optimum-cli export onnx --task text-generation-with-past')`);
  const layers = new Set(pasts.map((i) => Number(PAST.exec(i.name)![1]))).size;
  const shape = pasts[0]!.type?.kind === 'tensor' ? pasts[0]!.type.shape : undefined;
  const heads = shape?.[1];
  const headDim = shape?.[3];
  if (typeof heads !== 'number' || typeof headDim !== 'number') throw new LayoutError(`${what}: input '${pasts[0]!.name}' must be [batch, heads, past, head_dim] with fixed heads and head_dim`);
  const table = gatherTableOf(model, 'input_ids');
  const tok = table?.shape;
  const logits = model.graph.outputs.find((o) => o.name === 'logits') ?? model.graph.outputs[0];
  const lshape = logits?.type?.kind === 'tensor' ? logits.type.shape : undefined;
  const lastDim = lshape?.[lshape.length - 1];
  const vocab = typeof lastDim === 'number' ? lastDim : tok?.[0];
  if (vocab === undefined) throw new LayoutError(`${what}: the vocabulary size is not in the graph (no fixed last dim of '${logits?.name ?? 'logits'}', no Gather of input_ids on a table); give it with --vocab-size`);
  const attention = fusedAttentionShape(model, what);
  if (attention && attention.kvHeads !== heads) throw new LayoutError(`${what}: GroupQueryAttention kv_num_heads ${attention.kvHeads} differs from the ${heads} heads of input '${pasts[0]!.name}'`);
  const learned = positionTable(model);
  const hidden = tok?.[1] ?? (attention?.queryHeads ?? heads) * headDim;
  // no learned positions: a Llama-family decoder, whose query heads (more than the cache's with
  // grouped KV heads) span the hidden width
  const queryHeads = attention?.queryHeads ?? (!learned && hidden % headDim === 0 ? hidden / headDim : undefined);
  return {
    layers, heads, headDim, hidden, vocab, maxPositions: learned?.[0] ?? attention?.rotaryPositions,
    ...(attention ? { attention } : {}), ...(queryHeads !== undefined ? { queryHeads } : {}), tiedEmbeddings: headTiedToEmbedding(model, table?.name, logits?.name),
  };
}

/**
 * Rows and width of the learned position table: the table a `Gather` on `position_ids` reads, or
 * a 2-D initializer named like one (`wpe`, `position_embeddings`, `embed_positions`).
 */
export function positionTable(model: Model): readonly number[] | undefined {
  const pos = gatherTable(model, 'position_ids');
  if (pos) return pos;
  return [...model.graph.initializers].find(([n, t]) => /(^|[._])(wpe|position_embeddings?|embed_positions)([._]|$)/.test(n) && t.shape.length === 2)?.[1].shape;
}

/** Special tokens of a tokenizer.json (`added_tokens` marked special), by content. */
export function tokenizerSpecials(tokenizerJson: unknown): Map<string, number> {
  const t = typeof tokenizerJson === 'string' ? (JSON.parse(tokenizerJson) as unknown) : tokenizerJson;
  const added = (t as { added_tokens?: unknown } | null)?.added_tokens;
  const out = new Map<string, number>();
  if (Array.isArray(added)) for (const a of added as { content?: unknown; id?: unknown; special?: unknown }[]) if (a.special && typeof a.content === 'string' && typeof a.id === 'number') out.set(a.content, a.id);
  return out;
}

const EOS = ['<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>', '[SEP]'];
const BOS = ['<|startoftext|>', '<s>', '<bos>', '<|begin_of_text|>', '[CLS]'];
const PAD = ['<pad>', '[PAD]', '<|pad|>', '<|padding|>'];
const UNK = ['<unk>', '[UNK]', '<|unk|>'];

/** Options of {@link transformersJsFiles}. */
export interface TransformersJsFilesOptions {
  /** tokenizer.json content (parsed or text): its special tokens give bos/eos/pad. */
  tokenizer: unknown;
  /** A tokenizer_config.json to copy instead of the one written. */
  tokenizerConfig?: Record<string, unknown> | undefined;
  /** Ids overriding the tokenizer's. */
  bosTokenId?: number | undefined;
  eosTokenId?: number | undefined;
  /** The longest context (default: the position table's rows, else 1024). */
  maxPositions?: number | undefined;
  /** `use_external_data_format` entries: file name (e.g. 'model_fp16.onnx') → chunks. */
  externalData?: Record<string, number> | undefined;
  /** Transformers.js dtype to load when the caller gives none (e.g. 'q4'). */
  defaultDtype?: string | undefined;
}

/** The three JSON files, as objects. */
export interface TransformersJsFiles {
  config: Record<string, unknown>;
  generationConfig: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/**
 * config.json, generation_config.json and tokenizer_config.json of a GPT-2-compatible folder:
 * GPT-2's field names (n_layer, n_head, n_embd, n_positions) and the generic ones
 * (num_hidden_layers, …), bos/eos from the tokenizer's special tokens, and a
 * `transformers.js_config` with the default dtype and external data files. A decoder with
 * GroupQueryAttention, or without a learned position table (rotary positions, Optimum's Llama /
 * Qwen2 exports), gets model_type llama instead: Transformers.js sizes a llama cache by
 * num_key_value_heads × head_dim (GPT-2's by n_embd / n_head, wrong when the cache has fewer
 * heads than the queries), and feeds position_ids only when the graph takes them.
 */
export function transformersJsFiles(shape: DecoderShape, o: TransformersJsFilesOptions): TransformersJsFiles {
  const specials = tokenizerSpecials(o.tokenizer);
  const first = (names: readonly string[]): [string, number] | undefined => {
    for (const n of names) if (specials.has(n)) return [n, specials.get(n)!];
    return undefined;
  };
  const eos = o.eosTokenId !== undefined ? ([[...specials].find(([, id]) => id === o.eosTokenId)?.[0], o.eosTokenId] as const) : first(EOS);
  const bos = o.bosTokenId !== undefined ? ([[...specials].find(([, id]) => id === o.bosTokenId)?.[0], o.bosTokenId] as const) : (first(BOS) ?? eos);
  const pad = first(PAD);
  const unk = first(UNK);
  for (const [k, v] of [['bosTokenId', o.bosTokenId], ['eosTokenId', o.eosTokenId]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0 || v >= shape.vocab)) throw new LayoutError(`${k} ${v} is outside the vocabulary of ${shape.vocab}`);
  }
  const maxPositions = o.maxPositions ?? shape.maxPositions ?? 1024;
  const tjs: Record<string, unknown> = {};
  if (o.defaultDtype) tjs.dtype = o.defaultDtype;
  if (o.externalData && Object.keys(o.externalData).length) tjs.use_external_data_format = o.externalData;
  const ids: Record<string, number> = {};
  if (bos) ids.bos_token_id = bos[1];
  if (eos) ids.eos_token_id = eos[1];
  if (pad) ids.pad_token_id = pad[1];
  const common = {
    use_cache: true,
    ...ids,
    ...(Object.keys(tjs).length ? { 'transformers.js_config': tjs } : {}),
  };
  const config: Record<string, unknown> = shape.queryHeads !== undefined ? {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: shape.vocab,
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.queryHeads,
    num_key_value_heads: shape.heads,
    head_dim: shape.headDim,
    max_position_embeddings: maxPositions,
    tie_word_embeddings: shape.tiedEmbeddings ?? false,
    ...common,
  } : {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: shape.vocab,
    n_layer: shape.layers,
    n_head: shape.heads,
    n_embd: shape.hidden,
    n_positions: maxPositions,
    n_ctx: maxPositions,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    hidden_size: shape.hidden,
    head_dim: shape.headDim,
    max_position_embeddings: maxPositions,
    ...common,
  };
  const tok = (x: readonly [string | undefined, number] | undefined): string | undefined => x?.[0];
  const tokenizerConfig = o.tokenizerConfig ?? {
    tokenizer_class: 'GPT2Tokenizer',
    model_max_length: maxPositions,
    add_bos_token: false,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    ...(tok(bos) ? { bos_token: tok(bos) } : {}),
    ...(tok(eos) ? { eos_token: tok(eos) } : {}),
    ...(tok(unk) ? { unk_token: tok(unk) } : {}),
    ...(tok(pad) ? { pad_token: tok(pad) } : {}),
  };
  return { config, generationConfig: { ...ids, max_length: maxPositions }, tokenizerConfig };
}
