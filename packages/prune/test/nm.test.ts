import { runPass } from '@whittle/graph';
import { ArgumentError } from '@whittle/tensor';
import { describe, expect, it } from 'vitest';
import { checkNMPattern, nmMask } from '../src/index.js';
import { Rng, diff, randn, runOrt, runWhittle, t, values } from './helpers.js';
import { smallNet } from './models.js';

describe('checkNMPattern', () => {
  it('accepts a 2:4 pattern along the chosen axis and finds violations', () => {
    // shape [2, 8]: along axis 1 groups are [0..3], [4..7] of each row
    const ok = [1, 0, 2, 0, 0, 0, 3, 4, 0, 5, 0, 6, 7, 0, 0, 0];
    expect(checkNMPattern({ values: ok, shape: [2, 8] }, 2, 4, 1)).toMatchObject({ ok: true, groups: 4, violations: 0, sparsity: 9 / 16 }); // the last group keeps only one
    const bad = [...ok];
    bad[13] = 1; // row 1, group 1 has 1 (idx 12), 1 (idx 13) — fine; add a third
    bad[14] = 1;
    const r = checkNMPattern({ values: bad, shape: [2, 8] }, 2, 4, 1);
    expect(r.ok).toBe(false);
    expect(r.violations).toBe(1);
    expect(r.firstViolation).toEqual([1, 4]);
    // the same data along axis 0 of an [8, 2] view: groups run down the columns
    const colOk = new Float32Array(16);
    for (let k = 0; k < 8; k++) colOk[k * 2] = k % 2; // column 0: 0,1,0,1,... → 2 per group of 4
    colOk[1] = 1; // column 1: one nonzero
    expect(checkNMPattern({ values: colOk, shape: [8, 2] }, 2, 4, 0).ok).toBe(true);
    colOk[3] = colOk[5] = 1;
    expect(checkNMPattern({ values: colOk, shape: [8, 2] }, 2, 4, 0)).toMatchObject({ ok: false, violations: 1, firstViolation: [0, 1] });
    // a cpu tensor works too, and a rank-4 conv weight along axis 1 (input channels at each kernel position)
    const w = new Float32Array(1 * 4 * 1 * 2);
    w[0] = 1; // (0,0,0,0)
    w[2] = 1; // (0,1,0,0)
    w[4] = 1; // (0,2,0,0) → 3 nonzeros among channels at kernel position 0
    expect(checkNMPattern(t(w, [1, 4, 1, 2]), 2, 4, 1)).toMatchObject({ ok: false, firstViolation: [0, 0, 0, 0] });
    expect(() => checkNMPattern({ values: ok, shape: [2, 8] }, 5, 4, 1)).toThrow(ArgumentError);
    expect(() => checkNMPattern({ values: ok, shape: [2, 8] }, 2, 4, 2)).toThrow(/axis 2/);
  });

  it('nmMask keeps the n largest scores of each group', () => {
    const s = Float32Array.from([0.1, 0.9, 0.5, 0.3, 4, 3, 2, 1]);
    expect(Array.from(nmMask(s, [1, 8], 2, 4, 1))).toEqual([0, 1, 1, 0, 1, 1, 0, 0]);
    expect(Array.from(nmMask(s, [1, 8], 1, 4, 1))).toEqual([0, 1, 0, 0, 1, 0, 0, 0]);
    expect(() => nmMask(s, [1, 8], 2, 3, 1)).toThrow(/multiple of m=3/);
  });
});

describe('prune-nm', () => {
  for (const [n, m] of [[2, 4], [4, 8]] as const) {
    it(`${n}:${m} on Conv/Gemm/MatMul: pattern holds on every pruned weight, largest kept, ORT runs it`, async () => {
      const model = smallNet(new Rng(n * 10 + m));
      const { model: out, report } = await runPass('prune-nm', model, { n, m });
      const axes = report.details!.axes as Record<string, number>;
      const expected = m === 8 ? ['conv.weight', 'fc.weight', 'mm.weight'] : ['conv.weight', 'fc.weight', 'mm.weight'];
      expect(Object.keys(axes).sort()).toEqual(expected.sort());
      expect(axes).toEqual({ 'conv.weight': 1, 'fc.weight': 1, 'mm.weight': 0 });
      for (const [name, axis] of Object.entries(axes)) {
        const w = out.graph.initializers.get(name)!;
        const c = checkNMPattern(w, n, m, axis);
        expect(c.ok, name).toBe(true);
        expect(c.sparsity).toBeCloseTo(1 - n / m, 6);
        // the kept elements of each group are the largest in magnitude
        const orig = await values(model, name);
        const p = await values(out, name);
        const dense = checkNMPattern(model.graph.initializers.get(name)!, n, m, axis);
        expect(dense.ok).toBe(false);
        p.forEach((v, k) => v !== 0 && expect(v).toBe(orig[k]));
      }
      const x = { input: { data: randn(new Rng(1), 2 * 8 * 36), shape: [2, 8, 6, 6] } };
      const o = model.graph.outputs[0]!.name;
      expect(diff((await runOrt(out, x)).outputs[o]!, (await runWhittle(out, x))[o]!).maxAbs).toBeLessThan(1e-4);
    });
  }

  it('leaves layers whose input dimension is not a multiple of m dense, with a warning', async () => {
    const model = smallNet(new Rng(3), 6); // conv has 6 input channels
    const { model: out, report } = await runPass('prune-nm', model, { n: 2, m: 4 });
    expect(report.warnings!.join()).toMatch(/conv: input dimension 6 is not a multiple of 4/);
    expect(await values(out, 'conv.weight')).toEqual(await values(model, 'conv.weight'));
    expect(checkNMPattern(out.graph.initializers.get('fc.weight')!, 2, 4, 1).ok).toBe(true);
  });
});
