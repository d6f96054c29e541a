/**
 * `whittle export-transformers` on BERT-like encoders with a task head: the folder
 * Transformers.js' text-classification, token-classification, fill-mask and question-answering
 * pipelines load. Every written dtype is loaded in Node from the local folder; its logits (start
 * and end logits) equal what onnxruntime-node gives running the same file on the same token ids,
 * the pipelines' labels come from id2label, the answers are the spans those logits give, and the
 * quantized dtypes predict what fp32 predicts on the test texts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoModelForMaskedLM, AutoModelForQuestionAnswering, AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { afterAll, describe, expect, it } from 'vitest';
import '@whittle/quantize';
import { LayoutError } from '@whittle/eval';
import { createOrtRunner } from '@whittle/eval/node';
import type { Model } from '@whittle/graph';
import { writeModel } from '@whittle/onnx';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import { exportTransformersJs } from '../src/commands/export_transformers.js';
import { TINY_BERT_TEXTS, TINY_BERT_TOKENS, TINY_BERT_VOCAB, writeTinyBert } from './fixtures/tiny_bert.js';
import { writeTinyLm } from './fixtures/tiny_lm.js';
import { whittleInProcess } from './in_process.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-tjs-heads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXTS = [
  ...TINY_BERT_TEXTS,
  'she sings in the rain',
  'The old car ran without water.',
  'you eat bread and apples with music',
  'is it snow or sun?',
];
const DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const;
type Dtype = (typeof DTYPES)[number];
const FILE: Record<Dtype, string> = { fp32: 'model', fp16: 'model_fp16', q8: 'model_quantized', q4: 'model_q4', q4f16: 'model_q4f16' };

/*
 * Bars, measured on these tiny random heads (width 64, so 4-bit blocks of 32 cover half a row).
 * Largest softmax probability change from fp32 over the texts (classes / tokens / mask positions):
 *   text-classification fp16 0.0005, q8 0.018, q4 0.128, q4f16 0.127;
 *   token-classification fp16 0.0014, q8 0.040, q4 0.420, q4f16 0.421;
 *   fill-mask            fp16 0.0006, q8 0.015, q4 0.260, q4f16 0.260.
 * The bars sit at 2–4× these. Top class vs fp32: text classification agrees on all 8 texts for
 * every dtype (fp32's margins between its top two probabilities are ≥ 0.18 there, no near ties),
 * so every dtype must. Token classification, 85 tokens: fp16 100%, q8 98.8% (one flip, at a
 * 0.058 margin), q4 and q4f16 97.6% (two flips): bars 100%, 97%, 95%. The random masked LM's
 * scores over the vocabulary are flat (fp32 margins 0.002–0.65), so top-1 flips there are near
 * ties (q8 2 of 6, q4 4 of 6); the bar is fp32's answer in every dtype's top 5 (all hold) and
 * fp16's top 1 equal to fp32's.
 */
const CLS_PROB_DELTA: Record<Dtype, number> = { fp32: 0, fp16: 0.002, q8: 0.05, q4: 0.3, q4f16: 0.3 };
const TOK_PROB_DELTA: Record<Dtype, number> = { fp32: 0, fp16: 0.005, q8: 0.1, q4: 0.6, q4f16: 0.6 };
const TOK_AGREE: Record<Dtype, number> = { fp32: 1, fp16: 1, q8: 0.97, q4: 0.95, q4f16: 0.95 };
const MLM_PROB_DELTA: Record<Dtype, number> = { fp32: 0, fp16: 0.002, q8: 0.05, q4: 0.5, q4f16: 0.5 };
/*
 * Question answering (5 questions), against the input model (which the fp32 file equals): largest
 * change of a start or end probability over the context tokens: fp16 0.0008, q8 0.016, q4 0.167,
 * q4f16 0.167; bars at 2–4×. Best span equal to the input's: fp16 and q8 5 of 5, q4 and q4f16 4 of 5
 * (the flip is the question whose best two spans are closest, 0.080 against 0.061); bars all, all,
 * 3 of 5.
 */
const QA_PROB_DELTA: Record<Dtype, number> = { fp32: 0, fp16: 0.003, q8: 0.05, q4: 0.4, q4f16: 0.4 };
const QA_AGREE: Record<Dtype, number> = { fp32: 5, fp16: 5, q8: 5, q4: 3, q4f16: 3 };

interface Logits {
  data: Float32Array;
  dims: number[];
}
interface Batch {
  input_ids: { data: BigInt64Array; dims: number[] };
  attention_mask: { data: BigInt64Array; dims: number[] };
  token_type_ids?: { data: BigInt64Array; dims: number[] };
}

/** The file's logits (or the named outputs) in onnxruntime-node on the tokenizer's batch. */
async function ortLogits(file: string, batch: Batch, names: readonly string[] = ['logits']): Promise<Logits[]> {
  const ort = await createOrtRunner(file);
  try {
    const dims = batch.input_ids.dims;
    const got = await ort.run({
      input_ids: { data: batch.input_ids.data, dims, type: 'int64' },
      attention_mask: { data: batch.attention_mask.data, dims, type: 'int64' },
      token_type_ids: { data: batch.token_type_ids!.data, dims, type: 'int64' },
    });
    return names.map((n) => ({ data: Float32Array.from(got[n]!.data), dims: [...got[n]!.dims] }));
  } finally {
    await ort.release();
  }
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const argmax = (x: ArrayLike<number>): number => {
  let k = 0;
  for (let i = 1; i < x.length; i++) if (x[i]! > x[k]!) k = i;
  return k;
};
const softmax = (x: ArrayLike<number>): number[] => {
  const m = Math.max(...Array.from(x));
  const e = Array.from(x, (v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const row = (l: Logits, i: number): Float32Array => {
  const n = l.dims[l.dims.length - 1]!;
  return l.data.subarray(i * n, (i + 1) * n);
};

/** Run `model` (a Transformers.js head class) per dtype: logits vs onnxruntime-node on the same file, then `check` with both. */
async function perDtype(
  out: string,
  name: string,
  Auto: typeof AutoModelForSequenceClassification,
  batch: Batch,
  check: (dtype: Dtype, logits: Logits) => Promise<void>,
): Promise<Record<Dtype, Logits>> {
  const all = {} as Record<Dtype, Logits>;
  for (const dtype of DTYPES) {
    const model = await Auto.from_pretrained(name, { dtype });
    try {
      const tjs = ((await model(batch)) as { logits: { data: Float32Array; dims: number[] } }).logits;
      const mine = (await ortLogits(join(out, 'onnx', `${FILE[dtype]}.onnx`), batch))[0]!;
      expect(tjs.dims, dtype).toEqual(mine.dims);
      expect(maxAbs(tjs.data, mine.data), `${dtype}: Transformers.js vs onnxruntime-node logits, max |Δ|`).toBeLessThanOrEqual(1e-6);
      all[dtype] = mine;
    } finally {
      await model.dispose();
    }
    await check(dtype, all[dtype]);
  }
  return all;
}

/** The tokenizer's special token ids ([UNK] included, as Transformers.js' all_special_ids). */
const SPECIAL_IDS: ReadonlySet<number> = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => TINY_BERT_TOKENS.indexOf(t)));

/**
 * The answer positions the question-answering pipeline may pick in one sequence (`ids`): tokens
 * after the first [SEP] (the context) that are not special, as its masking leaves them.
 */
const contextPositions = (ids: readonly number[]): number[] => {
  const sep = ids.indexOf(TINY_BERT_TOKENS.indexOf('[SEP]'));
  return ids.map((id, t) => (t > sep && !SPECIAL_IDS.has(id) ? t : -1)).filter((t) => t >= 0);
};

/** P(start) and P(end) at the context positions: the pipeline's softmax keeps [CLS] (position 0) in, then gives it 0. */
const spanProbs = (start: ArrayLike<number>, end: ArrayLike<number>, at: readonly number[]): [number[], number[]] =>
  [start, end].map((x) => softmax([x[0]!, ...at.map((t) => x[t]!)]).slice(1)) as [number[], number[]];

/** The best `k` spans [start, end] (start ≤ end, context positions only) by P(start)·P(end), as the pipeline ranks them. */
function bestSpans(start: ArrayLike<number>, end: ArrayLike<number>, ids: readonly number[], k: number): { start: number; end: number; score: number }[] {
  const at = contextPositions(ids);
  const [ps, pe] = spanProbs(start, end, at);
  const spans: { start: number; end: number; score: number }[] = [];
  at.forEach((s, i) => at.forEach((e, j) => s <= e && spans.push({ start: s, end: e, score: ps[i]! * pe[j]! })));
  return spans.sort((a, b) => b.score - a.score).slice(0, k);
}

function useLocalModels(): void {
  env.allowRemoteModels = false;
  env.localModelPath = join(dir, 'models');
}

describe('export-transformers (encoder task heads)', () => {
  it('text-classification: BertForSequenceClassification with --labels; pipeline labels and scores per dtype', async () => {
    const src = writeTinyBert(dir, 11, { head: 'sequence-classification', numLabels: 3, classifierGain: 4 }, 'bert_cls');
    const out = join(dir, 'models', 'cls');
    const cli = await whittleInProcess('export-transformers', src.model, '--tokenizer', src.tokenizer, '--out', out, '--labels', 'negative, neutral,positive');
    expect(cli.stderr.split('\n').filter((l) => l.startsWith('error'))).toEqual([]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/\| top-1 \| max Δp \|/);
    expect(cli.stdout).toMatch(/\| q8 \| onnx\/model_quantized\.onnx \|.*\| 100\.0% \| 0\.0\d+ \|/);
    expect(cli.stdout).not.toMatch(/LABEL_0/);
    for (const f of Object.values(FILE)) expect(existsSync(join(out, 'onnx', `${f}.onnx`)), f).toBe(true);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      architectures: ['BertForSequenceClassification'], model_type: 'bert', hidden_size: 64, num_hidden_layers: 2, vocab_size: TINY_BERT_VOCAB,
      id2label: { 0: 'negative', 1: 'neutral', 2: 'positive' }, label2id: { negative: 0, neutral: 1, positive: 2 },
    });

    useLocalModels();
    const tokenizer = await AutoTokenizer.from_pretrained('cls');
    const batch = tokenizer(TEXTS, { padding: true, truncation: true }) as unknown as Batch;
    expect(new Set(batch.attention_mask.data).size).toBe(2); // padded
    const names = ['negative', 'neutral', 'positive'];
    const all = await perDtype(out, 'cls', AutoModelForSequenceClassification, batch, async (dtype, logits) => {
      expect(logits.dims).toEqual([TEXTS.length, 3]);
      const classify = await pipeline('text-classification', 'cls', { dtype });
      // the same padded batch as above (dynamic int8 scales depend on the whole batch)
      const got = (await classify(TEXTS)) as { label: string; score: number }[];
      const top3 = (await classify(TEXTS, { top_k: 3 })) as unknown as { label: string; score: number }[][];
      await classify.dispose();
      got.forEach((g, i) => {
        const p = softmax(row(logits, i));
        expect(g.label, `${dtype} text ${i}`).toBe(names[argmax(p)]);
        expect(g.score).toBeCloseTo(Math.max(...p), 6);
        expect(top3[i]!.map((x) => x.label).sort()).toEqual([...names].sort());
        for (const x of top3[i]!) expect(x.score, `${dtype} text ${i} ${x.label}`).toBeCloseTo(p[names.indexOf(x.label)]!, 6);
      });
    });
    const predicted = (d: Dtype): number[] => TEXTS.map((_, i) => argmax(row(all[d], i)));
    // the texts are not all one class, so agreeing on them says something
    expect(new Set(predicted('fp32')).size).toBeGreaterThan(1);
    const probDelta = (d: Dtype): number => Math.max(...TEXTS.map((_, i) => maxAbs(softmax(row(all.fp32, i)), softmax(row(all[d], i)))));
    const margins = TEXTS.map((_, i) => {
      const p = softmax(row(all.fp32, i)).sort((a, b) => b - a);
      return p[0]! - p[1]!;
    });
    const measured = Object.fromEntries(DTYPES.map((d) => [d, probDelta(d)]));
    for (const d of DTYPES) {
      expect(measured[d], `${d} largest softmax change from fp32 (all: ${JSON.stringify(measured)})`).toBeLessThanOrEqual(CLS_PROB_DELTA[d]);
      expect(predicted(d), `${d} labels vs fp32's (fp32 margins ${margins.map((m) => m.toFixed(3)).join(' ')})`).toEqual(predicted('fp32'));
    }
    // bnb4 (NF4 MatMulBnb4), written into the same folder by the single-model command; blocks of 32
    // as q4's (at the default 64, a whole row of this width-64 model, one of the 8 labels flips)
    const bnb = await whittleInProcess('quantize', 'bnb4', join(out, 'onnx', 'model.onnx'), '-o', out, '--transformers-js', 'bnb4', '--block-size', '32');
    expect(bnb.code, bnb.stderr).toBe(0);
    const model = await AutoModelForSequenceClassification.from_pretrained('cls', { dtype: 'bnb4' });
    try {
      const tjs = ((await model(batch)) as { logits: { data: Float32Array; dims: number[] } }).logits;
      const mine = (await ortLogits(join(out, 'onnx', 'model_bnb4.onnx'), batch))[0]!;
      expect(maxAbs(tjs.data, mine.data), 'bnb4: Transformers.js vs onnxruntime-node logits').toBeLessThanOrEqual(1e-6);
      expect(TEXTS.map((_, i) => argmax(row(mine, i)))).toEqual(predicted('fp32'));
    } finally {
      await model.dispose();
    }
  }, 60_000);

  it('token-classification: BertForTokenClassification with the --config id2label; pipeline entities per dtype', async () => {
    const src = writeTinyBert(dir, 12, { head: 'token-classification', numLabels: 4, classifierGain: 4 }, 'bert_tok');
    const out = join(dir, 'models', 'tok');
    const cfg = join(dir, 'tok_config.json');
    const names = ['O', 'B-THING', 'I-THING', 'B-PLACE'];
    // a Hugging Face config.json as trained: its label2id is rewritten from id2label
    writeFileSync(cfg, JSON.stringify({ id2label: Object.fromEntries(names.map((n, i) => [String(i), n])), label2id: { stale: 0 } }));
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: DTYPES.join(','), config: cfg });
    expect(r.task).toBe('token-classification');
    expect(r.warnings).toEqual([]);
    expect(r.config).toMatchObject({ architectures: ['BertForTokenClassification'], id2label: { 0: 'O', 1: 'B-THING', 2: 'I-THING', 3: 'B-PLACE' }, label2id: { O: 0, 'B-THING': 1, 'I-THING': 2, 'B-PLACE': 3 } });
    expect(r.config.label2id).not.toHaveProperty('stale');

    useLocalModels();
    const tokenizer = await AutoTokenizer.from_pretrained('tok');
    const batch = tokenizer(TEXTS, { padding: true, truncation: true }) as unknown as Batch;
    const [B, T] = batch.input_ids.dims as [number, number];
    // special tokens ([UNK] too) decode to nothing, so the pipeline skips them
    const special = SPECIAL_IDS;
    let entities = 0;
    const all = await perDtype(out, 'tok', AutoModelForTokenClassification, batch, async (dtype, logits) => {
      expect(logits.dims).toEqual([B, T, 4]);
      const tag = await pipeline('token-classification', 'tok', { dtype });
      const every = (await tag(TEXTS, { ignore_labels: [] })) as unknown as { entity: string; score: number; index: number; word: string }[][];
      const named = (await tag(TEXTS)) as unknown as { entity: string; index: number }[][];
      await tag.dispose();
      for (let b = 0; b < B; b++) {
        const ids = Array.from(batch.input_ids.data.subarray(b * T, (b + 1) * T), Number);
        const words = ids.map((id, t) => ({ id, t })).filter(({ id }) => !special.has(id));
        expect(every[b]!.map((e) => e.index), `${dtype} text ${b}`).toEqual(words.map(({ t }) => t));
        for (const e of every[b]!) {
          const p = softmax(row(logits, b * T + e.index));
          expect(e.entity, `${dtype} text ${b} token ${e.index}`).toBe(names[argmax(p)]);
          expect(e.score).toBeCloseTo(Math.max(...p), 6);
          expect(e.word).toBe(TINY_BERT_TOKENS[ids[e.index]!]);
        }
        // the default drops 'O'
        expect(named[b]!.map((e) => e.index)).toEqual(every[b]!.filter((e) => e.entity !== 'O').map((e) => e.index));
        if (dtype === 'fp32') entities += named[b]!.length;
      }
    });
    const mask = batch.attention_mask.data;
    const tokens = Array.from({ length: B * T }, (_, i) => i).filter((i) => mask[i] === 1n);
    const fp32 = tokens.map((i) => argmax(row(all.fp32, i)));
    expect(new Set(fp32).size).toBeGreaterThan(2);
    expect(entities).toBeGreaterThan(0);
    const agree = Object.fromEntries(DTYPES.map((d) => [d, tokens.filter((i, k) => argmax(row(all[d], i)) === fp32[k]).length / tokens.length]));
    const probDelta = Object.fromEntries(DTYPES.map((d) => [d, Math.max(...tokens.map((i) => maxAbs(softmax(row(all.fp32, i)), softmax(row(all[d], i)))))]));
    for (const d of DTYPES) {
      expect(agree[d], `${d} tokens tagged as fp32 tags them (all: ${JSON.stringify(agree)})`).toBeGreaterThanOrEqual(TOK_AGREE[d]);
      expect(probDelta[d], `${d} largest softmax change from fp32 (all: ${JSON.stringify(probDelta)})`).toBeLessThanOrEqual(TOK_PROB_DELTA[d]);
    }
  }, 60_000);

  it('fill-mask: BertForMaskedLM told by logits over the vocabulary; pipeline top-5 per dtype', async () => {
    const src = writeTinyBert(dir, 13, { head: 'masked-lm', classifierGain: 3 }, 'bert_mlm');
    const out = join(dir, 'models', 'mlm');
    const r = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out, variants: DTYPES.join(',') });
    expect(r.task).toBe('fill-mask');
    expect(r.warnings).toEqual([]);
    expect(r.config).toMatchObject({ architectures: ['BertForMaskedLM'], vocab_size: TINY_BERT_VOCAB, hidden_size: 64 });
    expect(r.config).not.toHaveProperty('id2label');
    const masked = ['The cat sat on the [MASK].', 'birds [MASK] over the green trees', 'we read [MASK] today', 'a [MASK] dog ran in the garden', 'they [MASK] water with bread', 'the sun is [MASK] and happy'];

    useLocalModels();
    const tokenizer = await AutoTokenizer.from_pretrained('mlm');
    const batch = tokenizer(masked, { padding: true, truncation: true }) as unknown as Batch;
    const [B, T] = batch.input_ids.dims as [number, number];
    const maskId = TINY_BERT_TOKENS.indexOf('[MASK]');
    const at = Array.from({ length: B }, (_, b) => b * T + Array.from(batch.input_ids.data.subarray(b * T, (b + 1) * T), Number).indexOf(maskId));
    expect(at.every((i, b) => i >= b * T)).toBe(true);
    const all = await perDtype(out, 'mlm', AutoModelForMaskedLM, batch, async (dtype, logits) => {
      expect(logits.dims).toEqual([B, T, TINY_BERT_VOCAB]);
      const fill = await pipeline('fill-mask', 'mlm', { dtype });
      const got = (await fill(masked, { top_k: 5 })) as unknown as { score: number; token: number; token_str: string }[][];
      await fill.dispose();
      for (let b = 0; b < B; b++) {
        const p = softmax(row(logits, at[b]!));
        const order = p.map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0]).slice(0, 5);
        expect(got[b]!.map((g) => g.token), `${dtype} text ${b}`).toEqual(order.map(([, i]) => i));
        got[b]!.forEach((g, k) => {
          expect(g.score).toBeCloseTo(order[k]![0], 6);
          expect(g.token_str).toBe(TINY_BERT_TOKENS[g.token]);
        });
      }
    });
    const top = (d: Dtype): number[] => at.map((i) => argmax(row(all[d], i)));
    expect(new Set(top('fp32')).size).toBeGreaterThan(1);
    const probDelta = Object.fromEntries(DTYPES.map((d) => [d, Math.max(...at.map((i) => maxAbs(softmax(row(all.fp32, i)), softmax(row(all[d], i)))))]));
    const margins = at.map((i) => {
      const p = softmax(row(all.fp32, i)).sort((a, b) => b - a);
      return p[0]! - p[1]!;
    });
    const top5 = (l: Logits, i: number): number[] => Array.from(row(l, i), (v, k) => [v, k] as const).sort((x, y) => y[0] - x[0]).slice(0, 5).map(([, k]) => k);
    expect(top('fp16')).toEqual(top('fp32'));
    for (const d of DTYPES) {
      expect(probDelta[d], `${d} largest softmax change from fp32 (all: ${JSON.stringify(probDelta)})`).toBeLessThanOrEqual(MLM_PROB_DELTA[d]);
      at.forEach((i, b) => expect(top5(all[d], i), `${d} text ${b}: top 5 holds fp32's answer (fp32 margins ${margins.map((m) => m.toFixed(3)).join(' ')})`).toContain(top('fp32')[b]));
    }
  }, 60_000);

  it('question-answering: BertForQuestionAnswering told by start/end logits; pipeline answers per dtype', async () => {
    const src = writeTinyBert(dir, 15, { head: 'question-answering', classifierGain: 4 }, 'bert_qa');
    const out = join(dir, 'models', 'qa');
    const cli = await whittleInProcess('export-transformers', src.model, '--tokenizer', src.tokenizer, '--out', out);
    expect(cli.stderr.split('\n').filter((l) => l.startsWith('error'))).toEqual([]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/question-answering \(BertForQuestionAnswering\); top-1: probe sequences' answer start and end tokens/);
    expect(cli.stdout).toMatch(/\| fp16 \| onnx\/model_fp16\.onnx \|.*\| 100\.0% \| 0\.0\d+ \|/);
    // no folder warning (the tokenizer has the [SEP] the pipeline looks for); q4's probe may warn
    expect(cli.stdout).not.toMatch(/^warning: /m);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ architectures: ['BertForQuestionAnswering'], model_type: 'bert', hidden_size: 64, num_hidden_layers: 2, vocab_size: TINY_BERT_VOCAB });
    expect(config).not.toHaveProperty('id2label');
    const questions = ['where is the cat?', 'who sings in the rain?', 'what flew over the trees?', 'when was he happy?', 'what do they eat?'];
    const contexts = [
      'The cat sat on the mat in the old house.',
      'She sings in the rain with music, and they walked slowly.',
      'Birds flew over the green trees today, and the dog jumped!',
      'he was happy yesterday morning but sad today',
      'they eat bread and apples with water in the garden',
    ];

    useLocalModels();
    const tokenizer = await AutoTokenizer.from_pretrained('qa');
    // question [SEP] context, token type 1 on the context, padded: what the pipeline feeds the model
    const batch = tokenizer(questions, { text_pair: contexts, padding: true, truncation: true }) as unknown as Batch;
    const [B, T] = batch.input_ids.dims as [number, number];
    expect(new Set(batch.attention_mask.data).size).toBe(2);
    expect(new Set(batch.token_type_ids!.data).size).toBe(2);
    const ids = Array.from({ length: B }, (_, b) => Array.from(batch.input_ids.data.subarray(b * T, (b + 1) * T), Number));
    const all = {} as Record<Dtype, [Logits, Logits]>;
    for (const dtype of DTYPES) {
      // Transformers.js' logits equal onnxruntime-node's on the same file, then its answers are the spans they give
      const model = await AutoModelForQuestionAnswering.from_pretrained('qa', { dtype });
      let tjs: Record<'start_logits' | 'end_logits', { data: Float32Array; dims: number[] }>;
      try {
        tjs = (await model(batch)) as typeof tjs;
      } finally {
        await model.dispose();
      }
      const mine = await ortLogits(join(out, 'onnx', `${FILE[dtype]}.onnx`), batch, ['start_logits', 'end_logits']);
      (['start_logits', 'end_logits'] as const).forEach((name, k) => {
        expect(tjs[name].dims, `${dtype} ${name}`).toEqual([B, T]);
        expect(mine[k]!.dims).toEqual([B, T]);
        expect(maxAbs(tjs[name].data, mine[k]!.data), `${dtype}: Transformers.js vs onnxruntime-node ${name}, max |Δ|`).toBeLessThanOrEqual(1e-6);
      });
      all[dtype] = [mine[0]!, mine[1]!];
      const answer = await pipeline('question-answering', 'qa', { dtype });
      // the same padded batch (dynamic int8 scales depend on the whole batch)
      const got = (await answer(questions, contexts, { top_k: 3 })) as unknown as { answer: string; score: number }[][];
      await answer.dispose();
      expect(got).toHaveLength(B);
      for (let b = 0; b < B; b++) {
        const want = bestSpans(row(mine[0]!, b), row(mine[1]!, b), ids[b]!, 3);
        expect(got[b]!.map((g) => g.answer), `${dtype} question ${b}`).toEqual(want.map((w) => tokenizer.decode(ids[b]!.slice(w.start, w.end + 1), { skip_special_tokens: true })));
        got[b]!.forEach((g, k) => expect(g.score, `${dtype} question ${b} answer ${k}`).toBeCloseTo(want[k]!.score, 6));
      }
    }
    // every dtype against the input model's start/end logits on the same ids
    const [inStart, inEnd] = await ortLogits(src.model, batch, ['start_logits', 'end_logits']);
    const input: [Logits, Logits] = [inStart!, inEnd!];
    expect(Math.max(maxAbs(all.fp32[0].data, input[0].data), maxAbs(all.fp32[1].data, input[1].data)), 'fp32 file vs the input model').toBeLessThanOrEqual(1e-6);
    const span = (l: [Logits, Logits], b: number): string => {
      const [w] = bestSpans(row(l[0], b), row(l[1], b), ids[b]!, 1);
      return `${w!.start}-${w!.end}`;
    };
    const inputSpans = ids.map((_, b) => span(input, b));
    // the answers are not all one span, so agreeing on them says something
    expect(new Set(inputSpans).size).toBeGreaterThan(1);
    const probs = (l: [Logits, Logits], b: number): number[] => spanProbs(row(l[0], b), row(l[1], b), contextPositions(ids[b]!)).flat();
    const measured = Object.fromEntries(DTYPES.map((d) => [d, Math.max(...ids.map((_, b) => maxAbs(probs(input, b), probs(all[d], b))))]));
    const agree = Object.fromEntries(DTYPES.map((d) => [d, ids.filter((_, b) => span(all[d], b) === inputSpans[b]).length]));
    for (const d of DTYPES) {
      expect(measured[d], `${d} largest start/end probability change from the input model (all: ${JSON.stringify(measured)})`).toBeLessThanOrEqual(QA_PROB_DELTA[d]);
      expect(agree[d], `${d} answers equal to the input model's (all: ${JSON.stringify(agree)})`).toBeGreaterThanOrEqual(QA_AGREE[d]);
    }
  }, 60_000);

  it('--task overrides what the logits tell; a head with as many classes as tokens is a masked LM unless told', async () => {
    const src = writeTinyBert(dir, 14, { head: 'token-classification', numLabels: TINY_BERT_VOCAB }, 'bert_wide');
    const guessed = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: join(dir, 'models', 'wide_mlm'), variants: 'fp32' });
    expect(guessed.task).toBe('fill-mask');
    expect(guessed.config.architectures).toEqual(['BertForMaskedLM']);
    const told = await exportTransformersJs(src.model, { tokenizer: src.tokenizer, out: join(dir, 'models', 'wide_tok'), variants: 'fp32', task: 'token-classification' });
    expect(told.task).toBe('token-classification');
    expect(told.config.architectures).toEqual(['BertForTokenClassification']);
    expect(Object.keys(told.config.id2label as object)).toHaveLength(TINY_BERT_VOCAB);
    expect((told.config.id2label as Record<string, string>)['84']).toBe('LABEL_84');
    expect(told.warnings).toEqual([expect.stringMatching(/id2label is LABEL_0…LABEL_84 \(Hugging Face's default\).*--labels/)]);
    expect(told.variants[0]!.top1ToFp32).toBe(1);
    expect(told.variants[0]!.maxProbDelta).toBe(0);
  }, 30_000);

  it('refuses labels that do not fit the head, tasks the logits do not fit, position_ids and half a question answering head; nothing is written', async () => {
    const cls = writeTinyBert(dir, 11, { head: 'sequence-classification', numLabels: 3 }, 'bad_cls');
    const tok = writeTinyBert(dir, 12, { head: 'token-classification', numLabels: 4 }, 'bad_tok');
    const base = writeTinyBert(dir, 5, undefined, 'bad_base');
    const out = join(dir, 'models', 'refused');
    const cli = await whittleInProcess('export-transformers', cls.model, '--tokenizer', cls.tokenizer, '--out', out, '--labels', 'negative,positive');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/--labels 'negative,positive' names 2 labels; the model's head has 3 classes \(output 'logits' last dim\)/);
    expect(cli.stdout).toBe('');
    const run = (model: string, extra: Record<string, string>) => exportTransformersJs(model, { tokenizer: cls.tokenizer, out, variants: 'fp32', ...extra });
    await expect(run(cls.model, { labels: 'a,b,a' })).rejects.toThrow(/label 'a' is given twice \(classes 0 and 2\)/);
    await expect(run(cls.model, { labels: 'a,,c' })).rejects.toThrow(/label 1 is empty/);
    await expect(run(base.model, { labels: 'a,b' })).rejects.toThrow(/--labels is for classification heads .*exported for feature-extraction/);
    const cfg = (name: string, v: unknown): string => {
      const f = join(dir, name);
      writeFileSync(f, JSON.stringify(v));
      return f;
    };
    await expect(run(cls.model, { config: cfg('two.json', { id2label: { 0: 'a', 1: 'b' } }) })).rejects.toThrow(/--config id2label names 2 labels; the model's head has 3 classes/);
    await expect(run(cls.model, { config: cfg('keys.json', { id2label: { 0: 'a', 1: 'b', 5: 'c' } }) })).rejects.toThrow(/--config id2label key '5' is not a class index 0…2/);
    await expect(run(cls.model, { config: cfg('list.json', { id2label: ['a', 'b', 'c'] }) })).rejects.toThrow(/--config id2label must be an object of class index → name/);
    await expect(run(cls.model, { task: 'sentiment' })).rejects.toThrow(/--task 'sentiment' is not an encoder task; choose from feature-extraction, text-classification, token-classification, fill-mask/);
    await expect(run(cls.model, { task: 'token-classification' })).rejects.toThrow(/--task token-classification needs logits \[batch, sequence, …\]; output 'logits' is \[batch_size, 3\]/);
    await expect(run(tok.model, { task: 'text-classification' })).rejects.toThrow(/--task text-classification needs logits \[batch, labels\]; output 'logits' is \[batch_size, sequence, 4\]/);
    await expect(run(tok.model, { task: 'fill-mask' })).rejects.toThrow(new RegExp(`--task fill-mask needs logits over the vocabulary \\(${TINY_BERT_VOCAB} tokens\\); output 'logits' is \\[batch_size, sequence, 4\\], a token classification head with 4 labels`));
    await expect(run(tok.model, { task: 'feature-extraction' })).rejects.toThrow(/no 'last_hidden_state' or 'token_embeddings' output.*\(outputs: 'logits'\)/);
    await expect(run(base.model, { task: 'text-classification' })).rejects.toThrow(/--task text-classification reads a head's 'logits' output; the model's outputs are 'last_hidden_state'/);
    // an encoder exported with position_ids: Transformers.js would not feed it
    const withPos = torchTransformerEncoder({ seed: 1, vocab: TINY_BERT_VOCAB, attentionMask: true });
    withPos.graph.inputs.push({ ...withPos.graph.inputs[0]!, name: 'position_ids' });
    const pos = join(dir, 'pos.onnx');
    writeFileSync(pos, writeModel(withPos));
    await expect(run(pos, {})).rejects.toThrow(/takes input 'position_ids', which Transformers.js does not feed a text encoder \(its encoder_forward passes only the tokenizer's input_ids, attention_mask, token_type_ids\)/);
    // question answering: both span outputs, one score per token
    const qaModel = (edit: (m: Model) => void): string => {
      const m = torchTransformerEncoder({ seed: 1, vocab: TINY_BERT_VOCAB, attentionMask: true, typeVocab: 2, head: 'question-answering' });
      edit(m);
      const f = join(dir, 'qa.onnx');
      writeFileSync(f, writeModel(m));
      return f;
    };
    const startOnly = qaModel((m) => void (m.graph.outputs = m.graph.outputs.filter((o) => o.name !== 'end_logits')));
    await expect(run(startOnly, {})).rejects.toThrow(/has output 'start_logits' but no 'end_logits' output: a question answering head gives both, \[batch, sequence\] span start and end scores, and Transformers\.js' question-answering pipeline reads both \(the model's outputs are 'start_logits'\)/);
    await expect(run(startOnly, {})).rejects.toBeInstanceOf(LayoutError);
    await expect(run(startOnly, { task: 'feature-extraction' })).rejects.toThrow(/no 'last_hidden_state' or 'token_embeddings' output.*; 'start_logits' is a question answering head's \(--task question-answering\)/);
    const endOnly = qaModel((m) => void (m.graph.outputs = m.graph.outputs.filter((o) => o.name !== 'start_logits')));
    await expect(run(endOnly, { task: 'question-answering' })).rejects.toThrow(/has output 'end_logits' but no 'start_logits' output/);
    await expect(run(tok.model, { task: 'question-answering' })).rejects.toThrow(/--task question-answering reads a question answering head's 'start_logits' and 'end_logits' outputs; the model's outputs are 'logits'/);
    // not squeezed: [batch, sequence, 1] each
    const unsqueezed = qaModel((m) => {
      m.graph.nodes = m.graph.nodes.filter((n) => n.opType !== 'Squeeze');
      const split = m.graph.nodes.find((n) => n.opType === 'Split')!;
      split.outputs = ['start_logits', 'end_logits'];
      m.graph.outputs = m.graph.outputs.map((o) => ({ ...o, type: { kind: 'tensor', elemType: 'float32', shape: ['batch_size', 'sequence', 1] } }));
    });
    await expect(run(unsqueezed, {})).rejects.toThrow(/output 'start_logits' is \[batch_size, sequence, 1\]; Transformers\.js' question-answering pipeline reads one score per token, \[batch, sequence\] \(squeeze the last axis, as BertForQuestionAnswering does\)/);
    // a decoder LM has no encoder head
    const lmDir = mkdtempSync(join(dir, 'lm-'));
    const lm = writeTinyLm(lmDir);
    await expect(exportTransformersJs(lm.model, { tokenizer: lm.tokenizer, out, variants: 'fp32', labels: 'a,b' })).rejects.toThrow(/--task \/ --labels are for text encoders; '.*model\.onnx' is a decoder LM/);
    expect(existsSync(out)).toBe(false);
  }, 30_000);
});
