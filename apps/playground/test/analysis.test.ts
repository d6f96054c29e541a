/**
 * The model analysis the page shows (the worker's code, run in Node): per-layer attribution of
 * weights through constant nodes such as DequantizeLinear, and weight histograms of the values
 * a layer computes with.
 */
import { runRecipe, tensorValues } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import '@whittle/quantize';
import { describe, expect, test } from 'vitest';
import { histogram } from '../src/analysis/histogram.js';
import { graphLayers } from '../src/analysis/layers.js';
import { readFileSync } from 'node:fs';
import { findPrunableWeights } from '@whittle/prune';
import { CORPUS, corpusPath } from '@whittle/testing/corpus';
import { planSensitivity } from '../src/app/sensitivity_plan.js';
import { analyzeModel, withConstantWeights } from '../src/worker/analyze.js';
import { zooBytes } from './support/reference.js';

async function compressed(recipe: Parameters<typeof runRecipe>[1]): Promise<Uint8Array> {
  return writeModel((await runRecipe(readModel(zooBytes()), recipe)).model);
}

describe('model analysis', () => {
  test('the original: three Gemm layers with their float32 weights and biases', async () => {
    const a = await analyzeModel(zooBytes());
    expect(a.ops).toEqual({ Flatten: 1, Gemm: 3, Relu: 2, Identity: 1 });
    expect(a.layers.map((l) => [l.name, l.opType, l.parameters, l.bytes])).toEqual([
      ['fc1', 'Gemm', 235_500, 942_000],
      ['fc2', 'Gemm', 30_100, 120_400],
      ['fc3', 'Gemm', 1010, 4040],
    ]);
    expect(a.layers.reduce((s, l) => s + l.flops, 0)).toBe(a.flops);
    expect(a.histograms.map((h) => [h.layer, h.shape, h.count, h.zeros])).toEqual([
      ['fc1', [300, 784], 235_200, 0],
      ['fc2', [100, 300], 30_000, 0],
      ['fc3', [10, 100], 1000, 0],
    ]);
  });

  test('int8 QDQ weights count toward their Gemm, and histograms show the dequantized values', async () => {
    const bytes = await compressed({ passes: [{ pass: 'quantize-weights', options: { bits: 8, granularity: 'per-channel' } }] });
    const a = await analyzeModel(bytes);
    expect(a.ops['DequantizeLinear']).toBe(3);
    // fc1: int8 [300, 784] + float32 scale per output channel + float32 bias
    expect(a.layers.find((l) => l.name === 'fc1')).toMatchObject({ opType: 'Gemm', parameters: 235_200 + 300 + 300, bytes: 235_200 + 1200 + 1200 });
    expect(graphLayers(readModel(bytes)).some((l) => l.node.opType === 'DequantizeLinear')).toBe(false);
    // dequantized by hand: code × scale of its row
    const g = readModel(bytes).graph;
    const dq = g.nodes.find((n) => n.opType === 'DequantizeLinear' && g.nodes.find((m) => m.name === 'fc1')!.inputs.includes(n.outputs[0]!))!;
    const codes = tensorValues(g.initializers.get(dq.inputs[0]!)!);
    const scales = tensorValues(g.initializers.get(dq.inputs[1]!)!);
    const cols = codes.length / scales.length;
    const want = histogram(Float64Array.from(codes, (c, i) => c * scales[Math.floor(i / cols)]!));
    const got = a.histograms.find((h) => h.layer === 'fc1')!;
    expect(got.note).toBeUndefined();
    expect([got.count, got.zeros, got.counts]).toEqual([want.count, want.zeros, want.counts]);
    expect(got.min).toBeCloseTo(want.min, 6);
    expect(got.max).toBeCloseTo(want.max, 6);
  });

  test('Deep Compression storage (sparse streams the graph decodes): parameters and sparsity of the decoded weights, as the float model has them', async () => {
    const float = await analyzeModel(zooBytes());
    const bytes = await compressed({ passes: [{ pass: 'prune-unstructured', options: { sparsity: 0.9 } }, { pass: 'cluster-weights', options: { clusters: 16, storage: 'sparse' } }] });
    expect(bytes.length).toBeLessThan(zooBytes().length / 10);
    const a = await analyzeModel(bytes);
    expect(a.ops['ScatterElements']).toBe(3);
    expect(a.size.parameters).toBe(float.size.parameters);
    expect(a.size.sparsity).toBeGreaterThanOrEqual(0.9);
    expect(a.size.sparsity).toBeLessThan(0.95);
  });

  test('dynamic int8: MatMulInteger layers show their integer codes, marked as such', async () => {
    const a = await analyzeModel(await compressed({ passes: [{ pass: 'quantize-dynamic' }] }));
    const ints = a.histograms.filter((h) => h.note);
    expect(ints.length).toBe(3);
    for (const h of ints) expect(h.note).toMatch(/int8 codes/);
  });

  test('histogram: equal-width bins over [min, max], zeros and NaNs accounted for', () => {
    const h = histogram([0, 0, 1, 2, 3, 4, NaN], 4);
    expect(h).toMatchObject({ count: 6, zeros: 2, min: 0, max: 4, counts: [2, 1, 1, 2] });
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    expect(histogram([5, 5, 5])).toMatchObject({ counts: [3], min: 5, max: 5 });
    expect(histogram([])).toMatchObject({ count: 0, counts: [0] });
  });
});

describe('weights in Constant nodes (paddle2onnx)', () => {
  test('the PaddleOCR classifier shows its Conv layers and histograms, as the techniques see them, and has layers to measure for sensitivity', async () => {
    const m = CORPUS.find((c) => c.id === 'ocr-cls')!;
    const bytes = new Uint8Array(readFileSync(corpusPath(m)));
    const original = readModel(bytes);
    const constants = original.graph.nodes.filter((n) => n.opType === 'Constant').length;
    expect(constants).toBeGreaterThan(50);
    // as read, no compute node reads an initializer: every weight comes from a Constant node
    expect(graphLayers(original).filter((l) => l.initializers.length > 0)).toHaveLength(0);
    const a = await analyzeModel(bytes);
    const convs = original.graph.nodes.filter((n) => n.opType === 'Conv').length;
    expect(a.layers.filter((l) => l.opType === 'Conv')).toHaveLength(convs);
    expect(a.ops['Constant']).toBe(constants); // the file's own ops
    // every weight parameter belongs to a layer; the layers also count the few int64 shape
    // constants their Reshapes read, which are no weights
    const inLayers = a.layers.reduce((t, l) => t + l.parameters, 0);
    expect(inLayers).toBeGreaterThanOrEqual(a.parameters);
    expect(inLayers - a.parameters).toBeLessThan(100);
    expect(a.histograms.length).toBeGreaterThanOrEqual(convs);
    expect(a.layers.reduce((t, l) => t + l.flops, 0)).toBe(a.flops);
    const plan = planSensitivity(a);
    expect(plan.totalLayers).toBe(findPrunableWeights(withConstantWeights(original), {}).length);
    expect(plan.totalLayers).toBeGreaterThan(20);
  });
});
