/**
 * Wanda's orientation on an ONNX MatMul weight [in, out]: the norm of input channel c scales row c
 * of the stored matrix, and an output's comparison group (per-output 50 %, 2:4) is a column.
 * Pinned by a hand-computed 4 × 4 example where every transposed reading gives another mask.
 * Wanda's mask is invariant to a function-preserving rescaling of input channels (magnitude's is
 * not). Sequential Wanda equals pruning the layers one after another on the pruned model.
 */
import { describe, expect, it } from 'vitest';
import { type Feeds, GraphBuilder, type Model, runPass } from '@whittle/graph';
import { collectInputNorms, findPrunableWeights } from '../src/index.js';
import { Rng, t, values } from './helpers.js';
import { smallNet } from './models.js';

// W[c][r]: input channel c (row of the stored [4, 4] matrix), output r (column)
const W = [
  [1, 4, 2, 1],
  [2, 3, 2, 1],
  [3, 2, 2, 1],
  [4, 1, 2, 1],
];
// two tokens: ‖x_c‖₂ = [5, 2, 1, 0.5]
const X = [3, 0, 1, 0, 4, 2, 0, 0.5];

function matmulModel(): Model {
  const b = new GraphBuilder('mm');
  const x = b.input('x', 'float32', ['T', 4]);
  const y = b.node('MatMul', [x, b.initializer('w', t(W.flat(), [4, 4]))], {}, { name: 'mm' });
  b.output(y, 'float32', ['T', 4]);
  return b.model();
}
async function* calib(): AsyncGenerator<Feeds> {
  yield { x: t(X, [2, 4]) };
}

describe('wanda orientation on MatMul [in, out]', () => {
  it('input norms are per input channel, summed over tokens', async () => {
    const m = matmulModel();
    const norms = await collectInputNorms(m, findPrunableWeights(m), calib());
    expect(Array.from(norms.get('w')!.sq)).toEqual([25, 4, 1, 0.25]);
  });

  // scores |W|·‖x_c‖ = [[5,20,10,5],[4,6,4,2],[3,2,2,1],[2,0.5,1,0.5]]: each output (column) keeps
  // inputs 0 and 1. Magnitude per output keeps others; norms read per output, or groups read per
  // stored row, give yet other masks.
  const wandaKept = [1, 4, 2, 1, 2, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0];

  it('50 % per output: hand-computed mask, unlike magnitude', async () => {
    const m = matmulModel();
    const wanda = await runPass('prune-unstructured', m, { sparsity: 0.5, method: 'wanda' }, { calibration: calib() });
    expect(Array.from(await values(wanda.model, 'w'))).toEqual(wandaKept);
    const mag = await runPass('prune-unstructured', m, { sparsity: 0.5, method: 'magnitude', scope: 'row' });
    // per output: [1,2,3,4] drops inputs 0, 1; [4,3,2,1] drops 2, 3; ties drop the lower index
    expect(Array.from(await values(mag.model, 'w'))).toEqual([0, 4, 0, 0, 0, 3, 0, 0, 3, 0, 2, 1, 4, 0, 2, 1]);
  });

  it('2:4 groups run along the input axis (a column of the stored matrix)', async () => {
    const r = await runPass('prune-nm', matmulModel(), { n: 2, m: 4, method: 'wanda' }, { calibration: calib() });
    expect(Array.from(await values(r.model, 'w'))).toEqual(wandaKept);
  });
});

describe('wanda under a function-preserving channel rescaling', () => {
  // x → Mul(g) → MatMul(W); channels 1 and 5 become "outliers": g × 16, rows of W / 16 (exact in float)
  function scaledModel(scale: number): Model {
    const rng = new Rng(5);
    const g = Float32Array.from({ length: 8 }, () => 0.5 + rng.uniform(0, 1));
    const w = Float32Array.from({ length: 8 * 6 }, () => rng.normal());
    for (const c of [1, 5]) {
      g[c]! *= scale;
      for (let r = 0; r < 6; r++) w[c * 6 + r]! /= scale;
    }
    const b = new GraphBuilder('scaled');
    const x = b.input('x', 'float32', ['T', 8]);
    const h = b.node('Mul', [x, b.initializer('g', t(g, [8]))], {}, { name: 'gain' });
    b.output(b.node('MatMul', [h, b.initializer('w', t(w, [8, 6]))], {}, { name: 'mm' }), 'float32', ['T', 6]);
    return b.model();
  }
  async function* xs(): AsyncGenerator<Feeds> {
    const rng = new Rng(6);
    yield { x: t(Float32Array.from({ length: 5 * 8 }, () => rng.normal()), [5, 8]) };
  }
  const zeros = async (m: Model, opts: Record<string, unknown>): Promise<number[]> => {
    const v = await values((await runPass('prune-unstructured', m, { sparsity: 0.5, ...opts }, { calibration: xs() })).model, 'w');
    return Array.from(v, (x) => (x === 0 ? 1 : 0));
  };
  it('wanda keeps the same weights, magnitude drops the rescaled rows', async () => {
    const [a, b] = [scaledModel(1), scaledModel(16)];
    expect(await zeros(b, { method: 'wanda' })).toEqual(await zeros(a, { method: 'wanda' }));
    const mag = await zeros(b, { method: 'magnitude', scope: 'row' });
    expect(mag).not.toEqual(await zeros(a, { method: 'magnitude', scope: 'row' }));
    for (const c of [1, 5]) expect(mag.slice(c * 6, c * 6 + 6)).toEqual([1, 1, 1, 1, 1, 1]);
  });
});

describe('sequential wanda', () => {
  async function* feeds(): AsyncGenerator<Feeds> {
    const rng = new Rng(21);
    for (let b = 0; b < 2; b++) yield { input: t(Float32Array.from({ length: 3 * 8 * 36 }, () => rng.normal()), [3, 8, 6, 6]) };
  }
  for (const [pass, opts] of [['prune-unstructured', { sparsity: 0.5, method: 'wanda' }], ['prune-nm', { n: 2, m: 4, method: 'wanda' }]] as const) {
    it(`${pass}: equals pruning conv, fc, mm one after another, each on the pruned model (and differs from one-shot)`, async () => {
      const m = smallNet(new Rng(9));
      const seq = (await runPass(pass, m, { ...opts, sequential: true }, { calibration: feeds() })).model;
      let ref = m;
      for (const layer of ['conv', 'fc', 'mm']) ref = (await runPass(pass, ref, { ...opts, include: [layer] }, { calibration: feeds() })).model;
      const once = (await runPass(pass, m, opts, { calibration: feeds() })).model;
      for (const w of ['conv.weight', 'fc.weight', 'mm.weight']) expect(await values(seq, w), w).toEqual(await values(ref, w));
      expect(await values(seq, 'conv.weight')).toEqual(await values(once, 'conv.weight'));
      expect(await values(seq, 'mm.weight')).not.toEqual(await values(once, 'mm.weight'));
    });
  }

  it("refuses scope 'global' (it needs every layer's scores at once)", async () => {
    await expect(runPass('prune-unstructured', smallNet(new Rng(9)), { method: 'wanda', scope: 'global', sequential: true }, { calibration: feeds() })).rejects.toThrow(/global/);
  });
});
