import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type ActivationRange, CalibrationDataError, type Feeds, GraphBuilder, type Model, activationRange, collectActivations, runPass } from '@whittle/graph';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { tensor } from '@whittle/tensor';
import { collectStats } from '../src/calibrate.js';
import { smoothQuantPass } from '../src/smooth_quant.js';
import { quantizeStaticPass } from '../src/static.js';
import { mixedFeeds, mixedModel } from './helpers.js';
import { imageInput, resnetCnn } from './models.js';

const onnxruntime = ortActivationRuntime(ort as unknown as OrtModuleLike);

function cnnBatches(n: number): { batches(): Iterable<Feeds> } {
  return {
    *batches() {
      for (let i = 0; i < n; i++) {
        const f = imageInput(4, 30 + i);
        yield { x: tensor(f.data, f.dims, 'float32', { backend: 'cpu' }) };
      }
    },
  };
}

function mixedBatches(n: number): { batches(): Iterable<Feeds> } {
  return {
    *batches() {
      for (let i = 0; i < n; i++) {
        const f = mixedFeeds(16, 50 + i);
        yield { x: tensor(f.x!.data as Float32Array, f.x!.dims, 'float32', { backend: 'cpu' }), ids: tensor(f.ids!.data as BigInt64Array, f.ids!.dims, 'int64', { backend: 'cpu' }) };
      }
    },
  };
}

/** Every value the model computes, except the graph inputs. */
function activationNames(m: Model): string[] {
  return m.graph.nodes.flatMap((n) => n.outputs.filter(Boolean));
}

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  expect(a.length).toBe(b.length);
  let scale = 1e-6;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]!));
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(tol * scale);
}

describe('calibration on onnxruntime vs the interpreter', () => {
  it('collectStats: same min/max/histogram counts for every activation of a CNN', async () => {
    const m = resnetCnn();
    const names = ['x', ...activationNames(m)];
    const a = await collectStats(m, names, cnnBatches(3), { calibrationRuntime: 'interpreter' });
    const b = await collectStats(m, names, cnnBatches(3), { activationRuntime: onnxruntime });
    for (const n of names) {
      const sa = a.get(n)!;
      const sb = b.get(n)!;
      expect(sb.count, n).toBe(sa.count);
      expect(sa.count, n).toBeGreaterThan(0);
      expect(sb.min).toBeCloseTo(sa.min, 4);
      expect(sb.max).toBeCloseTo(sa.max, 4);
    }
  });

  it('range-only statistics: onnxruntime reduces in the graph (no value copied out), same ranges as the interpreter', async () => {
    const m = resnetCnn(); // no intermediate value types listed: the runtime infers them
    const names = ['x', ...activationNames(m)];
    const f = imageInput(4, 30);
    const session = await onnxruntime.open(m, [], { ranges: names });
    const values = await session.run({ x: tensor(f.data, f.dims, 'float32', { backend: 'cpu' }) });
    await session.close();
    for (const n of activationNames(m)) expect('data' in values.get(n)!, n).toBe(false);
    const a = await collectStats(m, names, cnnBatches(3), { calibrationRuntime: 'interpreter', histogram: false });
    const b = await collectStats(m, names, cnnBatches(3), { activationRuntime: onnxruntime, histogram: false });
    for (const n of names) {
      const sa = a.get(n)!;
      const sb = b.get(n)!;
      expect(sa.count, n).toBeGreaterThan(0);
      expect(sb.count, n).toBe(sa.count);
      expect(sb.min, n).toBeCloseTo(sa.min, 4);
      expect(sb.max, n).toBeCloseTo(sa.max, 4);
    }
  });

  it('range-only statistics: a batch holding NaN is fetched in full, so its range skips NaN; integer values are reduced from their values', async () => {
    // y = 2x (intermediate, NaN kept where x has it), s = Shape(x) (int64)
    const b = new GraphBuilder('nan');
    const x = b.input('x', 'float32', ['N', 8]);
    const y = b.node('Mul', [x, b.initializer('two', tensor(new Float32Array([2]), [1], 'float32', { backend: 'cpu' }))]);
    const s = b.node('Shape', [x]);
    b.output(b.node('Relu', [y]), 'float32', ['N', 8]);
    b.output(b.node('Cast', [s], { to: { type: 'int', value: 1 } }), 'float32', [2]);
    const m = b.model([{ domain: '', version: 17 }]);
    // onnxruntime's ReduceMin/ReduceMax skip a NaN after the first element only in some lanes: this batch gave a wrong min
    const batches = [[0.5, NaN, 1, -2, 3, -4.5, 2, 1, 0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8]];
    const data = batches.map((v) => ({ x: tensor(Float32Array.from(v), [2, 8], 'float32', { backend: 'cpu' }) }));
    const seen: Map<string, ActivationRange>[] = [];
    const point = { names: [y, s], consume() {}, consumeRanges: (r: ReadonlyMap<string, ActivationRange>) => void seen.push(new Map(r)) };
    await collectActivations(m, [point], data, { pass: 't', activationRuntime: onnxruntime });
    const expected = batches.map((v) => activationRange(Float32Array.from(v, (t) => 2 * t)));
    expect(seen.map((r) => r.get(y))).toEqual(expected);
    expect(expected[0]).toEqual({ min: -9, max: 14, count: 16 });
    expect(seen.map((r) => r.get(s))).toEqual([{ min: 2, max: 8, count: 2 }, { min: 2, max: 8, count: 2 }]);
  });

  it('small counts (convert-float16): onnxruntime counts in the graph what the interpreter path counts from the values, ±inf and zeros skipped', async () => {
    // y = x · 1e-3: entries below float16's smallest normal (2^-14 ≈ 6.1e-5), zeros, ±inf, large ones
    const b = new GraphBuilder('small');
    const x = b.input('x', 'float32', ['N', 8]);
    const y = b.node('Mul', [x, b.initializer('k', tensor(new Float32Array([1e-3]), [1], 'float32', { backend: 'cpu' }))]);
    b.output(b.node('Relu', [y]), 'float32', ['N', 8]);
    const m = b.model([{ domain: '', version: 17 }]);
    const values = [0, 0.01, 0.05, -0.06, 0.2, Infinity, -Infinity, 1e8, 3, -0.03, 0, 0.07, -7e7, 0.5, 0.001, 2];
    const data = [{ x: tensor(Float32Array.from(values), [2, 8], 'float32', { backend: 'cpu' }) }];
    const t = 2 ** -14;
    const run = async (runtime: 'onnxruntime' | 'interpreter'): Promise<ActivationRange> => {
      let got: ActivationRange | undefined;
      const point = { names: [y], smallBelow: t, consume() {}, consumeRanges: (r: ReadonlyMap<string, ActivationRange>) => void (got = r.get(y)) };
      await collectActivations(m, [point], data, { pass: 't', activationRuntime: onnxruntime, runtime });
      return got!;
    };
    const [viaOrt, viaInterpreter] = [await run('onnxruntime'), await run('interpreter')];
    const expected = activationRange(Float32Array.from(values, (v) => Math.fround(v * Math.fround(1e-3))), t);
    // 12 finite nonzero entries; below 2^-14: 1e-5, 5e-5, 6e-5, 3e-5, 1e-6
    expect([expected.nonzero, expected.small, expected.maxAbs]).toEqual([12, 5, Math.fround(Math.fround(1e8) * Math.fround(1e-3))]);
    for (const r of [viaOrt, viaInterpreter]) {
      expect(r.nonzero).toBe(expected.nonzero);
      expect(r.small).toBe(expected.small);
      expect(r.maxAbs).toBeCloseTo(expected.maxAbs!, 0);
      expect(r.count).toBe(16);
    }
  });

  it('quantize-static: the same QDQ model either way (int64 input, Gather, Gemm)', async () => {
    const m = mixedModel();
    const qi = await runPass(quantizeStaticPass, m, {}, { calibration: mixedBatches(3).batches() as unknown as AsyncIterable<Feeds>, calibrationRuntime: 'interpreter' });
    const qo = await runPass(quantizeStaticPass, m, {}, { calibration: mixedBatches(3).batches() as unknown as AsyncIterable<Feeds>, activationRuntime: onnxruntime });
    expect(qo.model.graph.nodes.map((n) => n.opType)).toEqual(qi.model.graph.nodes.map((n) => n.opType));
    for (const [name, t] of qi.model.graph.initializers) {
      const u = qo.model.graph.initializers.get(name)!;
      expect(u.dtype, name).toBe(t.dtype);
      if (t.dtype === 'float32') expectClose(t.dataSync() as Float32Array, u.dataSync() as Float32Array, 1e-5);
      else expectClose(t.dataSync() as ArrayLike<number>, u.dataSync() as ArrayLike<number>, 0.01);
    }
  });

  it('smooth-quant: same scales either way', async () => {
    const m = mixedModel();
    const a = await runPass(smoothQuantPass, m, {}, { calibration: mixedBatches(2).batches() as unknown as AsyncIterable<Feeds>, calibrationRuntime: 'interpreter' });
    const b = await runPass(smoothQuantPass, m, {}, { calibration: mixedBatches(2).batches() as unknown as AsyncIterable<Feeds>, activationRuntime: onnxruntime });
    expect(b.report.stats).toEqual(a.report.stats);
    for (const [name, t] of a.model.graph.initializers) expectClose(t.dataSync() as Float32Array, b.model.graph.initializers.get(name)!.dataSync() as Float32Array, 1e-5);
  });

  it('several statistic points share one pass; re-iterable data is read from the start each time', async () => {
    const m = resnetCnn();
    const seen: string[][] = [];
    const point = (names: string[]) => ({ names, consume: (v: ReadonlyMap<string, unknown>) => void seen.push([...v.keys()]) });
    const data = cnnBatches(2);
    for (let run = 0; run < 2; run++) {
      const batches = await collectActivations(m, [point(['x']), point(['fc.out_missing', m.graph.outputs[0]!.name])], data, { pass: 't', activationRuntime: onnxruntime });
      expect(batches).toBe(2);
    }
    expect(seen).toEqual(Array.from({ length: 4 }, () => [['x'], [m.graph.outputs[0]!.name]]).flat());
  });

  it('typed errors: no data, empty data, onnxruntime forced without a runtime', async () => {
    const m = resnetCnn();
    await expect(collectActivations(m, [], undefined, { pass: 'p' })).rejects.toBeInstanceOf(CalibrationDataError);
    await expect(collectActivations(m, [], [], { pass: 'p' })).rejects.toThrow(/p: the calibration data is empty/);
    await expect(collectActivations(m, [], cnnBatches(1), { pass: 'p', runtime: 'onnxruntime' })).rejects.toThrow(/no onnxruntime activation runtime/);
  });

  it('a batch onnxruntime cannot run fails as CalibrationDataError naming the batch and the shapes fed', async () => {
    const m = resnetCnn();
    const fourChannels = {
      *batches() {
        const f = imageInput(2, 30);
        yield { x: tensor(f.data, f.dims, 'float32', { backend: 'cpu' }) };
        yield { x: tensor(new Float32Array(2 * 4 * 256), [2, 4, 16, 16], 'float32', { backend: 'cpu' }) };
      },
    };
    const err = await collectActivations(m, [{ names: [m.graph.outputs[0]!.name], consume() {} }], fourChannels, { pass: 'p', activationRuntime: onnxruntime }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CalibrationDataError);
    expect((err as Error).message).toMatch(/^p: onnxruntime could not run the model on calibration batch 1 \(x \[2, 4, 16, 16\]\): .*Got: 4 Expected: 3.*; the calibration samples must have shapes the model accepts$/s);
  });

  it("'auto' falls back to the interpreter (with a warning) when the runtime cannot load the model; a forced runtime fails", async () => {
    const m = resnetCnn();
    const broken = { name: 'broken', open: () => Promise.reject(new Error('model too large')) };
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (msg: string) => void warnings.push(msg) };
    const a = await collectStats(m, ['x'], cnnBatches(2), { activationRuntime: broken, logger });
    expect(a.get('x')!.count).toBe(2 * 4 * 3 * 256);
    expect(warnings).toEqual([expect.stringMatching(/broken could not load the model for calibration \(model too large\)/)]);
    await expect(collectStats(m, ['x'], cnnBatches(1), { activationRuntime: broken, calibrationRuntime: 'onnxruntime' })).rejects.toThrow(/model too large/);
  });
});
