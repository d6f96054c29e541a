/**
 * Weights inside onnxruntime's fused ops: the BERT classifier as onnxruntime's CPU 'extended'
 * optimizer writes it (made at test time) has its pooler as com.microsoft FusedGemm (Gemm + Tanh).
 * The front end rewrites it into Gemm + Tanh with the same outputs, which onnxruntime fuses again
 * (the optimized graphs have the same op counts); dynamic int8 and 4-bit MatMulNBits then quantize
 * the pooler weight, the quantized models agree with the optimized original in onnxruntime, and its
 * optimized graph differs from the one without the rewrite only by the pooler's quantized kernel.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Model, normalizeModel, runPass } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { Rng } from '@whittle/tensor';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import '../src/index.js';
import { ortOptimizedOps } from './ort_optimized.js';
import { ortRun } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-fused-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SEQ = 16;
const VOCAB = 120;

let optimized: Model;
/** The weight the pooler's FusedGemm reads. */
let POOLER = '';

beforeAll(async () => {
  const model = torchTransformerEncoder({ seed: 5, vocab: VOCAB, layers: 2, dModel: 64, heads: 4, ffn: 128, maxPositions: 64, attentionMask: true, typeVocab: 2, head: 'sequence-classification' });
  writeFileSync(join(dir, 'classifier.onnx'), writeModel(model));
  const out = join(dir, 'classifier_opt.onnx');
  const s = await ort.InferenceSession.create(join(dir, 'classifier.onnx'), { graphOptimizationLevel: 'extended', optimizedModelFilePath: out, executionProviders: ['cpu'] });
  await s.release();
  optimized = readModel(new Uint8Array(readFileSync(out)));
  POOLER = optimized.graph.nodes.find((n) => n.opType === 'FusedGemm')?.inputs[1] ?? '';
}, 60_000);

function feeds(batch: number): Record<string, { data: BigInt64Array; dims: number[] }> {
  const rng = new Rng(3);
  const n = batch * SEQ;
  const ids = BigInt64Array.from({ length: n }, (_, i) => (i % SEQ === 0 ? 2n : BigInt(5 + rng.int(VOCAB - 5))));
  const mask = BigInt64Array.from({ length: n }, (_, i) => (Math.floor(i / SEQ) % 2 === 1 && i % SEQ >= SEQ - 5 ? 0n : 1n));
  const types = BigInt64Array.from({ length: n }, (_, i) => (i % SEQ >= SEQ / 2 ? 1n : 0n));
  return { input_ids: { data: ids, dims: [batch, SEQ] }, attention_mask: { data: mask, dims: [batch, SEQ] }, token_type_ids: { data: types, dims: [batch, SEQ] } };
}

/** Bars on the largest logit error over the largest logit, about twice the measured value. */
// measured 0.027 and 0.29 (4-bit: every MatMul and, at opset 14, the three tables as GatherBlockQuantized)
const BOUND: Record<string, number> = { 'dynamic int8': 0.06, 'MatMulNBits 4-bit': 0.6 };

const opsOf = (m: Model): string[] => m.graph.nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType));

/** The ops of the nodes reading `weight`. */
const readerOf = (m: Model, weight: string): string[] => m.graph.nodes.filter((n) => n.inputs.includes(weight)).map((n) => n.opType);

it("the front end turns the pooler's FusedGemm into Gemm + Tanh with the same outputs, and onnxruntime fuses it again", async () => {
  expect(opsOf(optimized)).toContain('com.microsoft:FusedGemm');
  expect(readerOf(optimized, POOLER)).toEqual(['FusedGemm']);
  const { model, report } = await normalizeModel(optimized);
  expect(report.stats!.fusedOpsDecomposed).toBe(1);
  expect(opsOf(model)).not.toContain('com.microsoft:FusedGemm');
  expect(readerOf(model, POOLER)).toEqual(['Gemm']);
  const gemm = model.graph.nodes.find((n) => n.inputs.includes(POOLER))!;
  expect(model.graph.nodes.find((n) => n.inputs.includes(gemm.outputs[0]!))!.opType).toBe('Tanh');
  const f = feeds(4);
  const [a, b] = [(await ortRun(optimized, f)).logits!, (await ortRun(model, f)).logits!];
  for (let i = 0; i < a.length; i++) expect(b[i]!).toBeCloseTo(a[i]!, 6);
  // onnxruntime's optimized graph of the rewritten model is its optimized graph of the original
  expect(await ortOptimizedOps(model)).toEqual(await ortOptimizedOps(optimized));
}, 60_000);

it('dynamic int8 and 4-bit MatMulNBits quantize the pooler weight of the optimized classifier; outputs agree with the original in onnxruntime, which fuses the rest as before', async () => {
  const { model } = await normalizeModel(optimized);
  const { model: kept } = await normalizeModel(optimized, { decomposeFusedOps: false });
  const f = feeds(8);
  const ref = (await ortRun(optimized, f)).logits!;
  const techniques: [string, string, Record<string, unknown>, string][] = [
    ['dynamic int8', 'quantize-dynamic', {}, 'com.microsoft:DynamicQuantizeMatMul'],
    ['MatMulNBits 4-bit', 'quantize-weights', { bits: 4, format: 'matmulnbits', blockSize: 32 }, 'com.microsoft:MatMulNBits'],
  ];
  const log: string[] = [];
  for (const [name, pass, options, kernel] of techniques) {
    const q = (await runPass(pass, model, options)).model;
    // the pooler's weight is read only through its quantized form now
    expect(q.graph.initializers.has(POOLER), `${name}: float pooler weight left`).toBe(false);
    const got = (await ortRun(q, f)).logits!;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < ref.length; i++) [worst, scale] = [Math.max(worst, Math.abs(got[i]! - ref[i]!)), Math.max(scale, Math.abs(ref[i]!))];
    log.push(`${name} ${worst.toExponential(2)} (largest |logit| ${scale.toFixed(3)})`);
    expect(worst / scale, `${name}: largest logit difference over the largest logit`).toBeLessThan(BOUND[name]!);
    // onnxruntime's optimized graph: the pooler runs as the quantized kernel + Tanh where the
    // FusedGemm stayed float before; every other op (FusedMatMul, BiasGelu, …) as before
    const withPooler = await ortOptimizedOps(q);
    const without = await ortOptimizedOps((await runPass(pass, kept, options)).model);
    const want = { ...without, 'com.microsoft:FusedGemm': (without['com.microsoft:FusedGemm'] ?? 0) - 1, [kernel]: (without[kernel] ?? 0) + 1, Tanh: (without['Tanh'] ?? 0) + 1 };
    expect(Object.fromEntries(Object.entries(withPooler).filter(([, v]) => v)), name).toEqual(Object.fromEntries(Object.entries(want).filter(([, v]) => v)));
  }
  console.log(`optimized classifier, largest |logit - original| in onnxruntime: ${log.join(', ')}`);
}, 120_000);
