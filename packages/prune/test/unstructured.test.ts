import { runModel, runPass } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { unpackMask } from '../src/index.js';
import { Rng, calibration, diff, randn, runOrt, runWhittle, t, values, zeroFraction } from './helpers.js';
import { LAYERS, smallNet } from './models.js';

const feeds = (seed: number, n = 4) => ({ input: { data: randn(new Rng(seed), n * 8 * 36), shape: [n, 8, 6, 6] } });

async function ortMatchesWhittle(m: import('@whittle/graph').Model): Promise<void> {
  const x = feeds(99);
  const o = m.graph.outputs[0]!.name;
  const a = await runOrt(m, x);
  const b = await runWhittle(m, x);
  expect(diff(a.outputs[o]!, b[o]!).maxAbs).toBeLessThan(1e-4);
}

describe('prune-unstructured', () => {
  it('magnitude, layer-wise: exact per-layer sparsity, the smallest |w| go, the rest unchanged, input untouched', async () => {
    const m = smallNet(new Rng(1));
    const orig = await Promise.all(LAYERS.map((l) => values(m, l.weight)));
    const { model: out, report } = await runPass('prune-unstructured', m, { sparsity: 0.6, recordMasks: true });
    for (const [i, l] of LAYERS.entries()) {
      const w = orig[i]!;
      expect(await values(m, l.weight)).toEqual(w);
      const p = await values(out, l.weight);
      expect(p.filter((v) => v === 0).length).toBe(Math.round(0.6 * w.length));
      let maxPruned = 0;
      let minKept = Infinity;
      p.forEach((v, k) => {
        if (v === 0) maxPruned = Math.max(maxPruned, Math.abs(w[k]!));
        else {
          minKept = Math.min(minKept, Math.abs(w[k]!));
          expect(v).toBe(w[k]);
        }
      });
      expect(minKept).toBeGreaterThanOrEqual(maxPruned);
      const entry = (report.details!.layers as { weight: string; mask: string; sparsity: number; nonzero: number; total: number }[]).find((x) => x.weight === l.weight)!;
      // per-layer counts are those of the pruned weight
      const zeros = p.filter((v) => v === 0).length;
      expect([entry.nonzero, entry.total, entry.sparsity]).toEqual([p.length - zeros, p.length, zeros / p.length]);
      const mask = unpackMask(entry.mask, w.length);
      p.forEach((v, k) => expect(mask[k]).toBe(v !== 0 ? 1 : 0));
    }
    expect(await values(out, 'conv.bias')).toEqual(await values(m, 'conv.bias'));
    expect(report.stats!.weightGzipBytesAfter).toBeLessThan(report.stats!.weightGzipBytesBefore! * 0.75);
    await ortMatchesWhittle(out);
  });

  it('magnitude, global: one threshold over all layers', async () => {
    const m = smallNet(new Rng(2));
    const { model: out, report } = await runPass('prune-unstructured', m, { sparsity: 0.7, scope: 'global' });
    let total = 0;
    let zeros = 0;
    let maxPruned = 0;
    let minKept = Infinity;
    const perLayer: number[] = [];
    for (const l of LAYERS) {
      const w = await values(m, l.weight);
      const p = await values(out, l.weight);
      total += w.length;
      p.forEach((v, k) => {
        if (v === 0) (zeros++, (maxPruned = Math.max(maxPruned, Math.abs(w[k]!))));
        else minKept = Math.min(minKept, Math.abs(w[k]!));
      });
      perLayer.push(zeroFraction(p));
    }
    expect(zeros).toBe(Math.round(0.7 * total));
    expect(minKept).toBeGreaterThanOrEqual(maxPruned);
    expect(new Set(perLayer.map((x) => x.toFixed(3))).size).toBeGreaterThan(1); // layers differ
    expect(report.stats!.sparsityAfter).toBeCloseTo(0.7, 3);
    await ortMatchesWhittle(out);
  });

  it('random: seeded by ctx.rng (same seed, same mask), exact sparsity', async () => {
    const m = smallNet(new Rng(3));
    const a = await runPass('prune-unstructured', m, { sparsity: 0.5, method: 'random' }, { seed: 7 });
    const b = await runPass('prune-unstructured', m, { sparsity: 0.5, method: 'random' }, { seed: 7 });
    const c = await runPass('prune-unstructured', m, { sparsity: 0.5, method: 'random' }, { seed: 8 });
    const wa = await values(a.model, 'fc.weight');
    expect(await values(b.model, 'fc.weight')).toEqual(wa);
    expect(await values(c.model, 'fc.weight')).not.toEqual(wa);
    expect(zeroFraction(wa)).toBeCloseTo(0.5, 6);
    // random keeps small weights that magnitude would drop
    const mag = await values((await runPass('prune-unstructured', m, { sparsity: 0.5 })).model, 'fc.weight');
    expect(wa).not.toEqual(mag);
  });

  it('wanda: |w|·‖x‖₂ per output row matches a float64 reference (im2col norms for the conv)', async () => {
    const m = smallNet(new Rng(4));
    const batches = [feeds(10, 3).input, feeds(11, 2).input];
    const { model: out } = await runPass('prune-unstructured', m, { sparsity: 0.5, method: 'wanda' }, { calibration: calibration('input', batches) });
    // reference norms: conv input = raw images (pad 1, 3x3, stride 1); fc input = flatten output; mm input = relu2 output
    const fetchNames = [m.graph.nodes.find((n) => n.name === 'fc')!.inputs[0]!, m.graph.nodes.find((n) => n.name === 'mm')!.inputs[0]!];
    const sq = { conv: new Float64Array(72), fc: new Float64Array(144), mm: new Float64Array(16) };
    for (const bt of batches) {
      const n = bt.shape[0]!;
      for (let i = 0; i < n; i++)
        for (let c = 0; c < 8; c++)
          for (let ky = 0; ky < 3; ky++)
            for (let kx = 0; kx < 3; kx++)
              for (let oy = 0; oy < 6; oy++)
                for (let ox = 0; ox < 6; ox++) {
                  const y = oy + ky - 1;
                  const x = ox + kx - 1;
                  if (y < 0 || y >= 6 || x < 0 || x >= 6) continue;
                  const v = bt.data[((i * 8 + c) * 6 + y) * 6 + x]!;
                  sq.conv[c * 9 + ky * 3 + kx]! += v * v;
                }
      const r = await runModel(m, { input: t(bt.data, bt.shape) }, { backend: 'cpu', fetch: fetchNames });
      for (const [key, name, cols] of [['fc', fetchNames[0]!, 144], ['mm', fetchNames[1]!, 16]] as const) {
        const d = (await r.get(name)!.data()) as Float32Array;
        for (let k = 0; k < d.length; k++) sq[key][k % cols]! += d[k]! * d[k]!;
      }
    }
    for (const l of LAYERS) {
      const w = await values(m, l.weight);
      const p = await values(out, l.weight);
      const norms = sq[l.node as keyof typeof sq];
      for (let r = 0; r < l.rows; r++) {
        const s = Array.from({ length: l.cols }, (_, c) => ({ c, s: Math.abs(w[l.at(r, c)]!) * Math.sqrt(norms[c]!) }));
        s.sort((a, b) => a.s - b.s);
        const prunedRef = new Set(s.slice(0, Math.round(l.cols / 2)).map((e) => e.c));
        for (let c = 0; c < l.cols; c++) expect(p[l.at(r, c)] === 0, `${l.node} row ${r} col ${c}`).toBe(prunedRef.has(c));
      }
    }
    await ortMatchesWhittle(out);
  });

  it('per-layer overrides, include/exclude, bad options and missing calibration', async () => {
    const m = smallNet(new Rng(5));
    const { model: out } = await runPass('prune-unstructured', m, { sparsity: 0.5, exclude: ['conv'], layerSparsity: { fc: 0.9 } });
    expect(zeroFraction(await values(out, 'conv.weight'))).toBe(0);
    expect(zeroFraction(await values(out, 'fc.weight'))).toBeCloseTo(0.9, 3);
    expect(zeroFraction(await values(out, 'mm.weight'))).toBeCloseTo(0.5, 6);
    await expect(runPass('prune-unstructured', m, { sparsity: 1.5 })).rejects.toThrow(/sparsity/);
    await expect(runPass('prune-unstructured', m, { method: 'l3' })).rejects.toThrow(/method/);
    await expect(runPass('prune-unstructured', m, { method: 'wanda' })).rejects.toThrow(/calibration/);
  });

  it('masks that zero no new weight (sparsity 0, or a model already that sparse) report no change and leave the weights', async () => {
    const m = smallNet(new Rng(4));
    const none = await runPass('prune-unstructured', m, { sparsity: 0 });
    expect(none.report.changed).toBe(false);
    expect(none.report.summary).toMatch(/^prune-unstructured: nothing pruned: no weight zeroed \(magnitude layer-wise to 0\.0 %\): the 3 layer\(s\) were already 0\.0 % sparse/);
    for (const l of LAYERS) expect(await values(none.model, l.weight)).toEqual(await values(m, l.weight));
    const half = await runPass('prune-unstructured', m, { sparsity: 0.5 });
    expect(half.report.changed).toBe(true);
    // pruning the pruned model to a lower or equal sparsity zeroes nothing more
    expect((await runPass('prune-unstructured', half.model, { sparsity: 0.3 })).report.changed).toBe(false);
    expect((await runPass('prune-unstructured', half.model, { sparsity: 0.7 })).report.changed).toBe(true);
  });

  it('ORT output stays close to the original at moderate sparsity', async () => {
    const m = smallNet(new Rng(6));
    const { model: out } = await runPass('prune-unstructured', m, { sparsity: 0.2 });
    const x = feeds(12);
    const o = m.graph.outputs[0]!.name;
    const d = diff((await runOrt(out, x)).outputs[o]!, (await runOrt(m, x)).outputs[o]!);
    expect(d.rel).toBeLessThan(0.25);
  });
});
