/**
 * `whittle export-transformers` on a BERT-like text encoder: the folder Transformers.js loads for
 * feature extraction. Every written dtype is loaded by Transformers.js in Node (local files only)
 * and its hidden states equal what onnxruntime-node gives running the same file on the same token
 * ids; the quantized dtypes stay close to fp32.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModel, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { compareEmbeddings, createOrtRunner, poolEmbeddings } from '@whittle/eval/node';
import { writeModel } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { TINY_BERT_TEXTS, TINY_BERT_TOKENS, TINY_BERT_VOCAB, writeTinyBert } from './fixtures/tiny_bert.js';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXTS = [...TINY_BERT_TEXTS];
/**
 * Smallest cosine of a dtype's mean-pooled embeddings of TEXTS to fp32's. Measured (seed 5):
 * fp16 0.9999998, q8 0.99994, q4 0.9824, q4f16 0.9824. Mean-pooled embeddings of two different
 * texts sit at cosine 0.85–0.94 (BERT's anisotropy), so the q4 bar is set above that.
 */
const BAR = { fp32: 1 - 1e-9, fp16: 0.9999, q8: 0.999, q4: 0.97, q4f16: 0.97 } as const;
const UNRELATED_MAX = 0.95;

type Dtype = keyof typeof BAR;
interface Embedded {
  hidden: Float32Array;
  dims: number[];
  mask: BigInt64Array;
}

describe('export-transformers (text encoder)', () => {
  it('writes a BERT folder; Transformers.js gives the hidden states onnxruntime-node gives, per dtype', async () => {
    const src = writeTinyBert(dir);
    const out = join(dir, 'models', 'bert');
    const cfg = join(dir, 'extra_config.json');
    writeFileSync(cfg, JSON.stringify({ layer_norm_eps: 1e-12, hidden_act: 'gelu' }));
    const cli = await whittleInProcess('export-transformers', src.model, '--tokenizer', src.tokenizer, '--out', out, '--config', cfg);
    expect(cli.stderr.split('\n').filter((l) => l.startsWith('error'))).toEqual([]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/\| q4 \| onnx\/model_q4\.onnx \|.*\| 0\.9\d+ \|/);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'generation_config.json'))).toBe(false);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toEqual({
      architectures: ['BertModel'], model_type: 'bert', vocab_size: TINY_BERT_VOCAB, hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, intermediate_size: 128,
      hidden_act: 'gelu', max_position_embeddings: 64, type_vocab_size: 2, pad_token_id: 0, layer_norm_eps: 1e-12,
    });
    expect(JSON.parse(readFileSync(join(out, 'tokenizer_config.json'), 'utf8'))).toMatchObject({ tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64, cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]' });

    env.allowRemoteModels = false;
    env.localModelPath = join(dir, 'models');
    const tokenizer = await AutoTokenizer.from_pretrained('bert');
    // WordPiece as BERT does it: lowercased, split into word pieces, [CLS] … [SEP], token types
    const one = tokenizer('The cats jumped.');
    const id = (t: string): number => TINY_BERT_TOKENS.indexOf(t);
    expect(Array.from(one.input_ids.data as BigInt64Array, Number)).toEqual(['[CLS]', 'the', 'cat', '##s', 'jump', '##ed', '.', '[SEP]'].map(id));
    expect(Array.from(one.token_type_ids!.data as BigInt64Array, Number)).toEqual(new Array(8).fill(0));
    const batch = tokenizer(TEXTS, { padding: true });
    const [B, T] = batch.input_ids.dims as [number, number];
    const mask = batch.attention_mask.data as BigInt64Array;
    expect(new Set(mask).size).toBe(2); // the batch is padded

    const fp32: Record<string, Embedded> = {};
    const pooled: Partial<Record<Dtype, Float64Array>> = {};
    for (const dtype of Object.keys(BAR) as Dtype[]) {
      const file = join(out, 'onnx', { fp32: 'model', fp16: 'model_fp16', q8: 'model_quantized', q4: 'model_q4', q4f16: 'model_q4f16' }[dtype] + '.onnx');
      const model = await AutoModel.from_pretrained('bert', { dtype });
      const ort = await createOrtRunner(file);
      try {
        const tjs = (await model(batch)) as { last_hidden_state: { data: ArrayLike<number>; dims: number[]; to(t: string): { data: Float32Array } } };
        const mine = (await ort.run({
          input_ids: { data: batch.input_ids.data as BigInt64Array, dims: [B, T], type: 'int64' },
          attention_mask: { data: mask, dims: [B, T], type: 'int64' },
          token_type_ids: { data: batch.token_type_ids!.data as BigInt64Array, dims: [B, T], type: 'int64' },
        })).last_hidden_state!;
        expect(tjs.last_hidden_state.dims, dtype).toEqual([B, T, 64]);
        const hidden = tjs.last_hidden_state.to('float32').data;
        let err = 0;
        for (let i = 0; i < hidden.length; i++) err = Math.max(err, Math.abs(hidden[i]! - mine.data[i]!));
        expect(err, `${dtype}: Transformers.js vs onnxruntime-node, max |Δ|`).toBeLessThanOrEqual(1e-6);
        if (dtype === 'fp32') fp32.x = { hidden, dims: [B, T, 64], mask };
        pooled[dtype] = poolEmbeddings(hidden, [B, T, 64], mask).rows;
      } finally {
        await ort.release();
        await model.dispose();
      }
      // the feature-extraction pipeline (mean pooling over the mask, normalized) on the same texts
      const extractor = await pipeline('feature-extraction', 'bert', { dtype });
      const emb = (await extractor(TEXTS, { pooling: 'mean', normalize: true })) as unknown as { data: Float32Array; dims: number[] };
      expect(emb.dims).toEqual([B, 64]);
      const own = pooled[dtype]!;
      for (let b = 0; b < B; b++) {
        const row = own.subarray(b * 64, (b + 1) * 64);
        const norm = Math.hypot(...row);
        for (let d = 0; d < 64; d++) expect(emb.data[b * 64 + d]!, `${dtype} pipeline row ${b}`).toBeCloseTo(row[d]! / norm, 5);
      }
      await extractor.dispose();
    }
    const cos: Record<string, number> = {};
    for (const dtype of Object.keys(BAR) as Dtype[]) cos[dtype] = compareEmbeddings(pooled.fp32!, pooled[dtype]!, 64).minCosine;
    for (const dtype of Object.keys(BAR) as Dtype[]) expect(cos[dtype], `${dtype} cosine to fp32 (all: ${JSON.stringify(cos)})`).toBeGreaterThan(BAR[dtype]);
    // the texts' embeddings differ, so the bars say something
    const u = pooled.fp32!;
    const row = (x: Float64Array, i: number): Float64Array => x.subarray(i * 64, i * 64 + 64);
    for (let a = 0; a < B; a++) for (let b = a + 1; b < B; b++) expect(compareEmbeddings(row(u, a), row(u, b), 64).minCosine).toBeLessThan(UNRELATED_MAX);
    // and every dtype's embedding of a text is nearest to fp32's embedding of the same text
    for (const dtype of Object.keys(BAR) as Dtype[]) {
      for (let a = 0; a < B; a++) {
        const sims = Array.from({ length: B }, (_, b) => compareEmbeddings(row(u, b), row(pooled[dtype]!, a), 64).minCosine);
        expect(sims.indexOf(Math.max(...sims)), `${dtype} text ${a}`).toBe(a);
      }
    }
    // padding changes nothing: a short text alone embeds as it does in the padded batch
    const alone = tokenizer(TEXTS[2]!);
    const m32 = await AutoModel.from_pretrained('bert', { dtype: 'fp32' });
    const h = ((await m32(alone)) as { last_hidden_state: { data: Float32Array; dims: number[] } }).last_hidden_state;
    const len = h.dims[1]!;
    expect(len).toBeLessThan(T);
    for (let t = 0; t < len; t++) for (let d = 0; d < 64; d++) expect(h.data[t * 64 + d]!).toBeCloseTo(fp32.x!.hidden[(2 * T + t) * 64 + d]!, 5);
    await m32.dispose();
  }, 60_000);

  it('reports each dtype\'s embeddings cosine to the input model; --config merges into config.json', async () => {
    const src = writeTinyBert(dir, 6);
    const cfg = join(dir, 'tjs_config.json');
    writeFileSync(cfg, JSON.stringify({ model_type: 'bert', 'transformers.js_config': { kv_cache_dtype: 'float16' } }));
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: join(dir, 'models', 'b2'), variants: 'fp32,q4', defaultDtype: 'q4', config: cfg });
    expect(r.config['transformers.js_config']).toEqual({ kv_cache_dtype: 'float16', dtype: 'q4' });
    expect(r.kind).toBe('encoder');
    expect(r.files.sort()).toEqual(['config.json', 'onnx/model.onnx', 'onnx/model_q4.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(r.variants.map((v) => v.dtype)).toEqual(['fp32', 'q4']);
    expect(r.variants[0]!.cosineToFp32).toBeCloseTo(1, 6);
    expect(r.variants[1]!.cosineToFp32).toBeGreaterThan(0.97);
    expect(r.variants[1]!.cosineToFp32).toBeLessThan(1 - 1e-5);
    expect(r.variants[1]!.ops).toEqual(expect.arrayContaining(['com.microsoft:MatMulNBits', 'com.microsoft:GatherBlockQuantized']));
    expect(r.warnings).toEqual([]);
  }, 30_000);

  it('refuses what is not a Transformers.js text model, a missing tokenizer and decoder-only flags', async () => {
    const src = writeTinyBert(dir);
    const out = join(dir, 'models', 'bad');
    const noTok = await whittleInProcess('export-transformers', src.model, '--out', out);
    expect(noTok.code).not.toBe(0);
    expect(noTok.stderr).toMatch(/--tokenizer/);
    await expect(exportTransformersJs(src.model, { tokenizer: join(dir, 'nope.json'), out, variants: 'fp32' })).rejects.toThrow(/tokenizer '.*nope\.json' does not exist/);
    await expect(exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: 'fp32', eosTokenId: 3 })).rejects.toThrow(/--bos-token-id \/ --eos-token-id are for decoder LMs/);
    const badCfg = join(dir, 'cfg.json');
    writeFileSync(badCfg, '[1, 2]');
    await expect(exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: 'fp32', config: badCfg })).rejects.toThrow(/--config '.*cfg\.json' must hold a JSON object/);
    // neither a decoder nor an encoder: float features in, no input_ids
    const feats = join(dir, 'feats.onnx');
    writeFileSync(feats, writeModel(torchTransformerEncoder({ seed: 1 })));
    await expect(exportTransformersJs(feats, { tokenizer: src.tokenizer, out, variants: 'fp32' })).rejects.toThrow(/no past_key_values.* and no input_ids input .*inputs are 'src'/);
    // an encoder whose hidden states the pipeline cannot find
    const renamed = torchTransformerEncoder({ seed: 1, vocab: TINY_BERT_VOCAB, attentionMask: true });
    renamed.graph.outputs[0]!.name = 'hidden';
    for (const n of renamed.graph.nodes) n.outputs = n.outputs.map((o) => (o === 'last_hidden_state' ? 'hidden' : o));
    const ren = join(dir, 'renamed.onnx');
    writeFileSync(ren, writeModel(renamed));
    await expect(exportTransformersJs(ren, { tokenizer: src.tokenizer, out, variants: 'fp32' })).rejects.toThrow(/no 'last_hidden_state' or 'token_embeddings' output.*\(outputs: 'hidden'\)/);
    // a tokenizer larger than the encoder's vocabulary
    const small = join(dir, 'small_bert.onnx');
    writeFileSync(small, writeModel(torchTransformerEncoder({ seed: 1, vocab: 40, attentionMask: true })));
    await expect(exportTransformersJs(small, { tokenizer: src.tokenizer, out, variants: 'fp32' })).rejects.toThrow(new RegExp(`${TINY_BERT_VOCAB} tokens, the model's vocabulary only 40`));
    expect(existsSync(out)).toBe(false);
  }, 30_000);

  it('a variant with non-finite hidden states is refused by the probe', async () => {
    const { encoderProbe, probeCosine } = await import('../src/commands/export_transformers_probe.js');
    const { encoderShapeOf } = await import('@whittle/eval');
    const opts = { seed: 2, vocab: TINY_BERT_VOCAB, attentionMask: true, typeVocab: 2 } as const;
    const good = join(dir, 'good.onnx');
    writeFileSync(good, writeModel(torchTransformerEncoder(opts)));
    const broken = torchTransformerEncoder(opts);
    const beta = broken.graph.initializers.get('encoder.layer.1.output.LayerNorm.bias')!;
    const data = Float32Array.from(beta.dataSync() as Float32Array);
    data[5] = NaN;
    broken.graph.initializers.set('encoder.layer.1.output.LayerNorm.bias', tensor(data, [...beta.shape], 'float32', { backend: 'cpu' }));
    const shape = encoderShapeOf(torchTransformerEncoder(opts));
    const probe = await encoderProbe(good, shape, { vocab: TINY_BERT_VOCAB, specials: new Set([0, 1, 2, 3, 4]), cls: 2, sep: 3, pad: 0 }, {});
    expect(probe.feeds.attention_mask).toBeDefined();
    expect(await probeCosine(probe, good, 'last_hidden_state', 'same')).toBeCloseTo(1, 9);
    await expect(probeCosine(probe, writeModel(broken), 'last_hidden_state', 'q4 (onnx/model_q4.onnx, not written)')).rejects.toThrow(/q4 \(onnx\/model_q4\.onnx, not written\): 'last_hidden_state' holds NaN at \[0, 0, 5\]/);
  }, 30_000);
});
