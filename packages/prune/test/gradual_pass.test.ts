import { describe, expect, it } from 'vitest';
import { accuracyOf, linearTask } from '@whittle/testing';
import { PassDataError, PassOptionsError, mlpTemplate, predictClasses, runPass, trainClassifier, validateModel } from '@whittle/graph';
import { Rng } from '@whittle/tensor';
import { checkNMPattern, findPrunableWeights } from '../src/index.js';
import { runOrt, runWhittle, values, zeroFraction } from './helpers.js';


describe('prune-gradual', () => {
  it('reaches the exact global sparsity, holds it through training, beats one-shot pruning, and runs in onnxruntime', async () => {
    const train = linearTask(1024, 1);
    const test = linearTask(512, 2);
    const base = (await trainClassifier(mlpTemplate({ layers: [20, 64, 64, 4], inputName: 'x' }, new Rng(3)), { ...train, sampleShape: [20], epochs: 6, lr: 3e-3, seed: 1 })).model;
    const training = { ...train, sampleShape: [20] };
    const { model, report } = await runPass('prune-gradual', base, { targetSparsity: 0.85, epochs: 8, frequency: 4, lr: 3e-3 }, { seed: 5, training });
    validateModel(model);
    // global: 85 % of all 20*64 + 64*64 + 64*4 weights are exactly zero
    let zeros = 0;
    let total = 0;
    for (const w of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
      const v = await values(model, w);
      zeros += Math.round(zeroFraction(v) * v.length);
      total += v.length;
    }
    expect(zeros).toBe(Math.round(0.85 * total));
    expect(report.details!.maskUpdates as number).toBeGreaterThan(5);
    const oneShot = (await runPass('prune-unstructured', base, { sparsity: 0.85, scope: 'global' })).model;
    const accGradual = accuracyOf(await predictClasses(model, test.x, [20]), test.labels);
    const accOneShot = accuracyOf(await predictClasses(oneShot, test.x, [20]), test.labels);
    const accBase = accuracyOf(await predictClasses(base, test.x, [20]), test.labels);
    expect(accGradual).toBeGreaterThan(accOneShot);
    expect(accGradual).toBeGreaterThan(accBase - 0.05);
    const feeds = { x: { data: test.x.subarray(0, 64 * 20), shape: [64, 20] } };
    const ort = await runOrt(model, feeds);
    const ours = await runWhittle(model, feeds);
    const name = model.graph.outputs[0]!.name;
    const a = ours[name]!;
    const b = ort.outputs[name]!;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
  });

  it("holds an N:M pattern (nm: '2:4') on every weight through training, recovers accuracy, and runs in onnxruntime", async () => {
    const train = linearTask(1024, 1);
    const test = linearTask(512, 2);
    const base = (await trainClassifier(mlpTemplate({ layers: [20, 64, 64, 4], inputName: 'x' }, new Rng(3)), { ...train, sampleShape: [20], epochs: 6, lr: 3e-3, seed: 1 })).model;
    const { model, report } = await runPass('prune-gradual', base, { nm: '2:4', epochs: 3, lr: 2e-3 }, { seed: 5, training: { ...train, sampleShape: [20] } });
    validateModel(model);
    const ws = findPrunableWeights(model);
    expect(ws.length).toBe(3);
    for (const w of ws) {
      const c = checkNMPattern(model.graph.initializers.get(w.weight)!, 2, 4, w.inputAxis);
      expect(c.ok, `${w.weight}: ${JSON.stringify(c)}`).toBe(true);
      expect(zeroFraction(await values(model, w.weight))).toBeGreaterThanOrEqual(0.5);
    }
    expect((report.details!.pattern as { n: number; m: number }).m).toBe(4);
    const oneShot = (await runPass('prune-nm', base, { n: 2, m: 4 })).model;
    const accTuned = accuracyOf(await predictClasses(model, test.x, [20]), test.labels);
    const accOneShot = accuracyOf(await predictClasses(oneShot, test.x, [20]), test.labels);
    expect(accTuned).toBeGreaterThanOrEqual(accOneShot);
    const feeds = { x: { data: test.x.subarray(0, 32 * 20), shape: [32, 20] } };
    const name = model.graph.outputs[0]!.name;
    const a = (await runWhittle(model, feeds))[name]!;
    const b = (await runOrt(model, feeds)).outputs[name]!;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
    await expect(runPass('prune-gradual', base, { nm: '4:2' }, { training: { ...train, sampleShape: [20] } })).rejects.toThrow(PassOptionsError);
    await expect(runPass('prune-gradual', base, { nm: 'half' }, { training: { ...train, sampleShape: [20] } })).rejects.toThrow(/nm must look like/);
  });

  it('is reproducible from the seed and refuses missing labels or bad options with typed errors', async () => {
    const train = linearTask(128, 4);
    const base = mlpTemplate({ layers: [20, 16, 4], inputName: 'x' }, new Rng(1));
    const training = { ...train, sampleShape: [20] };
    const a = await runPass('prune-gradual', base, { targetSparsity: 0.5, epochs: 1, schedule: 'constant' }, { seed: 9, training });
    const b = await runPass('prune-gradual', base, { targetSparsity: 0.5, epochs: 1, schedule: 'constant' }, { seed: 9, training });
    expect(await values(a.model, 'fc1.weight')).toEqual(await values(b.model, 'fc1.weight'));
    await expect(runPass('prune-gradual', base, {})).rejects.toThrow(PassDataError);
    await expect(runPass('prune-gradual', base, {}, { training: { x: train.x, sampleShape: [20] } })).rejects.toThrow(/labeled training data/);
    await expect(runPass('prune-gradual', base, { targetSparsity: 1.5 }, { training })).rejects.toThrow(/targetSparsity/);
  });

  it('one training step in all (fewer samples than a batch, one epoch) still prunes to the target, with a warning', async () => {
    const train = linearTask(16, 4);
    const base = mlpTemplate({ layers: [20, 16, 4], inputName: 'x' }, new Rng(1));
    const { model, report } = await runPass('prune-gradual', base, { targetSparsity: 0.6, epochs: 1, batchSize: 64 }, { seed: 3, training: { ...train, sampleShape: [20] } });
    expect(report.changed).toBe(true);
    let zeros = 0;
    let total = 0;
    for (const w of ['fc1.weight', 'fc2.weight']) {
      const v = await values(model, w);
      zeros += Math.round(zeroFraction(v) * v.length);
      total += v.length;
    }
    expect(zeros).toBe(Math.round(0.6 * total));
    expect(report.warnings!.join('\n')).toMatch(/one training step in all \(1 batch\(es\) of 64 × 1 epoch\(s\)\): pruned to 60\.0 % at once/);
    const feeds = { x: { data: train.x.subarray(0, 4 * 20), shape: [4, 20] } };
    const ort = await runOrt(model, feeds);
    const ours = await runWhittle(model, feeds);
    const name = model.graph.outputs[0]!.name;
    for (let i = 0; i < ours[name]!.length; i++) expect(Math.abs(ours[name]![i]! - ort.outputs[name]![i]!)).toBeLessThan(1e-4);
  });
});
