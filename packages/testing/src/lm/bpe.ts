import { ArgumentError } from '@whittle/tensor';
import { BYTE_TO_CHAR, GPT2_SPLIT } from './byte_level.js';

/** The end-of-text token packed between documents (GPT-2's). */
export const END_OF_TEXT = '<|endoftext|>';

/** A trained byte-level BPE: merges in rank order over the 256 byte symbols, ids 256 + rank. */
export interface BpeModel {
  /** Merged pairs in rank order, as ids. Merge r makes id 256 + r. */
  merges: readonly (readonly [number, number])[];
}

const key = (a: number, b: number): number => a * 65536 + b;

/**
 * Learn `mergeCount` byte-level BPE merges from texts: the texts are split by GPT-2's pattern,
 * and each step merges the most frequent adjacent pair inside the pre-tokens (ties broken by the
 * smaller ids, so the result is deterministic).
 */
export function trainBpe(texts: Iterable<string>, mergeCount: number): BpeModel {
  if (!Number.isInteger(mergeCount) || mergeCount < 0 || mergeCount > 65536 - 257) throw new ArgumentError(`trainBpe: mergeCount must be an integer in [0, 65279], got ${mergeCount}`);
  const counts = new Map<string, number>();
  for (const text of texts) for (const w of text.match(GPT2_SPLIT) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1);
  const enc = new TextEncoder();
  const words: number[][] = [];
  const freq: number[] = [];
  for (const [w, c] of [...counts].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    words.push([...enc.encode(w)]);
    freq.push(c);
  }
  const pairs = new Map<number, number>();
  const bump = (a: number, b: number, c: number): void => {
    const k = key(a, b);
    const v = (pairs.get(k) ?? 0) + c;
    if (v === 0) pairs.delete(k);
    else pairs.set(k, v);
  };
  words.forEach((w, i) => {
    for (let j = 0; j + 1 < w.length; j++) bump(w[j]!, w[j + 1]!, freq[i]!);
  });
  const merges: [number, number][] = [];
  for (let r = 0; r < mergeCount; r++) {
    let best = -1;
    let bestCount = 0;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && k < best)) [best, bestCount] = [k, c];
    if (best < 0) break; // every pre-token is one symbol
    const a = Math.floor(best / 65536);
    const b = best % 65536;
    const id = 256 + r;
    merges.push([a, b]);
    words.forEach((w, i) => {
      if (!w.some((x, j) => x === a && w[j + 1] === b)) return;
      const c = freq[i]!;
      for (let j = 0; j + 1 < w.length; j++) bump(w[j]!, w[j + 1]!, -c);
      const out: number[] = [];
      for (let j = 0; j < w.length; j++) {
        if (w[j] === a && w[j + 1] === b) {
          out.push(id);
          j++;
        } else out.push(w[j]!);
      }
      for (let j = 0; j + 1 < out.length; j++) bump(out[j]!, out[j + 1]!, c);
      words[i] = out;
    });
  }
  return { merges };
}

/**
 * Encoder of a {@link BpeModel}: text → ids as Hugging Face's BPE with the ByteLevel pre-tokenizer
 * encodes it (per pre-token, the lowest-ranked pair merges first, left to right). Pre-tokens are
 * cached. The end-of-text token has id 256 + merges.
 */
export class BpeEncoder {
  private readonly ranks = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly pieces: Uint8Array[] = [];
  readonly endOfText: number;
  readonly vocabSize: number;

  constructor(readonly model: BpeModel) {
    for (let b = 0; b < 256; b++) this.pieces.push(Uint8Array.of(b));
    model.merges.forEach(([a, b], r) => {
      if (a >= 256 + r || b >= 256 + r) throw new ArgumentError(`BpeEncoder: merge ${r} joins ids ${a} and ${b}, which are not defined before it`);
      this.ranks.set(key(a, b), r);
      const p = new Uint8Array(this.pieces[a]!.length + this.pieces[b]!.length);
      p.set(this.pieces[a]!);
      p.set(this.pieces[b]!, this.pieces[a]!.length);
      this.pieces.push(p);
    });
    this.endOfText = 256 + model.merges.length;
    this.vocabSize = this.endOfText + 1;
  }

  /** Token ids of a text; `<|endoftext|>` in the text is the special token (as Hugging Face splits added tokens out first). */
  encode(text: string): number[] {
    const out: number[] = [];
    text.split(END_OF_TEXT).forEach((part, i) => {
      if (i > 0) out.push(this.endOfText);
      for (const w of part.match(GPT2_SPLIT) ?? []) {
        let ids = this.cache.get(w);
        if (!ids) this.cache.set(w, (ids = this.encodeWord([...new TextEncoder().encode(w)])));
        for (const id of ids) out.push(id);
      }
    });
    return out;
  }

  private encodeWord(w: number[]): number[] {
    for (;;) {
      let best = Infinity;
      for (let j = 0; j + 1 < w.length; j++) best = Math.min(best, this.ranks.get(key(w[j]!, w[j + 1]!)) ?? Infinity);
      if (best === Infinity) return w;
      const [a, b] = this.model.merges[best]!;
      const out: number[] = [];
      for (let j = 0; j < w.length; j++) {
        if (w[j] === a && w[j + 1] === b) {
          out.push(256 + best);
          j++;
        } else out.push(w[j]!);
      }
      w = out;
    }
  }

  /** The text of token ids (the end-of-text token decodes to its string). */
  decode(ids: readonly number[]): string {
    const parts: string[] = [];
    let bytes: number[] = [];
    const flush = (): void => {
      parts.push(new TextDecoder().decode(Uint8Array.from(bytes)));
      bytes = [];
    };
    for (const id of ids) {
      if (id === this.endOfText) {
        flush();
        parts.push(END_OF_TEXT);
      } else if (id >= 0 && id < this.pieces.length) bytes.push(...this.pieces[id]!);
      else throw new ArgumentError(`BpeEncoder.decode: id ${id} is outside the vocabulary of ${this.vocabSize}`);
    }
    flush();
    return parts.join('');
  }

  /** A token's string in the byte-level alphabet (as tokenizer.json's vocabulary writes it). */
  tokenString(id: number): string {
    if (id === this.endOfText) return END_OF_TEXT;
    return Array.from(this.pieces[id]!, (b) => BYTE_TO_CHAR[b]!).join('');
  }

  /**
   * The Hugging Face `tokenizer.json` of this BPE, laid out like GPT-2's: BPE model with the
   * byte-level vocabulary and merges, ByteLevel pre-tokenizer, post-processor and decoder, and
   * `<|endoftext|>` as the one added special token.
   */
  tokenizerJson(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    for (let id = 0; id < this.vocabSize; id++) vocab[this.tokenString(id)] = id;
    const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: [{ id: this.endOfText, content: END_OF_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
      post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
      decoder: { type: 'ByteLevel', ...byteLevel },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false,
        vocab,
        merges: this.model.merges.map(([a, b]) => `${this.tokenString(a)} ${this.tokenString(b)}`),
      },
    };
  }

  /** The matching `tokenizer_config.json` (GPT-2's, with this model's context length). */
  tokenizerConfigJson(modelMaxLength: number): Record<string, unknown> {
    return {
      add_bos_token: false, add_prefix_space: false, bos_token: END_OF_TEXT, eos_token: END_OF_TEXT, unk_token: END_OF_TEXT,
      clean_up_tokenization_spaces: false, model_max_length: modelMaxLength, tokenizer_class: 'GPT2Tokenizer',
    };
  }

  /** Read back a tokenizer.json written by {@link tokenizerJson}. */
  static fromTokenizerJson(json: unknown): BpeEncoder {
    const m = (json as { model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] } } | null)?.model;
    if (m?.type !== 'BPE' || !m.vocab || !Array.isArray(m.merges)) throw new ArgumentError('BpeEncoder.fromTokenizerJson: not a BPE tokenizer.json (model.type, model.vocab and model.merges)');
    const vocab = m.vocab;
    const merges = m.merges.map((s, r) => {
      const [a, b] = typeof s === 'string' ? s.split(' ') : s;
      const ia = vocab[a!];
      const ib = vocab[b!];
      if (ia === undefined || ib === undefined) throw new ArgumentError(`BpeEncoder.fromTokenizerJson: merge ${r} '${String(s)}' names a token missing from the vocabulary`);
      return [ia, ib] as const;
    });
    return new BpeEncoder({ merges });
  }
}
