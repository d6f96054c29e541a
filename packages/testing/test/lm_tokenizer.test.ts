import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { BpeEncoder, END_OF_TEXT, HELD_OUT_FILES, LM_TOKENIZER, LM_VOCAB, lmCorpus, trainBpe } from '../src/lm/index.js';

describe('LM tokenizer (byte-level BPE trained on the TypeScript lib corpus)', () => {
  const json = JSON.parse(readFileSync(LM_TOKENIZER.json, 'utf8')) as Record<string, unknown>;
  const config = JSON.parse(readFileSync(LM_TOKENIZER.config, 'utf8')) as Record<string, unknown>;
  const corpus = lmCorpus();
  const ours = BpeEncoder.fromTokenizerJson(json);
  const hf = new Tokenizer(json, config);

  it('the corpus splits by file: the held-out files are the named ones, every other lib file trains', () => {
    expect(corpus.heldOut.map((f) => f.name)).toEqual([...HELD_OUT_FILES]);
    expect(corpus.train.length).toBeGreaterThan(50);
    expect(corpus.train.some((f) => HELD_OUT_FILES.includes(f.name))).toBe(false);
  });

  it('is laid out like GPT-2\'s: BPE over the byte-level alphabet, ByteLevel pre-tokenizer and decoder, <|endoftext|> special', () => {
    expect(ours.vocabSize).toBe(LM_VOCAB);
    const model = json['model'] as { type: string; vocab: Record<string, number>; merges: string[] };
    expect(model.type).toBe('BPE');
    expect(Object.keys(model.vocab)).toHaveLength(LM_VOCAB);
    expect(model.merges).toHaveLength(LM_VOCAB - 257);
    expect((json['pre_tokenizer'] as { type: string }).type).toBe('ByteLevel');
    expect((json['decoder'] as { type: string }).type).toBe('ByteLevel');
    expect(json['added_tokens']).toMatchObject([{ id: LM_VOCAB - 1, content: END_OF_TEXT, special: true }]);
    // our writer reads back to the same JSON
    expect(ours.tokenizerJson()).toEqual(json);
  });

  it('BPE training is deterministic and greedy: fewer merges give a prefix of the merges', () => {
    const text = corpus.heldOut.map((f) => f.text).join('');
    const a = trainBpe([text], 60);
    expect(trainBpe([text], 60)).toEqual(a);
    expect(trainBpe([text], 30).merges).toEqual(a.merges.slice(0, 30));
    // the most frequent pair of the held-out text is merged first
    const first = new BpeEncoder({ merges: a.merges.slice(0, 1) });
    expect(first.decode([256])).toBe('  ');
  });

  it('@huggingface/tokenizers encodes held-out text to the same ids as our encoder, and both decode it back', () => {
    const text = `${corpus.heldOut[1]!.text.slice(0, 20000)}${END_OF_TEXT}  naïve café → 数据 🙂\n\ttabs`;
    const ids = ours.encode(text);
    const theirs = hf.encode(text, { add_special_tokens: false }).ids;
    expect(theirs).toEqual(ids);
    expect(ids.filter((id) => id === ours.endOfText)).toHaveLength(1);
    expect(ours.decode(ids)).toBe(text);
    expect(hf.decode(ids)).toBe(text);
    // merges compress: well under one token per byte on code the tokenizer never saw
    expect(ids.length / new TextEncoder().encode(text).length).toBeLessThan(0.45);
  });
});
