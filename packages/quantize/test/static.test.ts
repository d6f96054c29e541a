import { optimumDecoder } from '@whittle/testing/exporters';
import { corpusModel, frontEnd, weightBytes } from './real_models.js';
import { describe, expect, it } from 'vitest';
import { GraphBuilder, type Model, PassOptionsError, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { quantizeStaticPass } from '../src/static.js';
import { rangesFromArrays, TensorStats, computeRange } from '../src/calibrate.js';
import { mixedFeeds, mixedModel, ortRun, randTensor, randomArray, relError } from './helpers.js';

function* calib(n: number) {
  for (let i = 0; i < n; i++) {
    const f = mixedFeeds(32, 100 + i);
    yield { x: tensor(f.x!.data as Float32Array, f.x!.dims, 'float32', { backend: 'cpu' }), ids: tensor(f.ids!.data as BigInt64Array, f.ids!.dims, 'int64', { backend: 'cpu' }) };
  }
}

describe('quantize-static', () => {
  const model = mixedModel();
  const feeds = mixedFeeds(64);
  for (const calibrator of ['minmax', 'percentile', 'entropy', 'mse'] as const) {
    for (const format of ['qdq', 'qoperator'] as const) {
      it(`${calibrator} ${format}: runs in onnxruntime close to float`, async () => {
        const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
        const { model: q, report } = await runPass(quantizeStaticPass, model, { calibrator, format }, { calibration: (async function* () { yield* calib(4); })() });
        const out = (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!;
        const err = relError(ref, out);
        console.log(calibrator, format, 'relErr', err.toFixed(4), report.stats);
        expect(err).toBeLessThan(calibrator === 'entropy' ? 0.15 : 0.08);
        const ops = q.graph.nodes.map((n) => n.opType);
        if (format === 'qdq') expect(ops.filter((o) => o === 'QuantizeLinear').length).toBeGreaterThan(2);
        else expect(ops).toContain('QLinearMatMul');
      });
    }
  }
  for (const format of ['qdq', 'qoperator'] as const) {
    it(`reduceRange ${format}: int8 weights hold 7-bit codes (-64..63), exact in onnxruntime on every x86`, async () => {
      const ref = (await ortRun(model, feeds))[model.graph.outputs[0]!.name]!;
      const { model: q, report } = await runPass(quantizeStaticPass, model, { format, reduceRange: true }, { calibration: (async function* () { yield* calib(4); })() });
      const int8 = [...q.graph.initializers.values()].filter((t) => t.dtype === 'int8' && t.size > 1);
      expect(int8.length).toBeGreaterThan(0);
      let lo = 0;
      let hi = 0;
      for (const t of int8) for (const v of (await t.data()) as Int8Array) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      expect([lo >= -64, hi <= 63, hi - lo > 100]).toEqual([true, true, true]);
      expect((report.details as { layers: { weightBits?: number }[] }).layers.every((l) => l.weightBits === 7)).toBe(true);
      expect(relError(ref, (await ortRun(q, feeds))[q.graph.outputs[0]!.name]!)).toBeLessThan(0.08);
    });
  }
  it('rangesFromArrays: minmax and percentile clip outliers', () => {
    const v = new Float32Array(100000);
    for (let i = 0; i < v.length; i++) v[i] = ((i % 1000) / 1000) * 2 - 1;
    v[5] = 50;
    const r = rangesFromArrays({ a: v }, 'minmax');
    expect(r.a).toEqual([-1, 50]);
    const p = rangesFromArrays({ a: v }, 'percentile', { percentile: 99.9 });
    expect(p.a![1]).toBeLessThan(2);
    expect(p.a![0]).toBeLessThan(-0.9);
    const e = rangesFromArrays({ a: [v] }, 'entropy');
    expect(e.a![1]).toBeLessThan(50);
  });
  it('histogram growth keeps counts', () => {
    const s = new TensorStats();
    s.add([0.1, -0.1]);
    s.add([100, -3]);
    expect(s.hist.reduce((a, b) => a + b, 0)).toBe(4);
    expect(computeRange(s, 'minmax')).toEqual([-3, 100]);
  });
  it('requires calibration or ranges', async () => {
    await expect(runPass(quantizeStaticPass, model, {})).rejects.toThrow(/calibration/);
  });
});

describe('quantize-static qoperator: a node that writes a graph output', () => {
  // a classifier whose last Gemm is the graph output (torchvision heads): that Gemm was left float
  function head(): Model {
    const rng = new Rng(3);
    const b = new GraphBuilder('head');
    const x = b.input('x', 'float32', ['N', 32]);
    const h = b.node('Relu', [b.node('Gemm', [x, b.initializer('w1', randTensor([48, 32], rng, 0.2)), b.initializer('b1', randTensor([48], rng, 0.05))], { transB: 1 }, { name: 'fc1' })]);
    const y = b.node('Gemm', [h, b.initializer('w2', randTensor([10, 48], rng, 0.2)), b.initializer('b2', randTensor([10], rng, 0.05))], { transB: 1 }, { name: 'fc2', outputNames: ['logits'] });
    b.output(y, 'float32', ['N', 10]);
    return b.model();
  }
  const batch = (n: number, seed: number): { data: Float32Array; dims: number[] } => ({ data: randomArray(n * 32, new Rng(seed)), dims: [n, 32] });

  it('is quantized too (QLinearMatMul), close to float in onnxruntime; a Gemm it cannot express is reported, not left silently', async () => {
    const m = head();
    const batches = [1, 2, 3, 4].map((s) => { const f = batch(16, s); return { x: tensor(f.data, f.dims, 'float32', { backend: 'cpu' }) }; });
    const calibration = { async *[Symbol.asyncIterator]() { yield* batches; } };
    const { model: q, report } = await runPass(quantizeStaticPass, m, { format: 'qoperator' }, { calibration });
    expect(q.graph.nodes.filter((n) => n.opType === 'QLinearMatMul').length).toBe(2);
    expect(q.graph.nodes.some((n) => n.opType === 'Gemm')).toBe(false);
    expect(report.stats!.nodes).toBe(2);
    const feeds = { x: batch(64, 9) };
    const ref = (await ortRun(m, feeds)).logits!;
    expect(relError(ref, (await ortRun(q, feeds)).logits!)).toBeLessThan(0.05);

    const scaled = head();
    scaled.graph.nodes.find((n) => n.name === 'fc2')!.attributes.set('alpha', { type: 'float', value: 0.5 });
    const r = await runPass(quantizeStaticPass, scaled, { format: 'qoperator' }, { calibration });
    expect(r.report.stats!.nodes).toBe(1);
    expect(r.report.summary).toMatch(/quantization of 1 nodes .*1 weights skipped: 1 Gemm with transA, alpha or beta has no QLinearMatMul form/);
    expect(r.report.warnings).toEqual([expect.stringMatching(/fc2/)]);
  });
});

describe('quantize-static: given ranges are checked', () => {
  it('a NaN or reversed bound, or a name the graph lacks, is a PassOptionsError naming the entry', async () => {
    const b = new GraphBuilder('mm');
    const input = b.input('x', 'float32', ['N', 8]);
    b.output(b.node('MatMul', [input, b.initializer('w', tensor(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [8, 8]))]), 'float32', ['N', 8]);
    const m = b.model();
    for (const [ranges, message] of [
      [{ [input]: [Number.NaN, 1] }, /entry '.*' must be \[low, high\] finite numbers, got \[NaN, 1\]/],
      [{ [input]: 'x' }, /must be \[low, high\] finite numbers, got "x"/],
      [{ [input]: [5, -5] }, /has low 5 above high -5/],
      [{ nosuch: [0, 1] }, /entry 'nosuch' names no value of the graph/],
    ] as const) {
      await expect(runPass(quantizeStaticPass, m, { ranges })).rejects.toThrow(PassOptionsError);
      await expect(runPass(quantizeStaticPass, m, { ranges })).rejects.toThrow(message);
    }
  });
});

describe('quantize-static: weights only inside If branches', () => {
  for (const id of ['vad-v5', 'vad-legacy']) {
    it(`${id}: changed false, the reason says where the weights are and what quantizes them`, async () => {
      const m = await corpusModel(id);
      const r = await runPass(quantizeStaticPass, m, { ranges: {} });
      expect(r.report.changed).toBe(false);
      expect(r.report.summary).toMatch(/^0 Conv\/MatMul\/Gemm nodes in the main graph: \d+ weights skipped: \d+ inside a subgraph/);
      expect((r.report.details as { reason: string }).reason).toMatch(/quantize-weights or quantize-dynamic/);
      expect(weightBytes(r.model)).toBe(weightBytes(m));
    });
  }
  it('optimum decoder (every weight read inside the If on use_cache_branch): changed false', async () => {
    const m = await frontEnd(optimumDecoder({ seed: 1 }));
    const r = await runPass(quantizeStaticPass, m, { ranges: {} });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/16 inside a subgraph/);
  });
});
