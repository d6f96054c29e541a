/**
 * Shape inference and the FLOPs estimate through onnxruntime's fused transformer ops: every
 * output's inferred shape equals what onnxruntime-node returns, and the tiny BERT optimized by
 * onnxruntime (FusedMatMul, FusedGemm, SkipLayerNormalization, Gelu, BiasGelu, LayerNormalization) keeps the
 * multiply-adds of the graph it was made from.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '@whittle/onnx';
import { torchTransformerEncoder } from '@whittle/testing/exporters';
import { inferValueTypes } from '../src/analysis/shape/infer.js';
import { summarize } from '../src/analysis/summarize.js';
import type { Model } from '../src/ir/types.js';
import { cpu, oneNode, randInt, randn, type OneNode, itInfersOrtOutputTypes } from './interpreter_harness.js';

const MS = 'com.microsoft';
const F = 'float32' as const;
const CASES: [string, OneNode][] = [
  ['FusedMatMul transBatchA + transA', { op: 'FusedMatMul', domain: MS, feeds: { a: randn([4, 2, 3], 1), b: randn([4, 2, 5], 2) }, inputs: ['a', 'b'], attrs: { transBatchA: 1, transA: 1, transBatchB: 1 }, outputs: [F] }],
  ['FusedMatMul transB, broadcast batch', { op: 'FusedMatMul', domain: MS, feeds: { a: randn([2, 1, 3, 4], 3), b: randn([3, 5, 4], 4) }, inputs: ['a', 'b'], attrs: { transB: 1, alpha: 0.5 }, floatAttrs: ['alpha'], outputs: [F] }],
  ['FusedMatMul vector A', { op: 'FusedMatMul', domain: MS, feeds: { a: randn([4], 5), b: randn([2, 4, 5], 6) }, inputs: ['a', 'b'], outputs: [F] }],
  ['FusedGemm transA + Tanh', { op: 'FusedGemm', domain: MS, feeds: { a: randn([6, 3], 23) }, inputs: ['a', 'init:b', 'init:c'], inits: { b: randn([6, 4], 24), c: randn([4], 25) }, attrs: { transA: 1, activation: 'Tanh' }, outputs: [F] }],
  ['BiasGelu', { op: 'BiasGelu', domain: MS, feeds: { a: randn([2, 3, 8], 7) }, inputs: ['a', 'init:b'], inits: { b: randn([8], 8) }, outputs: [F] }],
  ['FastGelu', { op: 'FastGelu', domain: MS, feeds: { a: randn([2, 3, 8], 9) }, inputs: ['a'], outputs: [F] }],
  ['QuickGelu', { op: 'QuickGelu', domain: MS, feeds: { a: randn([2, 8], 10) }, inputs: ['a'], outputs: [F] }],
  ['SkipLayerNormalization, four outputs', { op: 'SkipLayerNormalization', domain: MS, feeds: { x: randn([2, 3, 8], 11), s: randn([3, 8], 12) }, inputs: ['x', 's', 'init:g'], inits: { g: randn([8], 13) }, outputs: [F, F, F, F] }],
  ['EmbedLayerNormalization, three outputs', {
    op: 'EmbedLayerNormalization', domain: MS, feeds: { ids: randInt([2, 5], 14, 0, 9, 'int32'), mask: cpu([1, 1, 1, 0, 0, 1, 1, 1, 1, 1], [2, 5], 'int32') },
    inputs: ['ids', '', 'init:w', 'init:p', '', 'init:g', 'init:b', 'mask'], inits: { w: randn([10, 8], 15), p: randn([6, 8], 16), g: randn([8], 17), b: randn([8], 18) }, outputs: [F, 'int32', F],
  }],
  ['LayerNormalization at opset 14, axis 1', { op: 'LayerNormalization', opset: 14, feeds: { x: randn([2, 3, 8], 19) }, inputs: ['x', 'init:g'], inits: { g: randn([3, 8], 20) }, attrs: { axis: 1 }, outputs: [F, F, F] }],
  ['SimplifiedLayerNormalization at opset 14', { op: 'SimplifiedLayerNormalization', opset: 14, feeds: { x: randn([2, 3, 8], 21) }, inputs: ['x', 'init:g'], inits: { g: randn([8], 22) }, outputs: [F, F] }],
];

describe('shape rules of the onnxruntime contrib ops', () => {
  itInfersOrtOutputTypes(CASES);
});

const dir = mkdtempSync(join(tmpdir(), 'whittle-contrib-shapes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The model as onnxruntime-node's CPU 'extended' optimizer writes it. */
async function ortOptimized(model: Model): Promise<Model> {
  const path = join(dir, 'optimized.onnx');
  const s = await ort.InferenceSession.create(writeModel(model), { graphOptimizationLevel: 'extended', optimizedModelFilePath: path, executionProviders: ['cpu'] });
  await s.release();
  return readModel(new Uint8Array(readFileSync(path)));
}

describe('FLOPs through an onnxruntime-optimized BERT', () => {
  it('static shapes [2, 16]: SkipLayerNormalization, Gelu, FusedMatMul, Gemm; the same multiply-adds as the exported graph, every value shaped', async () => {
    const base = torchTransformerEncoder({ vocab: 40, layers: 2, dModel: 32, heads: 4, ffn: 64, maxPositions: 16, attentionMask: true, typeVocab: 2 });
    const fixed: Model = { ...base, graph: { ...base.graph, inputs: base.graph.inputs.map((i) => ({ ...i, type: { kind: 'tensor', elemType: 'int64', shape: [2, 16] } as const })) } };
    const fused = await ortOptimized(fixed);
    const ops = fused.graph.nodes.map((n) => `${n.domain ? `${n.domain}:` : ''}${n.opType}`);
    for (const op of ['com.microsoft:SkipLayerNormalization', 'com.microsoft:Gelu', 'com.microsoft:FusedMatMul', 'LayerNormalization']) expect(ops).toContain(op);
    const before = summarize(fixed);
    const after = summarize(fused);
    expect(after.macs).toBe(before.macs);
    expect(after.assumedDims).toEqual([]);
    const types = inferValueTypes(fused.graph, { opset: 14, strict: true }).types;
    for (const n of fused.graph.nodes) {
      n.outputs.filter(Boolean).forEach((o) => {
        const t = types.get(o);
        expect(t?.kind === 'tensor' && t.shape?.every((d) => typeof d === 'number'), `shape of ${n.opType} output ${o}`).toBe(true);
      });
    }
  });

  it('dynamic sequence, classification head: FusedMatMul, BiasGelu and the pooler FusedGemm count as the exported graph with the same dims', async () => {
    const base = torchTransformerEncoder({ vocab: 40, layers: 2, dModel: 32, heads: 4, ffn: 64, maxPositions: 16, attentionMask: true, head: 'sequence-classification' });
    const fused = await ortOptimized(base);
    const ops = fused.graph.nodes.map((n) => `${n.domain ? `${n.domain}:` : ''}${n.opType}`);
    for (const op of ['com.microsoft:BiasGelu', 'com.microsoft:FusedMatMul', 'com.microsoft:FusedGemm', 'LayerNormalization']) expect(ops).toContain(op);
    const dims = { batch_size: 2, sequence: 16 };
    expect(summarize(fused, { dims }).macs).toBe(summarize(base, { dims }).macs);
  });
});
