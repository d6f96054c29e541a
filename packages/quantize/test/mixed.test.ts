import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { type ActivationRuntime, type Feeds, PassDataError, cloneModel, runModel, runPass, validateModel } from '@whittle/graph';
import { type OrtModuleLike, ortActivationRuntime } from '@whittle/onnx';
import { Rng, tensor } from '@whittle/tensor';
import '../src/index.js';
import { mixedFeeds, mixedModel, ortRun } from './helpers.js';

async function* calib(n: number): AsyncGenerator<Feeds> {
  for (let b = 0; b < n; b++) {
    const f = mixedFeeds(16, 10 + b);
    yield { x: tensor(f.x!.data as Float32Array, f.x!.dims), ids: tensor(f.ids!.data as BigInt64Array, f.ids!.dims, 'int64') };
  }
}

async function outputError(ref: ReturnType<typeof mixedModel>, m: ReturnType<typeof mixedModel>): Promise<number> {
  let e = 0;
  let n = 0;
  for await (const f of calib(2)) {
    const a = (await runModel(ref, f)).get(ref.graph.outputs[0]!.name)!.dataSync() as Float32Array;
    const b = (await runModel(m, f)).get(m.graph.outputs[0]!.name)!.dataSync() as Float32Array;
    a.forEach((x, i) => void ((e += (x - b[i]!) ** 2), n++));
  }
  return e / n;
}

describe('quantize-mixed', () => {
  it('keeps the most sensitive layer at 8 bits within the budget and beats all-4-bit on output error', async () => {
    // make w3 (the last Gemm) sensitive: a few large outliers widen its 4-bit grid
    const model = cloneModel(mixedModel(1));
    const w3 = model.graph.initializers.get('w3')!;
    const v = Float32Array.from(w3.dataSync() as Float32Array);
    const rng = new Rng(4);
    for (let i = 0; i < 10; i++) v[rng.int(v.length)] = 3;
    model.graph.initializers.set('w3', tensor(v, w3.shape));
    // float bytes: w1 6400 + w2 3072 + w3 480 floats; all-4-bit ≈ 0.16x; budget 0.2x leaves room for w3 (or w2) at 8 bits, not w1
    const messages: string[] = [];
    const r = await runPass('quantize-mixed', model, { targetRatio: 0.2, granularity: 'per-channel' }, { calibration: calib(3), onProgress: (_f, m) => m && messages.push(m) });
    validateModel(r.model);
    // the cost of the scan is announced before it starts: 3 layers × 3 batches (the 8-bit errors,
    // 4 bits up, are scaled from the weight errors)
    expect(messages[0]).toMatch(/^sensitivity of 3 layers: 9 forwards \(\w+\) at ~[\d.]+ s each$/);
    expect(r.report.details!.outputMseHighEstimated).toBe(true);
    const layers = r.report.details!.layers as { weight: string; bits: number; outputMseLow: number; outputMseHigh: number }[];
    const byErr = [...layers].sort((a, b) => b.outputMseLow - a.outputMseLow);
    expect(layers.find((l) => l.weight === 'w1')!.bits).toBe(4);
    expect(layers.find((l) => l.weight === byErr[0]!.weight)!.bits).toBe(8);
    expect(r.report.stats!.weightBytes!).toBeLessThanOrEqual(r.report.stats!.budgetBytes!);
    const all4 = (await runPass('quantize-weights', model, { bits: 4, granularity: 'per-channel' })).model;
    expect(await outputError(model, r.model)).toBeLessThan(await outputError(model, all4));
    // ORT's extended optimizations fuse DQ + Gemm into integer kernels with their own rounding;
    // at 'basic' it computes the graph as written, which the interpreter matches to float32 noise
    const o = await ortRun(r.model, mixedFeeds(4), { graphOptimizationLevel: 'basic' });
    const ours = (await runModel(r.model, { x: tensor(mixedFeeds(4).x!.data as Float32Array, [4, 100]), ids: tensor(mixedFeeds(4).ids!.data as BigInt64Array, [4], 'int64') })).get(r.model.graph.outputs[0]!.name)!.dataSync() as Float32Array;
    const theirs = o[r.model.graph.outputs[0]!.name]!;
    ours.forEach((x, i) => expect(Math.abs(x - theirs[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(theirs[i]!))));
    await expect(runPass('quantize-mixed', model, {})).rejects.toThrow(PassDataError);
  });

  it('measures sensitivity in one onnxruntime session with the weights fed; the bits and errors match the interpreter', async () => {
    const model = cloneModel(mixedModel(2));
    const onnxruntime = ortActivationRuntime(ort as unknown as OrtModuleLike);
    const opened: number[] = [];
    const runtime: ActivationRuntime = { name: 'onnxruntime', open: (m, fetch, o) => (opened.push(m.graph.inputs.length), onnxruntime.open(m, fetch, o)) };
    const opts = { targetRatio: 0.2, granularity: 'per-channel' };
    const ours = await runPass('quantize-mixed', model, opts, { calibration: calib(3) });
    const theirs = await runPass('quantize-mixed', model, opts, { calibration: calib(3), activationRuntime: runtime });
    // one session for the reference and every layer variant, the weights added as graph inputs
    expect(opened).toEqual([model.graph.inputs.length + 3]);
    type Layer = { weight: string; bits: number; outputMseLow: number; outputMseHigh: number };
    const a = ours.report.details!.layers as Layer[];
    const b = theirs.report.details!.layers as Layer[];
    expect(b.map((l) => [l.weight, l.bits])).toEqual(a.map((l) => [l.weight, l.bits]));
    a.forEach((l, i) => {
      expect(Math.abs(b[i]!.outputMseLow - l.outputMseLow)).toBeLessThan(1e-3 * l.outputMseLow);
      expect(Math.abs(b[i]!.outputMseHigh - l.outputMseHigh)).toBeLessThan(1e-2 * l.outputMseHigh + 1e-9);
    });
    // the model is unchanged by the scan (its weights were fed, not written)
    expect(model.graph.inputs.map((i) => i.name)).toEqual(mixedModel(2).graph.inputs.map((i) => i.name));
    // a forced onnxruntime without one injected is refused
    await expect(runPass('quantize-mixed', model, opts, { calibration: calib(1), calibrationRuntime: 'onnxruntime' })).rejects.toThrow(PassDataError);
  });

  it('the 8-bit errors scaled from the weight errors stand close to measured ones and pick the same bits', async () => {
    const model = cloneModel(mixedModel(3));
    type Layer = { weight: string; bits: number; outputMseLow: number; outputMseHigh: number };
    const opts = { targetRatio: 0.2, granularity: 'per-channel' };
    const est = await runPass('quantize-mixed', model, opts, { calibration: calib(3) });
    const meas = await runPass('quantize-mixed', model, { ...opts, measureHigh: true }, { calibration: calib(3) });
    expect(meas.report.details!.outputMseHighEstimated).toBe(false);
    const a = est.report.details!.layers as Layer[];
    const b = meas.report.details!.layers as Layer[];
    expect(a.map((l) => [l.weight, l.bits])).toEqual(b.map((l) => [l.weight, l.bits]));
    a.forEach((l, i) => {
      expect(l.outputMseLow).toBe(b[i]!.outputMseLow);
      // both far below the 4-bit error; the estimate within 3x of the measurement
      expect(l.outputMseHigh).toBeLessThan(0.05 * l.outputMseLow);
      expect(l.outputMseHigh / b[i]!.outputMseHigh).toBeGreaterThan(1 / 3);
      expect(l.outputMseHigh / b[i]!.outputMseHigh).toBeLessThan(3);
    });
    // close precisions are always measured
    const close = await runPass('quantize-mixed', model, { ...opts, lowBits: 6, highBits: 8 }, { calibration: calib(3) });
    expect(close.report.details!.outputMseHighEstimated).toBe(false);
  });
});
