/**
 * `whittle export-transformers` on a decoder in onnxruntime-genai's model-builder layout
 * (GroupQueryAttention with rotary caches, 4 query heads over 2 key/value heads, no position_ids
 * input): config.json is Llama's with the sizes read from the graph, every written dtype loads in
 * Transformers.js in Node and generates greedily exactly what the KV-cache loop of @whittle/eval
 * generates from the same file in onnxruntime-node, and the fp32 file's logits are the input's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { decoderIo, greedyGenerate, openOrtDecoder } from '@whittle/eval/node';
import type { Node } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { genaiBuilderDecoder } from '@whittle/testing/exporters';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { type BothTokens, generateBoth } from './fixtures/generate_both.js';
import { TINY_VOCAB, tinyTokenizer } from './fixtures/tiny_lm.js';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-genai-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NEW = 8;
const PROMPTS = ['w1 w5 w9 w3 w7', 'w40 w2 w2 w61 w17 w88 w30'];

/** The fixture (vocabulary of the word-level test tokenizer) and that tokenizer, on disk. */
function writeGenai(name: string, tiedEmbeddings: boolean): { model: string; tokenizer: string } {
  const model = join(dir, `${name}.onnx`);
  const tokenizer = join(dir, 'tokenizer.json');
  writeFileSync(model, writeModel(genaiBuilderDecoder({ seed: 5, vocab: TINY_VOCAB, layers: 2, hidden: 64, heads: 4, kvHeads: 2, maxPositions: 64, tiedEmbeddings }).model));
  writeFileSync(tokenizer, JSON.stringify(tinyTokenizer()));
  return { model, tokenizer };
}

const generateTokens = (name: string, variants: readonly { dtype: string; path: string }[]) => generateBoth(join(dir, 'models'), name, variants, PROMPTS, NEW);

function expectSameTokens(got: Record<string, BothTokens[]>): void {
  for (const [dtype, runs] of Object.entries(got)) {
    runs.forEach(({ tjs, ort }, i) => {
      const n = tjs.length < NEW ? tjs.length : NEW;
      expect(tjs, `${dtype} '${PROMPTS[i]}': Transformers.js vs onnxruntime-node`).toEqual(ort.slice(0, n));
      if (n < NEW) expect(tjs[n - 1]).toBe(0);
    });
  }
}

describe('export-transformers (onnxruntime-genai model-builder layout)', () => {
  it('config.json of a Llama with grouped KV heads; every dtype generates in Transformers.js what onnxruntime-node generates; fp32 logits are the input model\'s', async () => {
    const src = writeGenai('genai', false);
    const out = join(dir, 'models', 'genai');
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: 'fp32,fp16,q8,q4,q4f16' });
    expect(r.files.sort()).toEqual(['config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    // 64 positions: the rows of the rotary caches, past which GroupQueryAttention refuses to run
    expect(config).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: TINY_VOCAB, hidden_size: 64, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, max_position_embeddings: 64, tie_word_embeddings: false, bos_token_id: 0, eos_token_id: 0,
    });
    expect(JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8'))).toMatchObject({ max_length: 64 });
    expect(r.warnings).toEqual([expect.stringMatching(/^GroupQueryAttention reads attention_mask only as per-row lengths: padded batches/)]);
    const by = Object.fromEntries(r.variants.map((v) => [v.dtype, v]));
    for (const v of r.variants) expect(v.ops, v.dtype).toContain('com.microsoft:GroupQueryAttention');
    for (const d of ['q4', 'q4f16']) {
      // the token table (opset 21) as GatherBlockQuantized, not DequantizeLinear of the whole table on every call
      expect(by[d]!.ops).toEqual(expect.arrayContaining(['com.microsoft:MatMulNBits', 'com.microsoft:GatherBlockQuantized']));
      expect(by[d]!.ops).not.toContain('DequantizeLinear');
      // the rotary caches every GroupQueryAttention reads stay one copy each (not one per layer)
      const m = await readModelFile(join(out, by[d]!.path));
      expect([...m.graph.initializers.keys()].filter((n) => /^(cos|sin)_cache/.test(n)).sort()).toEqual(['cos_cache', 'sin_cache']);
    }
    // float16 variants: caches, KV cache and logits in float16, as onnxruntime's GroupQueryAttention requires one type
    for (const d of ['fp16', 'q4f16']) {
      const m = await readModelFile(join(out, by[d]!.path));
      expect(m.graph.initializers.get('cos_cache')?.dtype ?? m.graph.rawInitializers.get('cos_cache')?.dataType, d).toBe('float16');
      expect(m.graph.inputs.find((i) => i.name === 'past_key_values.0.key')?.type).toMatchObject({ elemType: 'float16' });
    }

    const got = await generateTokens('genai', r.variants);
    expectSameTokens(got);
    // the tokens vary (a model repeating one token would prove little)
    expect(new Set(got.fp32!.flatMap((g) => g.ort)).size).toBeGreaterThan(3);

    // fp32 is the input model: the same logits at every step of generation, to the bit
    const ids = [3, 7, 11, 5, 9];
    const logits = async (path: string): Promise<Float32Array[]> => {
      const s = await openOrtDecoder(path);
      try {
        return (await greedyGenerate(s, decoderIo(s, path), ids, NEW, { keepLogits: true })).logits!;
      } finally {
        await s.release();
      }
    };
    const [a, b] = [await logits(src.model), await logits(join(out, 'onnx', 'model.onnx'))];
    expect(b.length).toBe(NEW);
    b.forEach((row, k) => expect(Array.from(row), `step ${k}`).toEqual(Array.from(a[k]!)));

    // the text-generation pipeline reads the same folder
    const generate = await pipeline('text-generation', 'genai', { dtype: 'q4' });
    const text = (await generate(PROMPTS[0]!, { max_new_tokens: NEW, do_sample: false })) as { generated_text: string }[];
    await generate.dispose();
    const q4 = got.q4![0]!.tjs;
    expect(text[0]!.generated_text).toBe(`${PROMPTS[0]} ${q4.map((t) => (t < 2 ? '' : `w${t - 2}`)).filter(Boolean).join(' ')}`.trim());
  }, 120_000);

  it('through the command line, an LM head tied to the embedding: tie_word_embeddings, and fp32 / q4 agree with onnxruntime-node', async () => {
    const src = writeGenai('genai_tied', true);
    const out = join(dir, 'models', 'tied');
    const cli = await whittleInProcess('export-transformers', src.model, '--tokenizer', src.tokenizer, '--out', out, '--variants', 'fp32,q4');
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/config\.json: model_type llama, 2 layers, 4 query heads over 2 key\/value heads of 16, vocabulary 96, 64 positions/);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama', num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true });
    const m = await readModelFile(join(out, 'onnx', 'model_q4.onnx'));
    const producer = (x: string) => m.graph.nodes.find((n) => n.outputs.includes(x));
    expect(producer('logits')?.opType).toBe('MatMulNBits');
    expectSameTokens(await generateTokens('tied', [{ dtype: 'fp32', path: 'onnx/model.onnx' }, { dtype: 'q4', path: 'onnx/model_q4.onnx' }]));
  }, 60_000);

  it('refuses --max-positions beyond the rotary caches, and GroupQueryAttention heads that contradict the cache or each other', async () => {
    const src = writeGenai('genai_pos', false);
    await expect(exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: join(dir, 'models', 'pos'), variants: 'fp32', maxPositions: 65 })).rejects.toThrow(/--max-positions 65 exceeds the 64 rows of .*rotary cos\/sin caches/);
    const edited = (edit: (gqa: Node[]) => void): string => {
      const { model } = genaiBuilderDecoder({ seed: 5, vocab: TINY_VOCAB });
      edit(model.graph.nodes.filter((n) => n.opType === 'GroupQueryAttention'));
      const path = join(dir, 'edited.onnx');
      writeFileSync(path, writeModel(model));
      return path;
    };
    const kv1 = edited((g) => g.forEach((n) => n.attributes.set('kv_num_heads', { type: 'int', value: 1 })));
    await expect(exportTransformersJs(kv1, { tokenizer: src.tokenizer, out: join(dir, 'models', 'kv1'), variants: 'fp32' })).rejects.toThrow(/GroupQueryAttention kv_num_heads 1 differs from the 2 heads of input 'past_key_values\.0\.key'/);
    const mixed = edited((g) => g[1]!.attributes.set('num_heads', { type: 'int', value: 8 }));
    await expect(exportTransformersJs(mixed, { tokenizer: src.tokenizer, out: join(dir, 'models', 'mixed'), variants: 'fp32' })).rejects.toThrow(/GroupQueryAttention nodes give num_heads \/ kv_num_heads 4\/2, 8\/2; expected one pair/);
  });
});
