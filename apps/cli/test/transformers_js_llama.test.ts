/**
 * `whittle export-transformers` on a Llama-style decoder as Optimum exports it (`model.onnx`:
 * plain ops, RMSNorm with its float Casts, rotary embedding computed in the graph, 4 query heads
 * over 2 key/value heads repeated by Expand/Reshape, position_ids input, an additive mask holding
 * float32's lowest value) whose residual stream carries a "massive activation" (600 in one
 * channel on every third token, as trained LLMs do): config.json is Llama's; every written dtype
 * (int8, uint8, q2 and q2f16 too) loads in Transformers.js in Node and generates greedily what the onnxruntime-node KV-cache loop
 * generates from the same file; and the float16 variants compute right in float16.
 *
 * onnxruntime's CPU provider runs most float16 ops in float32, which hides an overflow that
 * WebGPU computes: the float16 check runs the variants in Whittle's interpreter, which computes
 * float16 ops in float16.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { cosineSimilarity, decoderIo, greedyGenerate, interpreterDecoderSession } from '@whittle/eval/node';
import { type Model, runRecipe } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { type OptimumLlamaDecoderOptions, optimumLlamaDecoder } from '@whittle/testing/exporters';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { generateBoth } from './fixtures/generate_both.js';
import { TINY_VOCAB, tinyTokenizer } from './fixtures/tiny_lm.js';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-llama-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NEW = 8;
const PROMPTS = ['w1 w5 w9 w3 w7', 'w40 w2 w2 w61 w17 w88 w30'];
const OPTIONS = { seed: 7, vocab: TINY_VOCAB, layers: 2, hidden: 64, heads: 4, kvHeads: 2, massiveActivation: { channel: 5, value: 600 } };

function writeLlama(name: string, extra: Partial<OptimumLlamaDecoderOptions> = {}): { model: string; tokenizer: string } {
  const model = join(dir, `${name}.onnx`);
  const tokenizer = join(dir, 'tokenizer.json');
  writeFileSync(model, writeModel(optimumLlamaDecoder({ ...OPTIONS, ...extra })));
  writeFileSync(tokenizer, JSON.stringify(tinyTokenizer()));
  return { model, tokenizer };
}

/** The next-token logits after `ids` in Whittle's interpreter (every float16 op's output kept in float16), as float32. */
async function interpreterLogits(model: Model, ids: readonly number[]): Promise<Float32Array> {
  const s = interpreterDecoderSession(model);
  return (await greedyGenerate(s, decoderIo(s, 'interpreter'), ids, 1, { keepLogits: true })).logits![0]!;
}

const finite = (v: Float32Array): boolean => v.every((x) => Number.isFinite(x));

describe('export-transformers (Optimum Llama-style decoder, massive activations)', () => {
  it('config.json is Llama\'s; every dtype generates in Transformers.js what onnxruntime-node generates; float16 variants measured on token windows compute right in float16', async () => {
    const src = writeLlama('llama');
    const out = join(dir, 'models', 'llama');
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: 'fp32,fp16,q8,int8,uint8,q4,q4f16,q2,q2f16' });
    expect(r.variants.map((v) => v.path)).toEqual(['onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_int8.onnx', 'onnx/model_uint8.onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx', 'onnx/model_q2.onnx', 'onnx/model_q2f16.onnx']);
    // no learned position table: Llama's config, query heads spanning the hidden width, the cache's 2 key/value heads
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: TINY_VOCAB, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16,
    });
    const by = Object.fromEntries(r.variants.map((v) => [v.dtype, v]));
    // 2-bit codes (MatMulNBits bits 2): smaller than q4
    expect(by.q2!.bytes).toBeLessThan(by.q4!.bytes * 0.8);
    // the RMSNorms' squares of the 600 channel (360,000) leave float16's range on the made-up token windows
    // every variant was run on a made-up first step in onnxruntime-node and compared with the input
    expect(by.fp32!.cosineToFp32).toBeCloseTo(1, 12);
    for (const [d, floor] of [['fp16', 0.9999], ['q8', 0.999], ['int8', 0.999], ['uint8', 0.999], ['q4', 0.95], ['q4f16', 0.95]] as const) expect(by[d]!.cosineToFp32, d).toBeGreaterThan(floor);
    for (const d of ['fp16', 'q4f16']) expect(by[d]!.float16, d).toMatch(/nodes kept float32 \(\d+ by measured ranges.*ranges measured on 8 made-up sample/);

    const got = await generateBoth(join(dir, 'models'), 'llama', r.variants, PROMPTS, NEW);
    for (const [dtype, runs] of Object.entries(got)) runs.forEach(({ tjs, ort }, i) => expect(tjs, `${dtype} '${PROMPTS[i]}'`).toEqual(ort));
    expect(new Set(got.fp32!.flatMap((g) => g.ort)).size).toBeGreaterThan(3);

    // float16 between ops: w1 (id 3) and w7 (id 9) carry the massive channel
    const ids = [3, 7, 11, 5, 9, 12];
    const ref = await interpreterLogits(await readModelFile(join(out, 'onnx', 'model.onnx')), ids);
    const q4 = await interpreterLogits(await readModelFile(join(out, 'onnx', 'model_q4.onnx')), ids);
    for (const [file, against] of [['model_fp16.onnx', ref], ['model_q4f16.onnx', q4]] as const) {
      const half = await interpreterLogits(await readModelFile(join(out, 'onnx', file)), ids);
      expect(finite(half), file).toBe(true);
      expect(cosineSimilarity(half, against), file).toBeGreaterThan(0.999);
    }
    // the control: the same conversion without measured ranges (as before) breaks in float16
    const blind = await runRecipe(await readModelFile(src.model), { passes: [{ pass: 'convert-float16', options: { keepIoTypes: false } }] }, { frontEnd: true, seed: 0 });
    const broken = await interpreterLogits(blind.model, ids);
    expect(finite(broken) && cosineSimilarity(broken, ref) > 0.9).toBe(false);
  }, 180_000);

  it('through the command line (Qwen2-style: q/k/v biases, LM head tied to the embedding), --data token ids measure the ranges; the table says what stayed float32', async () => {
    const src = writeLlama('llama_cli', { qkvBias: true, tiedEmbeddings: true });
    const ids = join(dir, 'ids.jsonl');
    writeFileSync(ids, Array.from({ length: 6 }, (_, i) => JSON.stringify(Array.from({ length: 12 }, (_, t) => (i * 7 + t * 5) % TINY_VOCAB))).join('\n'));
    const out = join(dir, 'models', 'cli');
    const cli = await whittleInProcess('export-transformers', src.model, '--tokenizer', src.tokenizer, '--out', out, '--variants', 'fp32,fp16', '--data', ids);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/^fp16: converted .* nodes kept float32 \(\d+ by measured ranges.*; ranges measured on JSON Lines samples from .*ids\.jsonl$/m);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'llama', tie_word_embeddings: true });
    const half = await interpreterLogits(await readModelFile(join(out, 'onnx', 'model_fp16.onnx')), [3, 6, 9]);
    const ref = await interpreterLogits(await readModelFile(join(out, 'onnx', 'model.onnx')), [3, 6, 9]);
    expect(cosineSimilarity(half, ref)).toBeGreaterThan(0.999);
    // a folder's sub-models differ in inputs: one --data cannot feed them
    const folder = await whittleInProcess('export-transformers', out, '--out', join(dir, 'models', 'again'), '--data', ids);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toMatch(/--data is for a single \.onnx file/);
  }, 120_000);
});
