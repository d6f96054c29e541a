/**
 * `whittle export-transformers`: the folder Transformers.js loads. Every written dtype is loaded
 * by Transformers.js in Node (no network: local models only) and generates greedily exactly what
 * the KV-cache loop of @whittle/eval generates from the same file in onnxruntime-node.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { decoderIo, greedyGenerate, openOrtDecoder, WEBGPU_UNSUPPORTED_OPS } from '@whittle/eval/node';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { optimumDecoder } from '@whittle/testing/exporters';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { writeTinyLm } from './fixtures/tiny_lm.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('export-transformers', () => {
  it('writes config, tokenizer and five dtypes; Transformers.js generates what the onnxruntime-node KV-cache loop generates', async () => {
    const src = writeTinyLm(dir);
    const out = join(dir, 'models', 'tiny');
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: 'fp32,fp16,q8,q4,q4f16' });
    expect(r.files.sort()).toEqual(['config.json', 'generation_config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx', 'onnx/model_quantized.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of r.files) expect(existsSync(join(out, f)), f).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ model_type: 'gpt2', vocab_size: 96, n_layer: 2, n_head: 4, n_embd: 64, n_positions: 64, bos_token_id: 0, eos_token_id: 0 });
    const by = Object.fromEntries(r.variants.map((v) => [v.dtype, v]));
    for (const d of ['q4', 'q4f16']) {
      expect(by[d]!.ops).toEqual(expect.arrayContaining(['com.microsoft:MatMulNBits', 'com.microsoft:GatherBlockQuantized']));
      expect(by[d]!.ops.filter((o) => WEBGPU_UNSUPPORTED_OPS.has(o.split(':').pop()!))).toEqual([]);
      // every weight MatMul is MatMulNBits, the LM head tied to the embedding included (its own copy)
      const m = await readModelFile(join(out, by[d]!.path));
      const fromInit = (x: string): boolean => m.graph.initializers.has(x) || m.graph.nodes.some((n) => n.outputs.includes(x) && ['Transpose', 'Cast', 'DequantizeLinear'].includes(n.opType) && n.inputs.some(fromInit));
      expect(m.graph.nodes.filter((n) => n.opType === 'MatMul' && n.inputs.some(fromInit)).map((n) => n.name)).toEqual([]);
      const producer = (x: string) => m.graph.nodes.find((n) => n.outputs.includes(x));
      let head = producer('logits');
      while (head?.opType === 'Cast') head = producer(head.inputs[0]!);
      expect(head?.opType).toBe('MatMulNBits');
    }
    expect(by.q8!.ops).toEqual(expect.arrayContaining(['MatMulInteger', 'DynamicQuantizeLinear']));
    expect(by.q4!.bytes).toBeLessThan(by.fp32!.bytes / 2);

    env.allowRemoteModels = false;
    env.localModelPath = join(dir, 'models');
    const tokenizer = await AutoTokenizer.from_pretrained('tiny');
    const prompts = ['w1 w5 w9 w3 w7', 'w40 w2 w2 w61 w17 w88 w30'];
    const generated: Record<string, number[][]> = {};
    for (const v of r.variants) {
      const model = await AutoModelForCausalLM.from_pretrained('tiny', { dtype: v.dtype });
      const ort = await openOrtDecoder(join(out, v.path));
      try {
        for (const text of prompts) {
          const enc = tokenizer(text);
          const ids = Array.from(enc.input_ids.data as BigInt64Array, Number);
          const res = (await model.generate({ ...enc, max_new_tokens: 8, do_sample: false })) as { tolist(): bigint[][] };
          const tjs = res.tolist()[0]!.map(Number).slice(ids.length);
          const mine = (await greedyGenerate(ort, decoderIo(ort, v.path), ids, 8)).tokens;
          // Transformers.js stops after the end-of-text token (id 0)
          const n = tjs.length < 8 ? tjs.length : 8;
          expect(tjs, `${v.dtype} '${text}'`).toEqual(mine.slice(0, n));
          if (n < 8) expect(tjs[n - 1]).toBe(0);
          (generated[v.dtype] ??= []).push(mine);
        }
      } finally {
        await ort.release();
        await model.dispose();
      }
    }
    // the tokens vary (a degenerate model repeating one token would prove little)
    expect(new Set(generated.fp32!.flat()).size).toBeGreaterThan(3);
  }, 60_000);

  it('the Optimum merged layout (use_cache_branch, no position_ids): Transformers.js and the KV-cache loop agree', async () => {
    const merged = join(dir, 'merged.onnx');
    writeFileSync(merged, writeModel(optimumDecoder({ seed: 4, layers: 2, dModel: 64, heads: 4, vocab: 96 })));
    const src = writeTinyLm(dir);
    const out = join(dir, 'models', 'merged');
    const r = await exportTransformersJs(merged, { tokenizer: src.tokenizer, out, variants: 'fp32,q4' });
    expect(r.config).toMatchObject({ model_type: 'gpt2', n_layer: 2, n_head: 4, n_positions: 128 });
    env.allowRemoteModels = false;
    env.localModelPath = join(dir, 'models');
    const enc = (await AutoTokenizer.from_pretrained('merged'))('w1 w5 w9 w3 w7');
    for (const v of r.variants) {
      const model = await AutoModelForCausalLM.from_pretrained('merged', { dtype: v.dtype });
      const ort = await openOrtDecoder(join(out, v.path));
      const tjs = ((await model.generate({ ...enc, max_new_tokens: 6, do_sample: false })) as { tolist(): bigint[][] }).tolist()[0]!.map(Number).slice(5);
      const mine = (await greedyGenerate(ort, decoderIo(ort, v.path), [3, 7, 11, 5, 9], 6)).tokens;
      expect(tjs, v.dtype).toEqual(mine.slice(0, tjs.length));
      expect(tjs.length === 6 || tjs[tjs.length - 1] === 0).toBe(true);
      await ort.release();
      await model.dispose();
    }
  }, 60_000);

  it('refuses a model without a KV cache, an unknown dtype and a tokenizer larger than the vocabulary', async () => {
    const src = writeTinyLm(dir);
    await expect(exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: join(dir, 'x'), variants: 'fp32,q3' })).rejects.toThrow(/unknown variant 'q3'/);
    const small = join(dir, 'small.onnx');
    writeFileSync(small, writeModel(optimumDecoder({ seed: 1, layers: 1, dModel: 16, heads: 2, vocab: 32 })));
    await expect(exportTransformersJs(small, { tokenizer: src.tokenizer, out: join(dir, 'y'), variants: 'fp32' })).rejects.toThrow(/96 tokens, the model's vocabulary only 32/);
    const { torchTransformerEncoder } = await import('@whittle/testing/exporters');
    const enc = join(dir, 'enc.onnx');
    writeFileSync(enc, writeModel(torchTransformerEncoder({ seed: 1 })));
    await expect(exportTransformersJs(enc, { tokenizer: src.tokenizer, out: join(dir, 'z'), variants: 'fp32' })).rejects.toThrow(/no past_key_values/);
  }, 60_000);
});
