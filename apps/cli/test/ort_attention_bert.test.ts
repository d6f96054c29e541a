/**
 * The techniques on a BERT whose self-attention is onnxruntime's fused com.microsoft Attention
 * (the transformers optimizer's form, written at test time from the `torchTransformerEncoder`
 * fixture's weights and then optimized by onnxruntime-node's CPU 'extended' level). The fixture
 * gives the unfused model's outputs in onnxruntime. The front end turns each Attention into
 * MatMul + Add + Split + MultiHeadAttention, so dynamic int8, 4-bit MatMulNBits, GPTQ, static int8
 * and AWQ quantize the packed QKV weights too; their outputs load in onnxruntime-node and agree with the
 * fused model; magnitude pruning and fine-tuning, which keep the weights float, give the Attention
 * nodes back.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Model } from '@whittle/graph';
import { cosineSimilarity as cosine } from '@whittle/eval';
import { readModel, writeModel } from '@whittle/onnx';
import { torchTransformerEncoder, withFusedAttention } from '@whittle/testing/exporters';
import { TINY_BERT_VOCAB } from './fixtures/tiny_bert.js';
import { whittleInProcess } from './in_process.js';
import { type Feeds, bertSamples, ortFirstOutput as ortOut, ortOptimize as ortOptimizeIn, twoClassCrossEntropy } from './fixtures/bert_batches.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-ort-attention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string): string => join(dir, f);

const SEQ = 16;
const SAMPLES = 48;
const MS = 'com.microsoft';
const QKV = ['encoder.layer.0.attention.self.qkv.weight', 'encoder.layer.1.attention.self.qkv.weight'];

const ortOptimize = (model: Model, name: string): Promise<string> => ortOptimizeIn(model, dir, name);

const load = (file: string): Model => readModel(new Uint8Array(readFileSync(file)));
const opsOf = (file: string): string[] => load(file).graph.nodes.map((n) => `${n.domain ? `${n.domain}:` : ''}${n.opType}`);
const count = (ops: string[], op: string): number => ops.filter((o) => o === op).length;





async function cli(...args: string[]): Promise<string> {
  const r = await whittleInProcess(...args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

const bert = { vocab: TINY_BERT_VOCAB, layers: 2, dModel: 64, heads: 4, ffn: 128, maxPositions: 64, attentionMask: true, typeVocab: 2 } as const;
const data = bertSamples(3, SAMPLES, SEQ);
let plainEncoder = '';
let plainClassifier = '';
let encoder = '';
let classifier = '';

beforeAll(async () => {
  writeFileSync(at('bert.jsonl'), data.jsonl);
  const [e, c] = [torchTransformerEncoder({ seed: 5, ...bert }), torchTransformerEncoder({ seed: 5, ...bert, head: 'sequence-classification' })];
  [plainEncoder, plainClassifier] = [at('encoder_plain.onnx'), at('classifier_plain.onnx')];
  writeFileSync(plainEncoder, writeModel(e));
  writeFileSync(plainClassifier, writeModel(c));
  encoder = await ortOptimize(await withFusedAttention(e, bert.heads), 'encoder');
  classifier = await ortOptimize(await withFusedAttention(c, bert.heads), 'classifier');
}, 120_000);

describe('onnxruntime-fused Attention BERT: the techniques reach the packed QKV weights', () => {
  it('the fixture holds one Attention per layer and gives the unfused model\'s outputs in onnxruntime', async () => {
    for (const [fused, plain] of [[encoder, plainEncoder], [classifier, plainClassifier]] as const) {
      const ops = opsOf(fused);
      expect(count(ops, `${MS}:Attention`)).toBe(2);
      expect(ops).toEqual(expect.arrayContaining(['LayerNormalization', `${MS}:BiasGelu`]));
      const [a, b] = [await ortOut(plain, data.feeds, 'disabled'), await ortOut(fused, data.feeds, 'disabled')];
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(a[i]!)));
      console.log(`fused Attention fixture vs the unfused model (onnxruntime): largest relative difference ${worst.toExponential(2)} on ${fused}`);
      expect(worst).toBeLessThan(1e-4);
    }
  }, 60_000);

  // bars at about twice the measured distance from 1: 0.99992, 0.99073, 0.99901, 0.99982, 0.99699 (48 samples)
  const techniques: [string, string[], RegExp, number][] = [
    ['dynamic int8', ['quantize', 'dynamic'], /dynamic int8 quantization of 8 nodes/, 0.9998],
    ['MatMulNBits 4-bit', ['quantize', 'weights', '--bits', '4', '--format', 'matmulnbits', '--block-size', '32'], /8 MatMulNBits/, 0.98],
    ['GPTQ 4-bit', ['quantize', 'gptq', '--bits', '4', '--block-size', '32', '--data', at('bert.jsonl')], /8 weight readers quantized/, 0.998],
    ['static int8', ['quantize', 'static', '--data', at('bert.jsonl')], /static qdq int8 quantization of 8 nodes/, 0.9996],
    ['AWQ 4-bit', ['quantize', 'awq', '--data', at('bert.jsonl')], /8 weight readers quantized/, 0.994],
  ];
  for (const [name, args, reported, bound] of techniques) {
    it(`${name} quantizes the QKV weights inside Attention; onnxruntime runs the output, which agrees with the fused model`, async () => {
      const out = at(`encoder_${name.replace(/\W/g, '_')}.onnx`);
      const log = await cli(...args.slice(0, 2), encoder, ...args.slice(2), '-o', out);
      expect(log).toMatch(/front end: .*fusedOpsDecomposed 2/);
      expect(log).toMatch(reported);
      const m = load(out);
      for (const w of QKV) expect(m.graph.initializers.has(w), `${name}: ${w} left float`).toBe(false);
      const ops = opsOf(out);
      expect(count(ops, `${MS}:Attention`)).toBe(0);
      expect(count(ops, `${MS}:MultiHeadAttention`)).toBe(2);
      const c = cosine(await ortOut(encoder, data.feeds), await ortOut(out, data.feeds));
      console.log(`${name} on the fused Attention encoder: cosine of last_hidden_state to it (onnxruntime, ${SAMPLES} samples) ${c.toFixed(5)}`);
      expect(c).toBeGreaterThan(bound);
    }, 300_000);
  }

  it('magnitude pruning keeps the weights float: the output has its Attention nodes back, reading the pruned QKV weights', async () => {
    const out = at('encoder_pruned.onnx');
    await cli('prune', 'unstructured', encoder, '--sparsity', '0.5', '-o', out);
    const ops = opsOf(out);
    expect(count(ops, `${MS}:Attention`)).toBe(2);
    expect(count(ops, `${MS}:MultiHeadAttention`)).toBe(0);
    const m = load(out);
    for (const w of QKV) {
      const v = await m.graph.initializers.get(w)!.toFloat64();
      const zeros = v.filter((x) => x === 0).length / v.length;
      expect(zeros, `${w} sparsity`).toBeGreaterThan(0.4);
      expect(m.graph.nodes.find((n) => n.inputs[1] === w)?.opType).toBe('Attention');
    }
    const c = cosine(await ortOut(encoder, data.feeds), await ortOut(out, data.feeds));
    console.log(`magnitude pruning 50% of the fused Attention encoder: cosine of last_hidden_state to it (onnxruntime) ${c.toFixed(5)}`);
    expect(c).toBeGreaterThan(0.95); // measured 0.9764
  }, 300_000);

  it('fine-tune keeps the weights float: the output has its Attention nodes back, trained, and a lower loss in onnxruntime', async () => {
    const out = at('classifier_ft.onnx');
    await cli('fine-tune', classifier, '--data', at('bert.jsonl'), '--epochs', '10', '--lr', '0.003', '--batch-size', '16', '-o', out);
    const ops = opsOf(out);
    expect(count(ops, `${MS}:Attention`)).toBe(2);
    expect(count(ops, `${MS}:MultiHeadAttention`)).toBe(0);
    const [m0, m1] = [load(classifier), load(out)];
    for (const w of QKV) {
      const [w0, w1] = [await m0.graph.initializers.get(w)!.toFloat64(), await m1.graph.initializers.get(w)!.toFloat64()];
      expect(w1.some((v, i) => v !== w0[i]), `${w} trained`).toBe(true);
      expect(m1.graph.nodes.find((n) => n.inputs[1] === w)?.opType).toBe('Attention');
    }
    const ce = (logits: Float32Array): number => twoClassCrossEntropy(logits, data.labels);
    const [before, after] = [ce(await ortOut(classifier, data.feeds)), ce(await ortOut(out, data.feeds))];
    console.log(`fine-tune of the fused Attention classifier: cross-entropy on the 48 labelled samples (onnxruntime) ${before.toFixed(4)} -> ${after.toFixed(4)}`);
    expect(after).toBeLessThan(before * 0.5);
  }, 300_000);
});
