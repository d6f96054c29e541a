import { describe, expect, it } from 'vitest';
import { type Feeds, GraphBuilder, runPass } from '@whittle/graph';
import { Rng, tensor } from '@whittle/tensor';
import { awqScales, quantizeAwqPass } from '../src/awq.js';
import { quantizeWeightsPass } from '../src/rtn.js';
import { ortRun, randTensor, relError } from './helpers.js';

const D = 64;
const cpu = { backend: 'cpu' } as const;

/** x → LayerNorm (a few loud channels in gamma) → q, k MatMuls → Add → Relu → MatMul out. */
function model() {
  const rng = new Rng(8);
  const b = new GraphBuilder('awq');
  const x = b.input('x', 'float32', ['N', D]);
  const gamma = Float32Array.from({ length: D }, (_, j) => (j % 9 === 0 ? 12 : 1));
  const ln = b.node('LayerNormalization', [x, b.initializer('ln.g', tensor(gamma, [D], 'float32', cpu)), b.initializer('ln.b', randTensor([D], rng, 0.1))], { axis: -1 }, { name: 'ln' });
  const q = b.node('MatMul', [ln, b.initializer('wq', randTensor([D, D], rng, 0.1))], {}, { name: 'q' });
  const k = b.node('MatMul', [ln, b.initializer('wk', randTensor([D, D], rng, 0.1))], {}, { name: 'k' });
  const h = b.node('Relu', [b.node('Add', [q, k], {}, { name: 'add' })], {}, { name: 'relu' });
  b.output(b.node('MatMul', [h, b.initializer('wo', randTensor([D, 32], rng, 0.1))], {}, { name: 'out' }), 'float32', ['N', 32]);
  return b.model([{ domain: '', version: 17 }]);
}

function input(seed: number, n: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * D }, () => rng.normal());
}

describe('quantize-awq', () => {
  const m = model();
  async function* calib(): AsyncGenerator<Feeds> {
    for (const s of [1, 2, 3]) yield { x: tensor(input(s, 32), [32, D], 'float32', cpu) };
  }
  it('scales normalised around 1 and flat at α = 0', () => {
    const rms = Float64Array.from([1, 4, 16]);
    expect(Array.from(awqScales(rms, 0))).toEqual([1, 1, 1]);
    const s = awqScales(rms, 1);
    expect(s[0]! * s[2]!).toBeCloseTo(1, 12);
  });
  it('folds into the LayerNorm and a Mul, beats RTN on calibration and in onnxruntime', async () => {
    const opts = { bits: 4, blockSize: 16, symmetric: true };
    const { model: q, report } = await runPass(quantizeAwqPass, m, opts, { calibration: calib() });
    const groups = report.details!.groups as { input: string; alpha: number; foldedInto: string; outputMse: number; rtnOutputMse: number }[];
    expect(groups).toHaveLength(2);
    const lnGroup = groups.find((g) => g.foldedInto.startsWith('LayerNormalization'))!;
    expect(lnGroup.alpha).toBeGreaterThan(0);
    expect(lnGroup.outputMse).toBeLessThan(lnGroup.rtnOutputMse);
    for (const g of groups) expect(g.outputMse).toBeLessThanOrEqual(g.rtnOutputMse);
    expect(q.graph.nodes.filter((n) => n.opType === 'MatMulNBits')).toHaveLength(3);
    const feeds = { x: { data: input(99, 16), dims: [16, D] } };
    const ref = Object.values(await ortRun(m, feeds))[0]!;
    const rtn = (await runPass(quantizeWeightsPass, m, { ...opts, format: 'matmulnbits' })).model;
    const eA = relError(ref, Object.values(await ortRun(q, feeds))[0]!);
    const eR = relError(ref, Object.values(await ortRun(rtn, feeds))[0]!);
    expect(eA).toBeLessThan(eR);
  });
  it('needs calibration', async () => {
    await expect(runPass(quantizeAwqPass, m, {})).rejects.toThrow(/calibration/);
  });
});
