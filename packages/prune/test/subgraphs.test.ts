import { type Model, normalizeModel, runPass } from '@whittle/graph';
import { readModel, writeModel } from '@whittle/onnx';
import { CORPUS, corpusBytes, corpusFeeds } from '@whittle/testing/corpus';
import { optimumDecoder } from '@whittle/testing/exporters';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { checkNMPattern, findPrunableWeights } from '../src/index.js';
import { resolveWeightKey } from '../src/layers.js';
import { Rng, tensor } from '@whittle/tensor';
import { t, zeroFraction } from './helpers.js';

const vad = CORPUS.find((m) => m.id === 'vad-v5')!;

async function ortRun(m: Model): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const s = await ort.InferenceSession.create(writeModel(m));
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [k, f] of Object.entries(corpusFeeds(vad, 3, 0.3))) feeds[k] = new ort.Tensor(f.type, f.data as Float32Array, f.dims);
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { data: v.data as Float32Array, dims: v.dims }]));
  } finally {
    await s.release();
  }
}

async function normalizedVad(): Promise<Model> {
  return (await normalizeModel(readModel(corpusBytes(vad)))).model;
}

describe('pruning weights that If branches read from the enclosing graph (Optimum merged decoder)', () => {
  // both branches (with / without past) read the same main-graph initializers: none is stored in a branch
  async function decoder(): Promise<Model> {
    return (await normalizeModel(optimumDecoder({ seed: 1 }))).model;
  }
  const feeds = (useCache: boolean): Record<string, ort.Tensor> => {
    const kv = (): ort.Tensor => new ort.Tensor('float32', Float32Array.from({ length: 4 * 3 * 16 }, (_, i) => Math.sin(i)), [1, 4, 3, 16]);
    return {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([5n, 17n, 99n, 3n]), [1, 4]),
      // past (3) + new (4) tokens with the cache, the 4 new ones without
      attention_mask: new ort.Tensor('int64', new BigInt64Array(useCache ? 7 : 4).fill(1n), [1, useCache ? 7 : 4]),
      'past_key_values.0.key': kv(), 'past_key_values.0.value': kv(), 'past_key_values.1.key': kv(), 'past_key_values.1.value': kv(),
      use_cache_branch: new ort.Tensor('bool', Uint8Array.from([useCache ? 1 : 0]), [1]),
    };
  };

  for (const pass of ['prune-unstructured', 'prune-nm'] as const) {
    it(`${pass} prunes each outer-scope weight once, in the main graph; ORT runs both branches`, async () => {
      const model = await decoder();
      const found = findPrunableWeights(model, { subgraphs: true });
      // every projection MatMul reads a main-graph weight from inside a branch
      expect(found.length).toBeGreaterThan(0);
      for (const w of found) {
        expect(w.scope, w.key).toBeTruthy();
        expect(w.graph, w.key).toBe(model.graph);
        expect(w.key, w.key).toBe(w.weight);
      }
      const r = await runPass(pass, model, pass === 'prune-unstructured' ? { sparsity: 0.5 } : {});
      expect(r.report.changed).toBe(true);
      for (const w of found) expect(zeroFraction(await r.model.graph.initializers.get(w.weight)!.data() as Float32Array), w.weight).toBeCloseTo(0.5, 2);
      const before = await ort.InferenceSession.create(writeModel(model));
      const after = await ort.InferenceSession.create(writeModel(r.model));
      for (const useCache of [true, false]) {
        const a = (await before.run(feeds(useCache))).logits!.data as Float32Array;
        const b = (await after.run(feeds(useCache))).logits!.data as Float32Array;
        expect(b.length).toBe(a.length);
        expect(b.some((v, i) => v !== a[i])).toBe(true);
      }
    });
  }

  it('a run that finds no layer reports changed false (it wrote an unchanged model before)', async () => {
    const model = await decoder();
    const r = await runPass('prune-unstructured', model, { include: ['no-such-layer'] });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/^prune-unstructured: nothing pruned: no Conv\/Gemm\/MatMul layer/);
  });
});

describe('pruning inside If/Loop/Scan subgraphs (silero_vad_v5 after normalizeModel)', () => {
  it('prune-structured, which removes channels in the main graph only, says the weights are inside subgraphs and what reaches them', async () => {
    const model = await normalizedVad();
    const inBranches = findPrunableWeights(model, { subgraphs: true }).filter((w) => w.scope).length;
    expect(inBranches).toBeGreaterThan(0);
    const r = await runPass('prune-structured', model, { sparsity: 0.25 });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toBe(`prune-structured: nothing removed: no Conv/Gemm/MatMul with an initializer weight in the main graph: ${inBranches} weight(s) are inside If/Loop/Scan subgraphs, where channels are not removed; prune-unstructured, prune-nm or the quantize passes reach them`);
  });

  it('prune-unstructured reaches the target sparsity on every weight inside the If branches; ORT runs the result', async () => {
    const model = await normalizedVad();
    const inside = findPrunableWeights(model, { subgraphs: true }).filter((w) => w.scope);
    expect(findPrunableWeights(model)).toHaveLength(0); // every weight lives in a branch
    expect(inside.length).toBeGreaterThan(4);
    const r = await runPass('prune-unstructured', model, { sparsity: 0.5 });
    expect(r.report.stats!.subgraphWeights).toBe(inside.length);
    expect(r.report.stats!.sparsityAfter).toBeGreaterThan(0.49);
    const layers = (r.report.details as { layers: { weight: string; sparsity: number }[] }).layers;
    expect(layers).toHaveLength(inside.length);
    for (const w of inside) {
      const t = resolveWeightKey(r.model, w.key!)!;
      const v = Float32Array.from((await t.graph.initializers.get(t.name)!.data()) as Float32Array);
      expect(Math.abs(zeroFraction(v) - 0.5)).toBeLessThan(0.5 / v.length + 1e-9);
    }
    // the input model is untouched: its branch weights still hold their own values
    const orig = resolveWeightKey(model, inside[0]!.key!)!;
    expect(orig.graph.initializers.get(orig.name)).toBe(inside[0]!.graph!.initializers.get(inside[0]!.weight));
    expect(zeroFraction(Float32Array.from((await orig.graph.initializers.get(orig.name)!.data()) as Float32Array))).toBeLessThan(0.2);
    const a = await ortRun(model);
    const b = await ortRun(r.model);
    for (const k of Object.keys(a)) {
      expect(b[k]!.dims).toEqual(a[k]!.dims);
      expect(b[k]!.data.every(Number.isFinite)).toBe(true);
    }
  }, 60_000);

  it('prune-nm 2:4 applies the pattern inside the branches; ORT runs the result', async () => {
    const model = await normalizedVad();
    const r = await runPass('prune-nm', model, { n: 2, m: 4 });
    const inside = findPrunableWeights(r.model, { subgraphs: true }).filter((w) => w.scope);
    const axes = (r.report.details as { axes: Record<string, number> }).axes;
    let checked = 0;
    for (const w of inside) {
      if (axes[w.key!] === undefined) continue;
      const v = Float32Array.from((await w.graph!.initializers.get(w.weight)!.data()) as Float32Array);
      expect(checkNMPattern({ values: v, shape: w.shape }, 2, 4, w.inputAxis).ok, w.key).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
    expect(r.report.stats!.subgraphWeights).toBe(checked);
    const out = await ortRun(r.model);
    expect(Object.values(out).every((o) => o.data.every(Number.isFinite))).toBe(true);
  }, 60_000);

  it('wanda (calibration on the main graph) lists the subgraph weights it skips', async () => {
    const model = await normalizedVad();
    const rng = new Rng(4);
    const cal = {
      async *[Symbol.asyncIterator]() {
        const f = corpusFeeds(vad, rng.int(1000), 0.3);
        yield { input: t(f.input!.data as Float32Array, f.input!.dims), state: t(f.state!.data as Float32Array, f.state!.dims), sr: tensor(f.sr!.data as BigInt64Array, [], 'int64', { backend: 'cpu' }) };
      },
    };
    const r = await runPass('prune-unstructured', model, { sparsity: 0.5, method: 'wanda' }, { calibration: cal });
    const inside = findPrunableWeights(model, { subgraphs: true }).filter((w) => w.scope);
    expect(r.report.stats!.skippedSubgraphWeights).toBe(inside.length);
    expect((r.report.details as { skipped: { weight: string; reason: string }[] }).skipped.map((s) => s.weight)).toEqual(inside.map((w) => w.key));
    expect(r.report.warnings!.join(' ')).toMatch(/subgraphs skipped/);
  }, 60_000);
});
