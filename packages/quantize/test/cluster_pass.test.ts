import { describe, expect, it } from 'vitest';
import { type Model, PassDataError, PassOptionsError, cloneModel, runModel, runPass, validateModel } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import '../src/index.js';
import { mixedFeeds, mixedModel, modelBytes, ortRun } from './helpers.js';

/** The mixed test model with ~90 % of its MatMul/Gemm weights zeroed (as after pruning). */
function prunedModel(): Model {
  const m = cloneModel(mixedModel(1));
  const rng = new Rng(7);
  for (const name of ['w1', 'w2', 'w3']) {
    const t = m.graph.initializers.get(name)!;
    const v = Float32Array.from(t.dataSync() as Float32Array, (x) => (rng.uniform() < 0.9 ? 0 : x));
    m.graph.initializers.set(name, tensor(v, t.shape, 'float32', { backend: 'cpu' }));
  }
  return m;
}

/** The dense weights the clustered model computes, read back from onnxruntime as extra outputs. */
async function decodedWeights(m: Model, names: string[]): Promise<Record<string, Float32Array>> {
  const withOutputs = cloneModel(m);
  for (const n of names) withOutputs.graph.outputs.push({ name: n, type: { kind: 'tensor', elemType: 'float32' } } as Model['graph']['outputs'][number]);
  const out = await ortRun(withOutputs, mixedFeeds(2));
  return Object.fromEntries(names.map((n) => [n, out[n]!]));
}

describe('cluster-weights', () => {
  for (const storage of ['indices', 'sparse'] as const) {
    it(`${storage}: onnxruntime decodes at most k shared values, zeros stay zero, outputs match the interpreter`, async () => {
      const model = prunedModel();
      const before = new Map([...model.graph.initializers].map(([k, t]) => [k, Float32Array.from(t.dataSync() as Float32Array)]));
      const { model: out, report } = await runPass('cluster-weights', model, { clusters: 16, storage }, { seed: 3 });
      validateModel(out);
      // the input model is untouched
      for (const [k, v] of before) expect(model.graph.initializers.get(k)!.dataSync()).toEqual(v);
      const dec = await decodedWeights(out, ['w1', 'w2', 'w3']);
      for (const name of ['w1', 'w2', 'w3']) {
        const orig = before.get(name)!;
        const got = dec[name]!;
        expect(got.length).toBe(orig.length);
        expect(new Set(got).size).toBeLessThanOrEqual(16);
        let err = 0;
        let energy = 0;
        for (let i = 0; i < orig.length; i++) {
          expect(got[i] === 0, `${name}[${i}] zero pattern`).toBe(orig[i] === 0);
          err += (got[i]! - orig[i]!) ** 2;
          energy += orig[i]! ** 2;
        }
        // 15 centroids over Gaussian non-zeros: the Lloyd-Max optimum is ~0.011 of the energy
        expect(err / energy, name).toBeLessThan(0.02);
      }
      // onnxruntime and Whittle's interpreter run the decoder identically
      const feeds = mixedFeeds(4);
      const ortOut = await ortRun(out, feeds);
      const ours = await runModel(out, {
        x: tensor(feeds.x!.data as Float32Array, feeds.x!.dims, 'float32', { backend: 'cpu' }),
        ids: tensor(feeds.ids!.data as BigInt64Array, feeds.ids!.dims, 'int64', { backend: 'cpu' }),
      });
      const name = out.graph.outputs[0]!.name;
      const a = ours.get(name)!.dataSync() as Float32Array;
      const b = ortOut[name]!;
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-4);
      expect(report.details!.layers).toHaveLength(3);
      // bytes of the clustered weights' new initializers vs their float32 size (6400+3072+480 floats):
      // 4-bit codes are 1/8 plus codebooks; sparse entries ~1.3 bytes per surviving weight
      const layers = report.details!.layers as { bytes: number }[];
      const bytes = layers.reduce((s, l) => s + l.bytes, 0);
      expect(bytes / ((6400 + 3072 + 480) * 4)).toBeLessThan(storage === 'sparse' ? 0.08 : 0.16);
    });
  }

  it('sparse storage is smaller than packed indices for pruned weights, and the same seed gives the same bytes', async () => {
    const model = prunedModel();
    const sparse = (await runPass('cluster-weights', model, { storage: 'sparse' }, { seed: 1 })).model;
    const indices = (await runPass('cluster-weights', model, { storage: 'indices' }, { seed: 1 })).model;
    expect(modelBytes(sparse)).toBeLessThan(modelBytes(indices));
    const again = (await runPass('cluster-weights', model, { storage: 'sparse', init: 'kmeans++' }, { seed: 5 })).model;
    const twice = (await runPass('cluster-weights', model, { storage: 'sparse', init: 'kmeans++' }, { seed: 5 })).model;
    expect(modelBytes(again)).toBe(modelBytes(twice));
  });

  it('fine-tuning moves the centroids, keeps the codes, and lowers the training loss', async () => {
    const model = prunedModel();
    const rng = new Rng(11);
    const n = 256;
    // labels from the model itself (argmax of its logits), so the task is learnable
    const x = Float32Array.from({ length: n * 100 }, () => rng.normal());
    const mlp = cloneModel(model);
    const g = mlp.graph;
    // drop the embedding branch: x -> mm1 -> relu -> gemm2 -> tanh -> gemm3
    const addEmb = g.nodes.find((nd) => nd.name === 'add_emb')!;
    const mm = addEmb.inputs[0]!;
    for (const nd of g.nodes) nd.inputs = nd.inputs.map((i) => (i === addEmb.outputs[0] ? mm : i));
    g.nodes.splice(g.nodes.indexOf(addEmb), 1);
    g.nodes.splice(g.nodes.findIndex((nd) => nd.name === 'embed'), 1);
    g.inputs.splice(g.inputs.findIndex((i) => i.name === 'ids'), 1);
    validateModel(mlp);
    const logits = (await runModel(mlp, { x: tensor(x, [n, 100], 'float32', { backend: 'cpu' }) })).get(g.outputs[0]!.name)!.dataSync() as Float32Array;
    const labels = Int32Array.from({ length: n }, (_, i) => {
      let best = 0;
      for (let k = 1; k < 10; k++) if (logits[i * 10 + k]! > logits[i * 10 + best]!) best = k;
      return best;
    });
    const training = { x, labels, sampleShape: [100] };
    const r = await runPass('cluster-weights', mlp, { clusters: 4, fineTuneEpochs: 4, lr: 3e-3, batchSize: 32 }, { seed: 2, training });
    const losses = r.report.details!.fineTuneLosses as number[];
    expect(losses).toHaveLength(4);
    expect(losses[3]!).toBeLessThan(losses[0]!);
    const dec = await (async () => {
      const m = cloneModel(r.model);
      m.graph.outputs.push({ name: 'w1', type: { kind: 'tensor', elemType: 'float32' } } as Model['graph']['outputs'][number]);
      return (await ortRun(m, { x: { data: x.subarray(0, 100), dims: [1, 100] } })).w1!;
    })();
    expect(new Set(dec).size).toBeLessThanOrEqual(4);
    const orig = mlp.graph.initializers.get('w1')!.dataSync() as Float32Array;
    for (let i = 0; i < orig.length; i++) expect(dec[i] === 0).toBe(orig[i] === 0);
  });

  it('refuses bad options and missing training data with typed errors', async () => {
    const model = prunedModel();
    await expect(runPass('cluster-weights', model, { storage: 'sparse', gapBits: 9 })).rejects.toThrow(PassOptionsError);
    await expect(runPass('cluster-weights', model, { storage: 'sparse', gapBits: 9 })).rejects.toThrow(/gapBits/);
    await expect(runPass('cluster-weights', model, { fineTuneEpochs: 1 })).rejects.toThrow(PassDataError);
    await expect(runPass('cluster-weights', model, { clusterz: 3 })).rejects.toThrow(PassOptionsError);
  });
});
