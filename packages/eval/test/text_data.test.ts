/** Raw text + tokenizer.json data: windows of token ids compared with the tokenizer library's own encode. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { type DataFiles, type ModelInputSpec, DataError, batchesOf, memoryFiles, openData, textSource } from '../src/index.js';
import { nodeDataFiles } from '../src/node.js';

/** A BERT-style WordPiece tokenizer.json (lower-casing, [CLS] … [SEP], [PAD] = 0). */
function bertTokenizer(): Record<string, unknown> {
  const words = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'the', 'cat', 'sat', 'on', 'a', 'mat', 'dog', '##s', 'run', '.', ',', 'and', 'big', 'red'];
  const specials = words.slice(0, 4).map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(words.map((w, i) => [w, i])) },
  };
}

/** A GPT-2 style byte-level BPE tokenizer.json with `<|endoftext|>` and a few merges. */
function gptTokenizer(): Record<string, unknown> {
  const chars = [...'abcdefghijklmnopqrstuvwxyz.,Ġ'];
  const merges = ['t h', 'th e', 'Ġ th', 'Ġth e', 'a t', 'c at', 'Ġ c', 'Ġc at', 's at', 'Ġ s', 'Ġs at'];
  const vocab: Record<string, number> = {};
  for (const c of chars) vocab[c] = Object.keys(vocab).length;
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  vocab['<|endoftext|>'] = Object.keys(vocab).length;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: vocab['<|endoftext|>'], content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

const enc = new TextEncoder();
const bertInputs: ModelInputSpec[] = [
  { name: 'input_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
  { name: 'attention_mask', elemType: 'int64', shape: ['batch', 'sequence'] },
  { name: 'token_type_ids', elemType: 'int64', shape: ['batch', 'sequence'] },
];

async function windows(files: DataFiles, path: string, inputs: ModelInputSpec[], opts: Parameters<typeof textSource>[3]): Promise<Record<string, number[]>[]> {
  const out: Record<string, number[]>[] = [];
  for await (const c of textSource(files, [path], inputs, opts).chunks()) {
    out.push(Object.fromEntries(Object.entries(c.inputs).map(([k, a]) => [k, Array.from(a.data as ArrayLike<number | bigint>, Number)])));
    for (const a of Object.values(c.inputs)) expect(a.shape).toEqual(a.shape.length === 2 ? [1, a.shape[1]] : a.shape);
  }
  return out;
}

describe('text + tokenizer.json', () => {
  const lines = ['The cat sat on a mat.', '', 'The dogs run, and the big red dog sat.', 'A cat.'];
  const files = memoryFiles({ 'c/corpus.txt': enc.encode(lines.join('\n')), 'c/tokenizer.json': enc.encode(JSON.stringify(bertTokenizer())) });

  it("lines mode: every non-empty line is one sample whose ids, mask and type ids are the library's encode, padded with [PAD]", async () => {
    const tok = new Tokenizer(bertTokenizer(), {});
    const got = await windows(files, 'c/corpus.txt', bertInputs, { tokenizer: bertTokenizer(), mode: 'lines', length: 16 });
    const docs = lines.filter((l) => l.trim());
    expect(got.length).toBe(docs.length);
    docs.forEach((d, i) => {
      const e = tok.encode(d);
      expect(e.ids.length).toBeLessThanOrEqual(16);
      expect(got[i]!.input_ids).toEqual([...e.ids, ...new Array(16 - e.ids.length).fill(0)]);
      expect(got[i]!.attention_mask).toEqual([...new Array(e.ids.length).fill(1), ...new Array(16 - e.ids.length).fill(0)]);
      expect(got[i]!.token_type_ids).toEqual(new Array(16).fill(0));
    });
    // a line longer than the window is cut into windows of `length` with `stride`
    const long = await windows(files, 'c/corpus.txt', bertInputs, { tokenizer: bertTokenizer(), mode: 'lines', length: 6, stride: 4 });
    const e0 = tok.encode(docs[0]!).ids; // 9 tokens → windows at 0, 4
    const e = tok.encode(docs[1]!).ids; // 14 tokens → windows at 0, 4, 8 (8 + 6 ≥ 14 ends it)
    expect([e0.length, e.length]).toEqual([9, 14]);
    expect(long.slice(2, 5).map((w) => w.input_ids)).toEqual([e.slice(0, 6), e.slice(4, 10), e.slice(8, 14)]);
    expect(long[1]!.input_ids).toEqual([...e0.slice(4, 9), 0]);
    expect(long[1]!.attention_mask).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it('pack mode: documents joined by <|endoftext|> and cut into windows; stride overlaps; the tail is padded and masked', async () => {
    const gpt = gptTokenizer();
    const tok = new Tokenizer(gpt, {});
    const text = ['the cat sat', 'the sat cat.', 'a cat'];
    const f = memoryFiles({ 't.txt': enc.encode(text.join('\r\n') + '\n') });
    const eot = (gpt.model as { vocab: Record<string, number> }).vocab['<|endoftext|>']!;
    const stream: number[] = [];
    text.forEach((t, i) => stream.push(...(i ? [eot] : []), ...tok.encode(t, { add_special_tokens: false }).ids));
    const L = 4;
    const inputs: ModelInputSpec[] = [{ name: 'input_ids', elemType: 'int64', shape: ['b', 's'] }, { name: 'attention_mask', elemType: 'int64', shape: ['b', 's'] }];
    const got = await windows(f, 't.txt', inputs, { tokenizer: JSON.stringify(gpt), length: L });
    const expected: number[][] = [];
    for (let s = 0; s < stream.length; s += L) expected.push(stream.slice(s, s + L));
    expect(got.map((w) => w.input_ids!.slice(0, expected[got.indexOf(w)]!.length))).toEqual(expected);
    const last = got[got.length - 1]!;
    const tail = stream.length % L || L;
    expect(last.attention_mask).toEqual([...new Array(tail).fill(1), ...new Array(L - tail).fill(0)]);
    expect(last.input_ids!.slice(tail)).toEqual(new Array(L - tail).fill(eot)); // no pad token: padded with <|endoftext|>
    // stride 2: windows start every 2 tokens
    const over = await windows(f, 't.txt', inputs, { tokenizer: gpt, length: L, stride: 2 });
    for (let k = 0; k + L <= stream.length; k += 2) expect(over[k / 2]!.input_ids).toEqual(stream.slice(k, k + L));
  });

  it('reads a .txt with tokenizer.json beside it from --data-style paths and a data spec; batches stack into [B, length] int64 feeds', async () => {
    const d = mkdtempSync(join(tmpdir(), 'whittle-text-'));
    writeFileSync(join(d, 'corpus.txt'), lines.join('\n'));
    writeFileSync(join(d, 'tokenizer.json'), JSON.stringify(bertTokenizer()));
    writeFileSync(join(d, 'spec.yaml'), 'kind: text\npath: corpus.txt\ntokenizer: tokenizer.json\nlength: 8\nmode: lines\n');
    const byPath = await openData(join(d, 'corpus.txt'), { files: nodeDataFiles, inputs: bertInputs });
    expect(byPath.spec.kind).toBe('text');
    const bySpec = await openData(join(d, 'spec.yaml'), { files: nodeDataFiles, inputs: bertInputs });
    expect(bySpec.source.description).toMatch(/one line per sample in windows of 8 tokens; WordPiece tokenizer, 18 tokens, padding id 0/);
    const batches = [];
    for await (const b of batchesOf(bySpec.source, { inputs: bertInputs, batchSize: 2 })) batches.push(b);
    expect(batches.map((b) => b.feeds.input_ids!.shape)).toEqual([[2, 8], [2, 8], [1, 8]]); // 5 windows: the 14-token line takes two
    expect(batches[0]!.feeds.input_ids!.dtype).toBe('int64');
    // a folder of .txt files with its tokenizer.json
    mkdirSync(join(d, 'docs'));
    writeFileSync(join(d, 'docs', 'a.txt'), 'the cat\n');
    writeFileSync(join(d, 'docs', 'b.txt'), 'the dog\n');
    writeFileSync(join(d, 'docs', 'tokenizer.json'), JSON.stringify(bertTokenizer()));
    const folder = await openData(join(d, 'docs'), { files: nodeDataFiles, inputs: bertInputs.slice(0, 2) });
    const all = [];
    for await (const c of folder.source.chunks()) all.push(Array.from(c.inputs.input_ids!.data as BigInt64Array, Number));
    expect(all).toEqual([[4, 5, 3, 4, 10, ...new Array<number>(123).fill(0)]]); // pack: 'the cat' [SEP] 'the dog', padded to 128
  });

  it('refuses a .txt without tokenizer, a model input text cannot fill, and a length the model does not take', async () => {
    await expect(openData('x/corpus.txt', { files: memoryFiles({ 'x/corpus.txt': enc.encode('a') }), inputs: bertInputs })).rejects.toThrow(/raw text needs a tokenizer: put the model's tokenizer\.json beside it/);
    expect(() => textSource(files, ['c/corpus.txt'], [...bertInputs, { name: 'pixel_values', elemType: 'float32', shape: ['b', 3] }], { tokenizer: bertTokenizer() })).toThrow(/the model also takes 'pixel_values', which text cannot fill/);
    expect(() => textSource(files, ['c/corpus.txt'], [{ name: 'input_ids', elemType: 'int64', shape: ['b', 32] }], { tokenizer: bertTokenizer(), length: 16 })).toThrow(/takes sequences of 32 tokens; set length: 32/);
    expect(() => textSource(files, ['c/corpus.txt'], bertInputs, { tokenizer: { vocab: {} } })).toThrow(DataError);
    expect(() => textSource(files, ['c/corpus.txt'], bertInputs, { tokenizer: '{' })).toThrow(/the tokenizer is not JSON/);
  });

  it('fills an Optimum decoder with an empty cache: past_key_values [1, H, 0, Dh] and use_cache_branch false', async () => {
    const inputs: ModelInputSpec[] = [
      { name: 'input_ids', elemType: 'int64', shape: ['batch_size', 'sequence_length'] },
      { name: 'attention_mask', elemType: 'int64', shape: ['batch_size', 'past_sequence_length + sequence_length'] },
      { name: 'past_key_values.0.key', elemType: 'float32', shape: ['batch_size', 4, 'past_sequence_length', 16] },
      { name: 'use_cache_branch', elemType: 'bool', shape: [1] },
    ];
    const b = [];
    for await (const x of batchesOf(textSource(files, ['c/corpus.txt'], inputs, { tokenizer: bertTokenizer(), length: 8 }), { inputs })) b.push(x);
    expect(b[0]!.feeds['past_key_values.0.key']!.shape).toEqual([1, 4, 0, 16]);
    expect(b[0]!.feeds.use_cache_branch!.shape).toEqual([1]);
    expect(Array.from(b[0]!.feeds.use_cache_branch!.dataSync() as Uint8Array)).toEqual([0]);
    expect(b[0]!.feeds.input_ids!.shape).toEqual([1, 8]);
  });
});
