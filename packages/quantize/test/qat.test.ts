import { describe, expect, it } from 'vitest';
import { accuracyOf, linearTask } from '@whittle/testing';
import { PassDataError, mlpTemplate, predictClasses, runModel, runPass, trainClassifier, validateModel } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import '../src/index.js';
import { ortRun } from './helpers.js';


describe('qat', () => {
  it('trains through 2-bit fake quantization, beats round-to-nearest at the same grid, exports QDQ that onnxruntime runs', async () => {
    const train = linearTask(2048, 1);
    const test = linearTask(512, 2);
    const base = (await trainClassifier(mlpTemplate({ layers: [20, 32, 4], inputName: 'x' }, new Rng(3)), { ...train, sampleShape: [20], epochs: 6, lr: 3e-3, seed: 1 })).model;
    const opts = { bits: 2, granularity: 'per-channel' };
    const rtn = (await runPass('quantize-weights', base, opts)).model;
    const qat = await runPass('qat', base, { ...opts, epochs: 3, lr: 2e-3 }, { seed: 1, training: { ...train, sampleShape: [20] } });
    validateModel(qat.model);
    expect(qat.model.graph.nodes.filter((n) => n.opType === 'DequantizeLinear')).toHaveLength(2);
    const losses = qat.report.details!.losses as number[];
    expect(losses[2]!).toBeLessThan(losses[0]!);
    const aBase = accuracyOf(await predictClasses(base, test.x, [20]), test.labels);
    const aRtn = accuracyOf(await predictClasses(rtn, test.x, [20]), test.labels);
    const aQat = accuracyOf(await predictClasses(qat.model, test.x, [20]), test.labels);
    expect(aQat).toBeGreaterThan(aRtn);
    expect(aQat).toBeGreaterThan(aBase - 0.1);
    const feeds = { x: { data: test.x.subarray(0, 16 * 20), dims: [16, 20] } };
    const o = await ortRun(qat.model, feeds);
    const ours = (await runModel(qat.model, { x: tensor(test.x.slice(0, 16 * 20), [16, 20]) })).get(qat.model.graph.outputs[0]!.name)!.dataSync() as Float32Array;
    const theirs = o[qat.model.graph.outputs[0]!.name]!;
    for (let i = 0; i < ours.length; i++) expect(Math.abs(ours[i]! - theirs[i]!)).toBeLessThan(1e-4);
    await expect(runPass('qat', base, {})).rejects.toThrow(PassDataError);
  });
});
