import { PassDataError, getPass, mlpTemplate, predictClasses, runModel, runPass, tensorValues, trainClassifier, validateModel } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { accuracyOf, linearTask } from '@whittle/testing';
import { Rng, diff, runOrt, t } from './helpers.js';
import '../src/index.js';


describe('fineTuneEpochs (lowrank, lowrank-linear, lowrank-conv)', () => {
  it('fine-tunes the factors on ctx.training: accuracy recovers vs factorizing only, the result runs in onnxruntime', async () => {
    const train = linearTask(1024, 1);
    const test = linearTask(512, 2);
    const base = (await trainClassifier(mlpTemplate({ layers: [20, 64, 64, 4], inputName: 'x' }, new Rng(3)), { ...train, sampleShape: [20], epochs: 6, lr: 3e-3, seed: 1 })).model;
    const training = { ...train, sampleShape: [20] };
    const opts = { rankSelection: 'fixed', rank: 2 };
    const plain = await runPass('lowrank', base, opts, { seed: 1 });
    const tuned = await runPass('lowrank', base, { ...opts, fineTuneEpochs: 4, lr: 2e-3 }, { seed: 1, training });
    validateModel(tuned.model);
    // same factorization (structure and parameter count), different factor values
    expect(tuned.report.stats).toEqual(plain.report.stats);
    expect((tuned.report.details!['fineTune'] as { losses: number[] }).losses).toHaveLength(4);
    const accPlain = accuracyOf(await predictClasses(plain.model, test.x, [20]), test.labels);
    const accTuned = accuracyOf(await predictClasses(tuned.model, test.x, [20]), test.labels);
    expect(accTuned).toBeGreaterThan(accPlain);
    // the input model is untouched and the written model runs in onnxruntime like in Whittle
    const x = test.x.subarray(0, 32 * 20);
    const ort = await runOrt(tuned.model, { x: { data: x, shape: [32, 20] } });
    const name = tuned.model.graph.outputs[0]!.name;
    const ours = await runModel(tuned.model, { x: t(x, [32, 20]) });
    expect(diff(ort[name]!, Float32Array.from(await tensorValues(ours.get(name)!) as ArrayLike<number>)).maxAbs).toBeLessThan(1e-4);
  });

  it('is deterministic from the seed; without labeled training data it throws a typed error naming it', async () => {
    const train = linearTask(128, 4);
    const base = mlpTemplate({ layers: [20, 32, 4], inputName: 'x' }, new Rng(1));
    const training = { ...train, sampleShape: [20] };
    const o = { rankSelection: 'fixed', rank: 2, fineTuneEpochs: 1 };
    const a = await runPass('lowrank-linear', base, o, { seed: 7, training });
    const b = await runPass('lowrank-linear', base, o, { seed: 7, training });
    for (const [k, v] of a.model.graph.initializers) expect(await tensorValues(v)).toEqual(await tensorValues(b.model.graph.initializers.get(k)!));
    await expect(runPass('lowrank-linear', base, o)).rejects.toThrow(PassDataError);
    await expect(runPass('lowrank', base, o, { training: { x: train.x, sampleShape: [20] } })).rejects.toThrow(/needs labeled training data/);
    for (const p of ['lowrank', 'lowrank-linear', 'lowrank-conv']) expect(Object.keys(getPass(p).optionsSchema!.fields)).toEqual(expect.arrayContaining(['fineTuneEpochs', 'lr', 'batchSize']));
  });
});
