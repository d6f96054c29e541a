import { type Model, PassOptionsError, attr, cloneModel, getPass, listPasses, mlpTemplate, runPass, tensorValues } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { Rng, diff, layersOf, lowRankish, model, node, passVsOriginal, randn, runOrt, t } from './helpers.js';

const rng = new Rng(7);
const K = 48;
const N = 40;

/** x[B,K] → MatMul(W K×N) → Relu → Gemm(transB, alpha, beta, C) → y; and a Gemm with transA. */
function linearModel(): Model {
  const w1 = t(lowRankish(rng, K, N, 6), [K, N]);
  const w2 = t(lowRankish(rng, 30, N, 5), [30, N]); // transB: stored [N_out=30, K=40]
  const c2 = t(randn(rng, 30), [30]);
  const w3 = t(lowRankish(rng, 30, 20, 4), [30, 20]);
  return model(
    [
      node('MatMul', ['x', 'w1'], ['h1']),
      node('Relu', ['h1'], ['a1']),
      node('Gemm', ['a1', 'w2', 'c2'], ['h2'], { transB: attr.int(1), alpha: attr.float(0.7), beta: attr.float(1.3) }),
      node('Transpose', ['h2'], ['h2t'], { perm: attr.ints([1, 0]) }),
      node('Gemm', ['h2t', 'w3'], ['y'], { transA: attr.int(1), alpha: attr.float(1.1) }),
    ],
    { x: ['B', K] },
    ['y'],
    { w1, w2, c2, w3 },
  );
}

const feeds = (b = 16) => ({ x: { data: randn(new Rng(3), b * K), shape: [b, K] } });

describe('lowrank-linear', () => {
  it('is registered with documented options; unknown options are rejected', async () => {
    expect(getPass('lowrank-linear').description).toMatch(/SVD/);
    const names = listPasses().map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['lowrank', 'lowrank-linear', 'lowrank-conv']));
    const opts = listPasses().find((p) => p.name === 'lowrank-linear')!.options;
    expect(Object.keys(opts)).toEqual(expect.arrayContaining(['rankSelection', 'energy', 'maxError', 'targetRatio', 'svd', 'activationAware']));
    await expect(runPass('lowrank-linear', linearModel(), { ranks: 3 })).rejects.toBeInstanceOf(PassOptionsError);
    await expect(runPass('lowrank-linear', linearModel(), { rankSelection: 'fixed' })).rejects.toThrow(/rank/);
  });

  it('at full rank (forced) matches the original in onnxruntime to 1e-4 (MatMul, Gemm transA/transB/alpha/beta)', async () => {
    const m = linearModel();
    const snapshot = cloneModel(m);
    const { result, diffs } = await passVsOriginal('lowrank-linear', m, { rankSelection: 'fixed', rank: 1000, allowNoSavings: true }, feeds());
    expect(layersOf(result)).toHaveLength(3);
    expect(result.model.graph.nodes.map((n) => n.opType)).toEqual(['MatMul', 'MatMul', 'Relu', 'Gemm', 'Gemm', 'Transpose', 'Gemm', 'Gemm']);
    expect(diffs['y']!.maxAbs).toBeLessThan(1e-4 * 10);
    expect(diffs['y']!.rel).toBeLessThan(1e-5);
    // the input model is untouched
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(snapshot.graph.nodes.map((n) => n.opType));
    expect([...m.graph.initializers.keys()]).toEqual(['w1', 'w2', 'c2', 'w3']);
    // the old weights are gone, the factors are there
    expect(result.model.graph.initializers.has('w1')).toBe(false);
  });

  it('energy mode keeps the requested energy; the output error follows the weight error', async () => {
    const { result, diffs } = await passVsOriginal('lowrank-linear', linearModel(), { rankSelection: 'energy', energy: 0.99 }, feeds());
    const layers = layersOf(result);
    expect(layers.length).toBe(3);
    for (const l of layers) {
      expect(l.relativeError).toBeLessThanOrEqual(Math.sqrt(0.01) + 1e-9);
      expect(l.paramsAfter).toBeLessThan(l.paramsBefore);
      expect(l.ranks[0]).toBeLessThan(10);
    }
    expect(diffs['y']!.rel).toBeLessThan(0.15);
    expect(result.report.stats!['paramsAfter']).toBeLessThan(result.report.stats!['paramsBefore']!);
  });

  it('error mode: the reconstructed weight has relative Frobenius error <= eps (checked from the written factors)', async () => {
    const m = linearModel();
    const eps = 0.05;
    const { result } = await passVsOriginal('lowrank-linear', m, { rankSelection: 'error', maxError: eps, include: ['h1'] }, feeds());
    const [l] = layersOf(result);
    expect(l!.name).toBe('h1');
    const g = result.model.graph;
    const mm = g.nodes.filter((n) => n.opType === 'MatMul');
    const p = tensorValues(g.initializers.get(mm[0]!.inputs[1]!)!);
    const q = tensorValues(g.initializers.get(mm[1]!.inputs[1]!)!);
    const r = l!.ranks[0]!;
    const w = tensorValues(m.graph.initializers.get('w1')!);
    let num = 0;
    let den = 0;
    for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += p[i * r + k]! * q[k * N + j]!;
      num += (s - w[i * N + j]!) ** 2;
      den += w[i * N + j]! ** 2;
    }
    expect(Math.sqrt(num / den)).toBeLessThanOrEqual(eps + 1e-5);
    expect(Math.sqrt(num / den)).toBeCloseTo(l!.relativeError, 4);
    // a rank one lower would have violated the bound (the rank is minimal)
    const { result: lower } = await passVsOriginal('lowrank-linear', m, { rankSelection: 'fixed', rank: r - 1, include: ['h1'] }, feeds());
    expect(layersOf(lower)[0]!.relativeError).toBeGreaterThan(eps);
  });

  it('layers that would not shrink are left alone and reported', async () => {
    // full-rank random 12x10 weight: 90 % energy needs a rank >= 12*10/22
    const w = t(randn(rng, 120), [12, 10]);
    const m = model([node('MatMul', ['x', 'w'], ['y'])], { x: ['B', 12] }, ['y'], { w });
    const { result, diffs } = await passVsOriginal('lowrank-linear', m, { rankSelection: 'energy', energy: 0.95 }, { x: { data: randn(rng, 24), shape: [2, 12] } });
    expect(result.report.changed).toBe(false);
    expect(result.report.stats!['unprofitable']).toBe(1);
    expect(result.report.warnings!.join()).toMatch(/saves nothing/);
    expect(diffs['y']!.maxAbs).toBe(0);
  });

  it('budget mode meets the parameter target and spends it where the error drops most', async () => {
    const m = mlpTemplate({ layers: [64, 48, 32, 10] }, new Rng(5));
    // make fc1 strongly low-rank, fc2 full-rank random: the budget should go to fc2
    m.graph.initializers.set('fc1.weight', t(lowRankish(rng, 48, 64, 3, 0.001), [48, 64]));
    const { result, diffs } = await passVsOriginal('lowrank-linear', m, { rankSelection: 'budget', targetRatio: 0.6 }, { input: { data: randn(rng, 8 * 64), shape: [8, 64] } });
    const s = result.report.stats!;
    expect(s['paramsAfter']! / s['paramsBefore']!).toBeLessThanOrEqual(0.6);
    expect(s['paramRatio']).toBeGreaterThan(0.5); // the budget is used, not wasted
    const byName = Object.fromEntries(layersOf(result).map((l) => [l.name, l]));
    expect(byName['fc1']!.relativeError).toBeLessThan(0.01);
    // fc2 is full-rank random: it gets the larger share (high rank, or kept dense)
    const unprofitable = (result.report.details!['unprofitable'] as { name: string }[]).map((u) => u.name);
    expect(unprofitable.includes('fc2') || byName['fc2']!.ranks[0]! > 3 * byName['fc1']!.ranks[0]!).toBe(true);
    expect(diffs['logits']!.rel).toBeLessThan(0.5);
  });

  it('randomized SVD finds the same ranks and nearly the same error as the exact one', async () => {
    const m = model([node('MatMul', ['x', 'w'], ['y'])], { x: ['B', 240] }, ['y'], { w: t(lowRankish(new Rng(9), 240, 200, 12, 0.002), [240, 200]) });
    const f = { x: { data: randn(rng, 4 * 240), shape: [4, 240] } };
    const exact = await passVsOriginal('lowrank-linear', m, { rankSelection: 'energy', energy: 0.995, svd: 'exact' }, f);
    const rand = await passVsOriginal('lowrank-linear', m, { rankSelection: 'energy', energy: 0.995, svd: 'randomized' }, f, { seed: 1 });
    const [le] = layersOf(exact.result);
    const [lr] = layersOf(rand.result);
    expect(le!.randomizedSvd).toBe(false);
    expect(lr!.randomizedSvd).toBe(true);
    expect(lr!.ranks).toEqual(le!.ranks);
    expect(Math.abs(lr!.relativeError - le!.relativeError)).toBeLessThan(1e-3);
    expect(diff(rand.after['y']!, exact.after['y']!).rel).toBeLessThan(1e-3);
    // same seed → byte-identical factors
    const again = await passVsOriginal('lowrank-linear', m, { rankSelection: 'energy', energy: 0.995, svd: 'randomized' }, f, { seed: 1 });
    expect(await runOrt(again.result.model, f)).toEqual(rand.after);
  });
});
