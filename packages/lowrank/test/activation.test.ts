import { type Feeds, type Model, attr, runPass } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { Rng, diff, layersOf, model, node, passVsOriginal, randn, runOrt, t } from './helpers.js';

const K = 64;
const N = 48;

/** Anisotropic, correlated inputs: x = (z·M) ⊙ scale, scale log-uniform over two decades. */
function inputs(seed: number, rows: number): Float32Array {
  const rng = new Rng(seed);
  const mix = new Rng(100); // same mixing for every batch
  const m = randn(mix, K * K, 1 / Math.sqrt(K));
  for (let i = 0; i < K; i++) m[i * K + i] = m[i * K + i]! + 1;
  const scale = Float32Array.from({ length: K }, () => Math.exp(Math.log(0.05) + mix.uniform() * Math.log(100)));
  const z = randn(rng, rows * K);
  const x = new Float32Array(rows * K);
  for (let r = 0; r < rows; r++) for (let j = 0; j < K; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += z[r * K + k]! * m[k * K + j]!;
    x[r * K + j] = s * scale[j]!;
  }
  return x;
}

function layerModel(): Model {
  const rng = new Rng(21);
  return model(
    [
      node('Identity', ['x'], ['xi']),
      node('Gemm', ['xi', 'w', 'b'], ['y'], { transB: attr.int(1) }),
      node('MatMul', ['x', 'w2'], ['y2']),
    ],
    { x: ['B', K] },
    ['y', 'y2'],
    { w: t(randn(rng, N * K), [N, K]), b: t(randn(rng, N), [N]), w2: t(randn(rng, K * 40), [K, 40]) },
  );
}

async function* calibration(): AsyncIterable<Feeds> {
  for (let i = 0; i < 4; i++) yield { x: t(inputs(1 + i, 64), [64, K]) };
}

describe('activation-aware factorization', () => {
  it('whitening (SVD-LLM) and ASVD lower the layer-output error on calibration data vs plain SVD at equal rank', async () => {
    const m = layerModel();
    const calib = { x: { data: inputs(1, 256), shape: [256, K] } }; // the first calibration batches' distribution
    const ref = await runOrt(m, calib);
    const errs: Record<string, { y: number; y2: number }> = {};
    for (const aware of ['none', 'whiten', 'asvd'] as const) {
      const r = await runPass('lowrank-linear', m, { rankSelection: 'fixed', rank: 10, activationAware: aware }, { calibration: calibration() });
      expect(layersOf(r).map((l) => [l.ranks[0], l.activationAware])).toEqual([[10, aware], [10, aware]]);
      const out = await runOrt(r.model, calib);
      errs[aware] = { y: diff(out['y']!, ref['y']!).rel, y2: diff(out['y2']!, ref['y2']!).rel };
    }
    console.log('layer-output relative error on calibration data (rank 10):', JSON.stringify(errs));
    for (const y of ['y', 'y2'] as const) {
      expect(errs['whiten']![y]).toBeLessThan(0.7 * errs['none']![y]);
      expect(errs['asvd']![y]).toBeLessThan(errs['none']![y]);
      expect(errs['whiten']![y]).toBeLessThanOrEqual(errs['asvd']![y] * 1.05);
    }
    // held-out inputs from the same distribution: still better
    const held = { x: { data: inputs(99, 128), shape: [128, K] } };
    const refH = await runOrt(m, held);
    const plain = await runPass('lowrank-linear', m, { rankSelection: 'fixed', rank: 10 });
    const white = await runPass('lowrank-linear', m, { rankSelection: 'fixed', rank: 10, activationAware: 'whiten' }, { calibration: calibration() });
    expect(diff((await runOrt(white.model, held))['y']!, refH['y']!).rel).toBeLessThan(diff((await runOrt(plain.model, held))['y']!, refH['y']!).rel);
  });

  it('whitened factors at full rank still reproduce the layer exactly (ORT, 1e-4)', async () => {
    const { diffs } = await passVsOriginal(
      'lowrank-linear', layerModel(), { rankSelection: 'fixed', rank: 64, allowNoSavings: true, activationAware: 'whiten' },
      { x: { data: inputs(5, 16), shape: [16, K] } }, { calibration: calibration() },
    );
    expect(diffs['y']!.rel).toBeLessThan(1e-5);
    expect(diffs['y2']!.rel).toBeLessThan(1e-5);
  });

  it('needs calibration data', async () => {
    await expect(runPass('lowrank-linear', layerModel(), { activationAware: 'whiten' })).rejects.toThrow(/calibration/);
  });
});
