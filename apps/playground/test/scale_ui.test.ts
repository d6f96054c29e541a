/** The logic behind the page's scaling: model kinds, presets per kind, sensitivity plans, summaries, filters. */
import '@whittle/quantize';
import '@whittle/prune';
import '@whittle/lowrank';
import { getPass } from '@whittle/graph';
import { describe, expect, test } from 'vitest';
import { describePlan, planSensitivity } from '../src/app/sensitivity_plan.js';
import { histogram, mergeHistograms } from '../src/analysis/histogram.js';
import { modelKind } from '../src/recipes/model_kind.js';
import { allPresets, presetsFor } from '../src/recipes/presets.js';
import { matchesFilter } from '../src/ui/layer_table.js';
import { sampleLayers } from '../src/worker/sensitivity.js';
import type { LayerStat, ModelAnalysis } from '../src/worker/protocol.js';

function analysis(ops: Record<string, number>, layers: [string, number][], inputs: string[] = ['input']): ModelAnalysis {
  const ls: LayerStat[] = layers.map(([opType, parameters], i) => ({ name: `${opType}_${i}`, opType, parameters, bytes: parameters * 4, gzipBytes: parameters * 4, flops: 0 }));
  const parameters = ls.reduce((s, l) => s + l.parameters, 0);
  return {
    fileBytes: parameters * 4,
    nodes: Object.values(ops).reduce((a, b) => a + b, 0),
    ops,
    parameters,
    bytes: parameters * 4,
    byDtype: {},
    flops: 0,
    opsets: [],
    inputs: inputs.map((name) => ({ name, elemType: 'float32', shape: ['N', 8] })),
    outputs: [],
    layers: ls,
    histograms: [],
    opHistograms: [],
    gzipMethod: 'fflate',
    skippedHistograms: [],
    size: { fileBytes: parameters * 4, gzipBytes: parameters * 4, parameters, weightBytes: parameters * 4, sparsity: 0, zeroWeights: 0, flops: 0, macs: 0, assumedDims: [], byDtype: {} },
    fileGzipMethod: 'fflate',
  };
}

const cnn = analysis({ Conv: 52, Clip: 35, Gemm: 1, Add: 10 }, [...Array.from({ length: 52 }, (): [string, number] => ['Conv', 40_000]), ['Gemm', 1_281_000]]);
const encoder = analysis({ MatMul: 48, Softmax: 8, ReduceMean: 34, Gather: 2 }, Array.from({ length: 48 }, (): [string, number] => ['MatMul', 500_000]));
const lm = analysis({ MatMul: 24, Softmax: 4 }, [['MatMul', 1000]], ['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value']);
const mlp = analysis({ Gemm: 3, Relu: 2 }, [['Gemm', 235_500], ['Gemm', 30_100], ['Gemm', 1010]]);

describe('model kinds and presets', () => {
  test('kinds from ops, weights and inputs', () => {
    expect(modelKind(cnn).kind).toBe('cnn');
    expect(modelKind(encoder).kind).toBe('transformer');
    expect(modelKind(lm).kind).toBe('lm-kv');
    expect(modelKind(lm).why).toMatch(/past_key_values\.0\.key/);
    expect(modelKind(mlp).kind).toBe('mlp');
    expect(modelKind(analysis({ Add: 1 }, [])).kind).toBe('other');
  });

  test('every kind has a default preset whose recipe the registry accepts; labels quote the real block size', () => {
    for (const kind of ['cnn', 'transformer', 'lm-kv', 'mlp', 'other'] as const) {
      const list = presetsFor(kind, false);
      expect(list[0]!.unavailable).toBeUndefined();
      for (const p of list) for (const step of p.preset.recipe.passes) expect(() => getPass(step.pass)).not.toThrow();
    }
    expect(presetsFor('cnn', false)[0]!.preset.id).toBe('int8-weights');
    expect(presetsFor('transformer', false)[0]!.preset.id).toBe('dynamic-int8');
    expect(presetsFor('lm-kv', false)[0]!.preset.id).toBe('int4-matmulnbits');
    expect(presetsFor('mlp', true)[0]!.preset.id).toBe('int8-prune50');
    expect(presetsFor('mlp', false).find((p) => p.preset.id === 'deep-compression')?.unavailable).toMatch(/labeled/);
    const block = getPass('quantize-weights').optionsSchema!.fields['blockSize']!.default;
    const q4 = allPresets().find((p) => p.id === 'q4')!;
    expect(q4.label).toContain(`block ${String(block)}`);
  });
});

describe('sensitivity plans', () => {
  test('small models: every layer, six levels, on; big ones: the largest 8 layers, three levels, off, with an estimate', () => {
    const small = planSensitivity(mlp);
    expect(small).toMatchObject({ maxLayers: 3, totalLayers: 3, defaultOn: true, samples: 128 });
    expect(small.levels).toHaveLength(6);
    const big = planSensitivity(cnn, { createMs: 200, runMs: 800, samples: 8 });
    expect(big).toMatchObject({ maxLayers: 8, totalLayers: 53, defaultOn: false, samples: 16 });
    // 25 points × (200 ms + 16 samples × 100 ms + 14.8 MB at 30 MB/s)
    expect(big.estimateSeconds).toBeCloseTo((25 * (200 + 1600 + cnn.fileBytes / 3e4)) / 1000, 6);
    expect(describePlan(big)).toMatch(/^≈ \d+ s: the 8 largest of 53 layers × 3 levels on 16 samples$/);
    // weights in Constant nodes or subgraphs (paddle2onnx, Silero VAD): no layer to measure, off
    const none = planSensitivity({ ...mlp, layers: [] });
    expect(none).toMatchObject({ maxLayers: 0, totalLayers: 0, defaultOn: false });
  });

  test('sampled layers are the largest, in graph order', () => {
    const w = [5, 50, 1, 40, 30].map((n, i) => ({ node: `n${i}`, weight: `w${i}`, rows: n, cols: 1 })) as unknown as Parameters<typeof sampleLayers>[0];
    expect(sampleLayers(w, 3).map((x) => x.node)).toEqual(['n1', 'n3', 'n4']);
    expect(sampleLayers(w, 9)).toHaveLength(5);
  });
});

describe('summaries and filters', () => {
  test('merged histograms keep counts, zeros and the range exactly', () => {
    const a = histogram([0, 0, 1, 2, 3]);
    const b = histogram([-4, 0.5, 0.5]);
    const m = mergeHistograms([a, b]);
    expect(m).toMatchObject({ count: 8, zeros: 2, min: -4, max: 3 });
    expect(m.counts.reduce((s, c) => s + c, 0)).toBe(8);
    expect(mergeHistograms([])).toMatchObject({ count: 0, counts: [0] });
  });

  test('the filter matches every word in the name or op type', () => {
    expect(matchesFilter('/encoder/layer.3/attention/self/query/MatMul', 'MatMul', 'layer.3 query')).toBe(true);
    expect(matchesFilter('/encoder/layer.3/attention/self/query/MatMul', 'MatMul', 'layer.4')).toBe(false);
    expect(matchesFilter('features.1.conv', 'Conv', 'conv')).toBe(true);
    expect(matchesFilter('x', 'Gemm', '  ')).toBe(true);
  });
});
