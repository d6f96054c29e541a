/**
 * Whole graphs as onnxruntime's CPU optimizer ('extended') rewrites exported BERT encoders, run by
 * the interpreter on cpu and webgpu against onnxruntime-node: FusedMatMul, BiasGelu,
 * LayerNormalization and a classification head's FusedGemm with a dynamic sequence; FusedMatMul,
 * SkipLayerNormalization and BiasGelu where the sequence length is fixed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { readModel, writeModel } from '@whittle/onnx';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import type { Model } from '../src/ir/types.js';
import { cpu, expectMatchesOrt, randInt, randn } from './interpreter_harness.js';

const dir = mkdtempSync(join(tmpdir(), 'whittle-ort-optimized-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ortOptimized(model: Model, name: string): Promise<Model> {
  const path = join(dir, `${name}.onnx`);
  const s = await ort.InferenceSession.create(writeModel(model), { graphOptimizationLevel: 'extended', optimizedModelFilePath: path, executionProviders: ['cpu'] });
  await s.release();
  return readModel(new Uint8Array(readFileSync(path)));
}

const ops = (m: Model): string[] => m.graph.nodes.map((n) => `${n.domain ? `${n.domain}:` : ''}${n.opType}`);
const B = 3;
const S = 12;
const mask = cpu(Array.from({ length: B * S }, (_, i) => (i % S < S - (i < S ? 0 : 3 * Math.floor(i / S)) ? 1 : 0)), [B, S], 'int64');

describeBackends('interpreter on onnxruntime-optimized BERT graphs vs onnxruntime', ({ backend }) => {
  it('token ids, dynamic sequence, classification head: FusedMatMul, BiasGelu, LayerNormalization, FusedGemm', async () => {
    const model = await ortOptimized(torchTransformerEncoder({ seed: 2, vocab: 50, layers: 2, dModel: 32, heads: 4, ffn: 64, maxPositions: 32, attentionMask: true, typeVocab: 2, head: 'sequence-classification' }), 'cls');
    expect(ops(model)).toEqual(expect.arrayContaining(['com.microsoft:FusedMatMul', 'com.microsoft:BiasGelu', 'com.microsoft:FusedGemm', 'LayerNormalization']));
    const feeds = { input_ids: randInt([B, S], 3, 0, 49, 'int64'), attention_mask: mask, token_type_ids: randInt([B, S], 4, 0, 1, 'int64') };
    await expectMatchesOrt(model, feeds, backend, 1e-3, 1e-4);
  });

  it('float input, fixed sequence: FusedMatMul, SkipLayerNormalization, BiasGelu', async () => {
    const base = torchTransformerEncoder({ seed: 6, dModel: 32, heads: 4, ffn: 64, attentionMask: true, shapes: 'constant' });
    const fixed: Model = { ...base, graph: { ...base.graph, inputs: base.graph.inputs.map((i) => (i.type?.kind === 'tensor' && i.type.shape ? { ...i, type: { ...i.type, shape: i.type.shape.map((d) => (d === 'sequence' ? S : d)) } } : i)) } };
    const model = await ortOptimized(fixed, 'skip');
    expect(ops(model)).toEqual(expect.arrayContaining(['com.microsoft:FusedMatMul', 'com.microsoft:SkipLayerNormalization', 'com.microsoft:BiasGelu']));
    await expectMatchesOrt(model, { src: randn([B, S, 32], 5), attention_mask: mask }, backend, 1e-3, 1e-4);
  });
});
