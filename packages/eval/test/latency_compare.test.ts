import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model } from '@whittle/graph';
import { ArgumentError, Rng, tensor } from '@whittle/tensor';
import { writeModel } from '@whittle/onnx';
import { type LatencyResult, buildReport, compareLatencyOrt, measureLatencyOrt, median, modelCard, reportToMarkdown, type SizeMetrics } from '../src/node.js';

function mlp(width: number): Model {
  const rng = new Rng(width);
  const b = new GraphBuilder('mlp');
  let x = b.input('x', 'float32', ['N', 32]);
  let k = 32;
  for (let i = 0; i < 2; i++) {
    const w = Float32Array.from({ length: k * width }, () => rng.normal() * 0.1);
    x = b.node('MatMul', [x, b.initializer(`w${i}`, tensor(w, [k, width], 'float32', { backend: 'cpu' }))]);
    k = width;
  }
  b.output(x, 'float32', ['N', width]);
  return b.model([{ domain: '', version: 17 }]);
}

const size = (fileBytes: number): SizeMetrics => ({ fileBytes, gzipBytes: fileBytes / 2, parameters: 10, weightBytes: 40, sparsity: 0, zeroWeights: 0, flops: 0, macs: 0, assumedDims: [], byDtype: {} });

describe('compareLatencyOrt: speed against the first model, interleaved in one run', () => {
  it('gives every model medians and speedups at batch 1 and batch N (numbers, baseline 1x); timings are not asserted', async () => {
    const models = [writeModel(mlp(64)), writeModel(mlp(256))];
    const r = await compareLatencyOrt(models, { sampleShape: [32], batchN: 4, rounds: 3, runsPerRound: 3, baselineName: 'base' });
    expect(r).toHaveLength(2);
    expect(r[0]!.batch1.speedup).toBe(1);
    expect(r[0]!.batchN!.speedup).toBe(1);
    expect(r[0]!.slower).toBe(false);
    for (const x of r) {
      expect(x.baseline).toBe('base');
      expect(x.rounds).toBe(3);
      expect(x.runsPerRound).toBe(3);
      for (const v of [x.batch1.medianMs, x.batch1.baselineMs, x.batch1.speedup, x.batchN!.medianMs, x.batchN!.speedup]) expect(Number.isFinite(v) && v > 0).toBe(true);
      expect(x.batchN!.batchSize).toBe(4);
      expect(x.batch1.speedup).toBeCloseTo(x.batch1.baselineMs / x.batch1.medianMs, 12);
      expect(typeof x.slower).toBe('boolean');
      expect(x.slower).toBe(x.batch1.speedup < 1 / 1.05 || x.batchN!.speedup < 1 / 1.05);
    }
    const only1 = await compareLatencyOrt(models, { sampleShape: [32], rounds: 1, runsPerRound: 1 });
    expect(only1[1]!.batchN).toBeUndefined();
    await expect(compareLatencyOrt([], { sampleShape: [32] })).rejects.toThrow(ArgumentError);
  });

  it('a model whose runs eat the time budget gets fewer of them: 5 timed and 1 warm-up, one run a round over 3 rounds', async () => {
    const models = [writeModel(mlp(64)), writeModel(mlp(128)), writeModel(mlp(256))];
    // a budget of a nanosecond stands in for a model whose single run takes seconds
    const lat = await measureLatencyOrt(models[0]!, { sampleShape: [32], batchN: 4, runs: 30, warmup: 5, budgetMs: 1e-6 });
    for (const b of [lat.batch1, lat.batchN!]) expect([b.runs, b.warmup]).toEqual([5, 1]);
    const roomy = await measureLatencyOrt(models[0]!, { sampleShape: [32], batchN: 0, runs: 30, warmup: 5, budgetMs: 60_000 });
    expect([roomy.batch1.runs, roomy.batch1.warmup]).toEqual([30, 5]);
    const r = await compareLatencyOrt(models, { sampleShape: [32], rounds: 5, budgetMs: 1e-6, baselineName: 'base' });
    // every variant timed against the baseline in its own pair of sessions
    expect(r).toHaveLength(3);
    expect(r[0]!.batch1.speedup).toBe(1);
    for (const x of r) {
      expect([x.rounds, x.runsPerRound]).toEqual([3, 1]);
      expect(x.batch1.speedup).toBeCloseTo(x.batch1.baselineMs / x.batch1.medianMs, 12);
    }
  });

  it('batch N fits the memory budget: halved until N samples (at least their outputs) fit, and the report says why', async () => {
    // one sample returns a 256×256 float32 map (256 KiB), as a speech encoder returns attention maps
    const b = new GraphBuilder('maps');
    const x = b.input('x', 'float32', ['N', 256]);
    b.output(b.node('Mul', [b.node('Unsqueeze', [x, b.initializer('ax', tensor(BigInt64Array.from([2n]), [1], 'int64', { backend: 'cpu' }))]), b.node('Unsqueeze', [x, b.initializer('ay', tensor(BigInt64Array.from([1n]), [1], 'int64', { backend: 'cpu' }))])]), 'float32', ['N', 256, 256]);
    const bytes = writeModel(b.model([{ domain: '', version: 17 }]));
    const budget = 4 * 2 ** 20;
    const lat = await measureLatencyOrt(bytes, { sampleShape: [256], batchN: 64, runs: 5, warmup: 1, memoryBudgetBytes: budget });
    const n = lat.batchN?.batchSize ?? 0;
    expect(n).toBeLessThanOrEqual(16); // 16 maps are the 4 MiB budget
    expect(n * 256 * 256 * 4).toBeLessThanOrEqual(budget);
    expect(lat.batchNLimit).toMatch(/^batch 64 would take ~\d+\.\d GB \(\d+ MB a sample at batch 1\) of a 0\.0 GB budget: (timed at batch \d+|batch N not timed)$/);
    // a budget with room leaves batch 64 alone
    const roomy = await measureLatencyOrt(bytes, { sampleShape: [256], batchN: 64, runs: 5, warmup: 1, memoryBudgetBytes: 2 ** 34 });
    expect(roomy.batchN!.batchSize).toBe(64);
    expect(roomy.batchNLimit).toBeUndefined();
  });

  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(ArgumentError);
  });

  it('report and model card show the speed column and flag a slower variant', () => {
    const lat = (p50: number, speedup: number, slower: boolean): LatencyResult => ({
      runtime: 'onnxruntime-node (cpu)',
      batch1: { batchSize: 1, runs: 5, warmup: 1, p50Ms: p50, p90Ms: p50, meanMs: p50, minMs: p50, maxMs: p50 },
      vsBaseline: { baseline: 'fp32', rounds: 5, runsPerRound: 10, batch1: { medianMs: p50, baselineMs: 1, speedup }, batchN: { batchSize: 8, medianMs: p50 * 8, baselineMs: 8, speedup }, slower },
    });
    const report = buildReport([
      { name: 'fp32', technique: 'baseline', size: size(1000), latency: lat(1, 1, false) },
      { name: 'int4', technique: 'int4 qdq', size: size(200), latency: lat(4, 0.25, true) },
    ]);
    const md = reportToMarkdown(report);
    expect(md).toContain('Speed vs base b1 / b8');
    expect(md).toContain('⚠ 0.25× / 0.25×');
    expect(md).toMatch(/Slower than the baseline in onnxruntime: `int4`/);
    const card = modelCard(report, { variant: 'int4' });
    expect(card).toContain('| Speed vs baseline, batch 1 (same run) | 0.25×');
    expect(card).toMatch(/runs slower than the baseline \(0\.25× at batch 1, 0\.25× at batch 8\): it is smaller, not faster/);
  });
});
