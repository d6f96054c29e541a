/**
 * Raw text tokenized with a Hugging Face `tokenizer.json` (through `@huggingface/tokenizers`) into
 * fixed-length windows of `input_ids` with their `attention_mask` (and `token_type_ids`,
 * `position_ids` when the model takes them). Browser-safe: the tokenizer is given as its JSON
 * (object or text). A document is a line (read line by line through {@link DataFiles}, so a large
 * corpus is never held whole) or a whole file (read whole, newlines kept: the token stream a
 * decoder was trained on, what language-model perplexity is measured on).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { type DType, allocStorage } from '@whittle/tensor';
import { dtypeOfElemType } from './arrays.js';
import { DataError } from './errors.js';
import { type DataFiles, baseName, readLines } from './files.js';
import type { DataArray, DataChunk, DataSource, ModelInputSpec } from './source.js';

/** How documents become windows. */
export type TextMode = 'pack' | 'lines';

/** What one document is: a non-empty line, or a whole file. */
export type TextUnit = 'line' | 'file';

/** Units {@link TextSourceOptions.unit} accepts. */
export const TEXT_UNITS: readonly TextUnit[] = ['line', 'file'];

/** Options of {@link textSource}. */
export interface TextSourceOptions {
  /** The tokenizer: the content of a `tokenizer.json` (parsed or as JSON text). */
  tokenizer: unknown;
  /** The content of `tokenizer_config.json`, when there is one (parsed or as JSON text). */
  tokenizerConfig?: unknown;
  /** Tokens per window (default: the model's fixed sequence length, else 128). */
  length?: number | undefined;
  /** Tokens from one window's start to the next (default: `length`, no overlap). */
  stride?: number | undefined;
  /**
   * 'pack' (default): documents are tokenized, joined (with the tokenizer's end-of-text /
   * separator token between them when it has one) and cut into windows, the last one padded.
   * 'lines': every document is its own sample, windowed when longer than `length`, padded when
   * shorter.
   */
  mode?: TextMode | undefined;
  /**
   * What a document is. 'line' (default): every non-empty line, for classification / embedding
   * data with one sample a line. 'file': every file whole, newlines kept and tokenized as-is, and
   * when packed each followed by the end-of-text token (GPT-2-style training data, what
   * wikitext-style perplexity scores); a file is held in memory while it is tokenized.
   */
  unit?: TextUnit | undefined;
  /** Add the tokenizer's special tokens ([CLS] … [SEP], BOS) to each document (default: true for 'lines', false for 'pack'). */
  addSpecialTokens?: boolean | undefined;
  /** Model input names, where they are not `input_ids` / `attention_mask` / `token_type_ids` / `position_ids`. */
  inputIds?: string | undefined;
  attentionMask?: string | undefined;
  tokenTypeIds?: string | undefined;
}

/** A tokenizer ready to encode, with the ids windows are padded and joined with. */
export interface TextTokenizer {
  /** Token ids of a text (with the special tokens when `special`) and their type ids. */
  encode(text: string, special: boolean): { ids: number[]; typeIds: number[] };
  /** Id padding is written with (tokenizer.json `padding.pad_id`, else a pad-like token, else the end-of-text token, else 0). */
  padId: number;
  /** Id joining packed documents (an end-of-text / separator token), when the tokenizer has one. */
  separatorId: number | undefined;
  /** Model type of the tokenizer (BPE, WordPiece, Unigram, …) and its vocabulary size, for descriptions. */
  kind: string;
  vocabSize: number;
}

function parseJson(v: unknown, what: string, file: string | undefined): Record<string, unknown> {
  let o = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v);
    } catch (e) {
      throw new DataError(`${what} is not JSON: ${(e as Error).message}`, { file }, { cause: e });
    }
  } else if (v instanceof Uint8Array) return parseJson(new TextDecoder().decode(v), what, file);
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new DataError(`${what} must be a JSON object`, { file });
  return o as Record<string, unknown>;
}

const PAD_TOKENS = ['[PAD]', '<pad>', '<|pad|>', '<|padding|>', '<unk>'];
const SEP_TOKENS = ['<|endoftext|>', '</s>', '<eos>', '<|end_of_text|>', '[SEP]'];

/**
 * A {@link TextTokenizer} from `tokenizer.json` content (and optionally `tokenizer_config.json`).
 * `file` names the tokenizer in errors.
 */
export function loadTextTokenizer(json: unknown, config?: unknown, file?: string): TextTokenizer {
  const tj = parseJson(json, 'the tokenizer', file);
  if (typeof tj.model !== 'object' || tj.model === null) throw new DataError("not a Hugging Face tokenizer.json: it has no 'model'; save the tokenizer with tokenizer.save('tokenizer.json') (or save_pretrained)", { file });
  const cfg = config === undefined ? {} : parseJson(config, 'the tokenizer config', file);
  let tok: Tokenizer;
  try {
    // tokenizer.json written by hand may leave out the null components the library expects
    tok = new Tokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...tj }, cfg);
  } catch (e) {
    throw new DataError(`the tokenizer cannot be loaded: ${(e as Error).message}`, { file }, { cause: e });
  }
  const idOf = (t: string): number | undefined => tok.token_to_id(t);
  const padding = tj.padding as { pad_id?: unknown } | null | undefined;
  const cfgPad = typeof cfg.pad_token === 'string' ? idOf(cfg.pad_token) : undefined;
  const sep = SEP_TOKENS.map(idOf).find((x) => x !== undefined);
  const padId = (typeof padding?.pad_id === 'number' ? padding.pad_id : undefined) ?? cfgPad ?? PAD_TOKENS.map(idOf).find((x) => x !== undefined) ?? sep ?? 0;
  return {
    encode(text, special) {
      const e = tok.encode(text, { add_special_tokens: special, return_token_type_ids: true });
      return { ids: e.ids, typeIds: (e.token_type_ids as number[] | undefined) ?? new Array<number>(e.ids.length).fill(0) };
    },
    padId,
    separatorId: sep,
    kind: String((tj.model as { type?: unknown }).type ?? 'tokenizer'),
    vocabSize: tok.get_vocab(true).size,
  };
}

/** Which model inputs take what. */
interface TextInputs {
  ids: string;
  mask: string | undefined;
  types: string | undefined;
  positions: string | undefined;
  /** Empty past key/value caches ([1, H, 0, Dh]) and `use_cache_branch` false of decoders exported with a cache. */
  empty: { name: string; shape: number[]; dtype: DType }[];
  dtype: Record<string, DType>;
  /** Fixed sequence length of the ids input, when the model has one. */
  fixedLength: number | undefined;
}

function textInputs(inputs: readonly ModelInputSpec[], opts: TextSourceOptions, where: string): TextInputs {
  const by = (explicit: string | undefined, re: RegExp): string | undefined => {
    if (explicit !== undefined) {
      if (inputs.length && !inputs.some((i) => i.name === explicit)) throw new DataError(`the model has no input '${explicit}' (inputs: ${inputs.map((i) => i.name).join(', ')})`, { file: where });
      return explicit;
    }
    return inputs.find((i) => re.test(i.name))?.name;
  };
  const isInt = (i: ModelInputSpec): boolean => /^u?int/.test(i.elemType ?? '');
  if (!inputs.length) return { ids: opts.inputIds ?? 'input_ids', mask: opts.attentionMask ?? 'attention_mask', types: undefined, positions: undefined, empty: [], dtype: {}, fixedLength: undefined };
  const ids = by(opts.inputIds, /(^|[_.])input_ids$/) ?? inputs.find(isInt)?.name;
  if (!ids) throw new DataError(`text feeds token ids, the model has no integer input (inputs: ${inputs.map((i) => `${i.name} ${i.elemType ?? '?'}`).join(', ')})`, { file: where });
  const mask = by(opts.attentionMask, /attention_mask$/);
  const types = by(opts.tokenTypeIds, /token_type_ids$/);
  const positions = by(undefined, /position_ids$/);
  const used = new Set([ids, mask, types, positions].filter((x): x is string => x !== undefined));
  const empty: TextInputs['empty'] = [];
  const dtype: Record<string, DType> = {};
  for (const i of inputs) dtype[i.name] = dtypeOfElemType(i.elemType) ?? 'int64';
  for (const i of inputs) {
    if (used.has(i.name)) continue;
    if (/past_key_values|^past\b|^past_/.test(i.name) && i.shape?.length === 4 && typeof i.shape[1] === 'number' && typeof i.shape[3] === 'number') {
      empty.push({ name: i.name, shape: [1, 1, i.shape[1], 0, i.shape[3]], dtype: dtype[i.name]! });
    } else if (/use_cache_branch$/.test(i.name) && i.elemType === 'bool') {
      empty.push({ name: i.name, shape: [1, 1], dtype: 'bool' });
    } else {
      throw new DataError(`text feeds token ids (${[...used].join(', ')}); the model also takes '${i.name}', which text cannot fill; give the data as JSONL with that field, or a data spec naming the inputs (inputIds:, attentionMask:)`, { file: where });
    }
  }
  const d1 = inputs.find((i) => i.name === ids)?.shape?.[1];
  return { ids, mask, types, positions, empty, dtype, fixedLength: typeof d1 === 'number' && d1 > 0 ? d1 : undefined };
}

function filled(dtype: DType, values: readonly number[]): DataArray['data'] {
  const a = allocStorage(dtype, values.length);
  if (a instanceof BigInt64Array) values.forEach((v, i) => (a[i] = BigInt(v)));
  else (a as Int32Array).set(values);
  return a;
}

/**
 * Windows of tokenized text as samples: each yields `[1, length]` arrays for the ids, the
 * attention mask (0 on padding), and the token type / position ids when the model takes them.
 * `paths` are text files (UTF-8), read in order.
 */
export function textSource(files: DataFiles, paths: readonly string[], inputs: readonly ModelInputSpec[], opts: TextSourceOptions, tokenizerFile?: string): DataSource {
  const where = paths[0] ?? 'text';
  if (!paths.length) throw new DataError('no text files given');
  const tok = loadTextTokenizer(opts.tokenizer, opts.tokenizerConfig, tokenizerFile);
  const io = textInputs(inputs, opts, where);
  const length = opts.length ?? io.fixedLength ?? 128;
  if (!Number.isInteger(length) || length < 2) throw new DataError(`length must be an integer of at least 2 tokens, got ${JSON.stringify(opts.length)}`, { file: where });
  if (io.fixedLength !== undefined && length !== io.fixedLength) throw new DataError(`input '${io.ids}' takes sequences of ${io.fixedLength} tokens; set length: ${io.fixedLength}`, { file: where });
  const stride = opts.stride ?? length;
  if (!Number.isInteger(stride) || stride < 1 || stride > length) throw new DataError(`stride must be an integer in [1, length = ${length}], got ${JSON.stringify(opts.stride)}`, { file: where });
  const mode = opts.mode ?? 'pack';
  if (mode !== 'pack' && mode !== 'lines') throw new DataError(`mode must be 'pack' or 'lines', got ${JSON.stringify(mode)}`, { file: where });
  const unit = opts.unit ?? 'line';
  if (!TEXT_UNITS.includes(unit)) throw new DataError(`unit must be ${TEXT_UNITS.map((u) => `'${u}'`).join(' or ')}, got ${JSON.stringify(unit)}`, { file: where });
  const special = opts.addSpecialTokens ?? mode === 'lines';
  // packed files: each followed by end-of-text (as the documents of GPT-2-style training data);
  // packed lines: end-of-text only between them
  const sepId = mode === 'pack' && !special ? tok.separatorId : undefined;
  const trailing = unit === 'file';

  /** The documents of one file: its non-empty lines, or its whole text. */
  async function* documents(path: string): AsyncGenerator<string> {
    if (unit === 'file') {
      const text = new TextDecoder().decode(await files.read(path));
      if (text.trim()) yield text;
      return;
    }
    for await (const [, line] of readLines(files, path)) if (line.trim()) yield line;
  }

  const window = (ids: readonly number[], types: readonly number[], file: string, first: number): DataChunk => {
    const n = ids.length;
    const pad = (xs: readonly number[], v: number): number[] => [...xs, ...new Array<number>(length - n).fill(v)];
    const arr = (name: string, values: number[]): DataArray => ({ data: filled(io.dtype[name] ?? 'int64', values), shape: [1, length], dtype: io.dtype[name] ?? 'int64' });
    const out: Record<string, DataArray> = { [io.ids]: arr(io.ids, pad(ids, tok.padId)) };
    if (io.mask) out[io.mask] = arr(io.mask, pad(new Array<number>(n).fill(1), 0));
    if (io.types) out[io.types] = arr(io.types, pad(types, 0));
    if (io.positions) out[io.positions] = arr(io.positions, Array.from({ length }, (_, k) => k));
    for (const e of io.empty) out[e.name] = { data: allocStorage(e.dtype, e.shape.reduce((a, b) => a * b, 1)), shape: e.shape, dtype: e.dtype };
    return { inputs: out, count: 1, file, first };
  };

  const names = paths.map(baseName).join(', ');
  const sep = sepId === undefined ? '' : trailing ? `, each followed by token ${sepId}` : ` joined by token ${sepId}`;
  const docUnit = unit === 'file' ? 'whole files' : 'lines';
  return {
    kind: 'text',
    description: `text from ${names}: ${mode === 'pack' ? `${docUnit} packed` : `one ${unit} per sample`}${sep} in windows of ${length} tokens${stride !== length ? ` (stride ${stride})` : ''}; ${tok.kind} tokenizer, ${tok.vocabSize} tokens, padding id ${tok.padId}`,
    dataFree: false,
    hasLabels: false,
    async *chunks(): AsyncGenerator<DataChunk> {
      let sample = 0;
      if (mode === 'lines') {
        for (const path of paths) {
          for await (const doc of documents(path)) {
            const e = tok.encode(doc, special);
            for (let s = 0; s === 0 || s + length - stride < e.ids.length; s += stride) {
              yield window(e.ids.slice(s, s + length), e.typeIds.slice(s, s + length), path, sample++);
            }
          }
        }
        return;
      }
      // pack: a bounded buffer of tokens; windows leave as soon as they are full
      let ids: number[] = [];
      let types: number[] = [];
      let docs = 0;
      let file = where;
      for (const path of paths) {
        file = path;
        for await (const doc of documents(path)) {
          const e = tok.encode(doc, special);
          if (!trailing && docs++ > 0 && sepId !== undefined) {
            ids.push(sepId);
            types.push(0);
          }
          for (let k = 0; k < e.ids.length; k++) {
            ids.push(e.ids[k]!);
            types.push(e.typeIds[k] ?? 0);
          }
          if (trailing && sepId !== undefined) {
            ids.push(sepId);
            types.push(0);
          }
          while (ids.length >= length) {
            yield window(ids.slice(0, length), types.slice(0, length), path, sample++);
            ids = ids.slice(stride);
            types = types.slice(stride);
          }
        }
      }
      // the tail: padded, unless it only repeats tokens the last window already held
      if (ids.length > (sample > 0 ? length - stride : 0)) yield window(ids, types, file, sample++);
    },
  };
}
