import { type Model, attr, runPass } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { Rng, layersOf, model, node, passVsOriginal, randn, t } from './helpers.js';

/** W[n, c, ...kernel] = Σ A[n, i] G[i, j, ...kernel] B[c, j] (+ noise): Tucker ranks (ro, ri). */
function tuckerish(rng: Rng, n: number, c: number, kernel: number[], ro: number, ri: number, noise: number): Float32Array {
  const k2 = kernel.reduce((a, b) => a * b, 1);
  const a = randn(rng, n * ro);
  const g = randn(rng, ro * ri * k2);
  const b = randn(rng, c * ri);
  const w = new Float32Array(n * c * k2);
  for (let nn = 0; nn < n; nn++) for (let cc = 0; cc < c; cc++) for (let s = 0; s < k2; s++) {
    let v = 0;
    for (let i = 0; i < ro; i++) for (let j = 0; j < ri; j++) v += a[nn * ro + i]! * g[(i * ri + j) * k2 + s]! * b[cc * ri + j]!;
    w[(nn * c + cc) * k2 + s] = v / Math.sqrt(ro * ri * c) + noise * rng.normal();
  }
  return w;
}

/**
 * Conv1d layers as torch exports them (weights [O, I, k]): strided, padded and dilated with a
 * bias; auto_pad SAME_UPPER; a pointwise (k = 1) conv.
 */
function conv1dModel(noise = 0.001): Model {
  const rng = new Rng(21);
  return model(
    [
      node('Conv', ['x', 'w1', 'b1'], ['h1'], { kernel_shape: attr.ints([5]), strides: attr.ints([2]), pads: attr.ints([1, 2]), dilations: attr.ints([2]) }),
      node('Relu', ['h1'], ['a1']),
      node('Conv', ['a1', 'w2'], ['h2'], { kernel_shape: attr.ints([3]), auto_pad: attr.string('SAME_UPPER') }),
      node('Tanh', ['h2'], ['a2']),
      node('Conv', ['a2', 'w3', 'b3'], ['y'], { kernel_shape: attr.ints([1]) }),
    ],
    { x: ['B', 24, 37] },
    ['y'],
    {
      w1: t(tuckerish(rng, 32, 24, [5], 4, 5, noise), [32, 24, 5]), b1: t(randn(rng, 32), [32]),
      w2: t(tuckerish(rng, 40, 32, [3], 6, 4, noise), [40, 32, 3]),
      w3: t(tuckerish(rng, 36, 40, [1], 5, 5, noise), [36, 40, 1]), b3: t(randn(rng, 36), [36]),
    },
  );
}
const feeds = { x: { data: randn(new Rng(3), 2 * 24 * 37), shape: [2, 24, 37] } };
const convsOf = (m: Model): { shape: number[]; attrs: string[] }[] =>
  m.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => ({ shape: [...m.graph.initializers.get(n.inputs[1]!)!.shape], attrs: [...n.attributes.keys()].sort() }));

describe('lowrank-conv on 1-D convolutions (weights [O, I, k])', () => {
  for (const convMethod of ['tucker2', 'spatial-svd'] as const) {
    it(`${convMethod} at full rank (forced) matches the original in onnxruntime (strides, pads, dilations, SAME_UPPER, k = 1)`, async () => {
      const { result, diffs } = await passVsOriginal('lowrank-conv', conv1dModel(), { convMethod, rankSelection: 'fixed', rank: 1000, allowNoSavings: true }, feeds);
      expect(layersOf(result).map((l) => l.kind)).toEqual([convMethod, convMethod, convMethod]);
      expect(layersOf(result).map((l) => l.name)).toEqual(['h1', 'h2', 'y']);
      expect(diffs['y']!.rel).toBeLessThan(1e-5);
      expect(diffs['y']!.maxAbs).toBeLessThan(1e-4);
      if (convMethod === 'spatial-svd') {
        // a k-conv C → r with every spatial attribute of the original, then a pointwise conv r → O with the bias
        const convs = convsOf(result.model);
        // full rank = min(I·k, O)
        expect(convs.map((c) => c.shape)).toEqual([[32, 24, 5], [32, 32, 1], [40, 32, 3], [40, 40, 1], [36, 40, 1], [36, 36, 1]]);
        expect(convs[0]!.attrs).toEqual(['dilations', 'kernel_shape', 'pads', 'strides']);
        expect(convs[2]!.attrs).toEqual(['auto_pad', 'kernel_shape']);
        expect(convs[1]!.attrs).toEqual(['kernel_shape']);
      }
    });
  }

  it('tucker2 at the true Tucker ranks: pointwise → k-conv core → pointwise, output close to the original', async () => {
    const { result, diffs } = await passVsOriginal('lowrank-conv', conv1dModel(), { rankSelection: 'fixed', rank: 6, include: ['h1', 'h2'] }, feeds);
    const ls = layersOf(result);
    expect(ls.map((l) => l.shape)).toEqual(['32x24x5', '40x32x3']);
    for (const l of ls) {
      expect(l.relativeError).toBeLessThan(0.02);
      expect(l.paramsAfter).toBeLessThan(l.paramsBefore);
    }
    const g = result.model.graph;
    const h1 = g.nodes.filter((n) => n.name.startsWith('h1_tucker'));
    expect(h1.map((n) => [...g.initializers.get(n.inputs[1]!)!.shape])).toEqual([[6, 24, 1], [6, 6, 5], [32, 6, 1]]);
    expect(h1[1]!.attributes.get('strides')).toEqual(attr.ints([2]));
    expect(h1[2]!.inputs[2]).toBe('b1');
    console.log(`conv1d tucker2 rank 6: weight errors ${ls.map((l) => l.relativeError.toExponential(2)).join(', ')}, output relative error ${diffs['y']!.rel.toExponential(2)}`);
    expect(diffs['y']!.rel).toBeLessThan(0.05);
  });

  it('budget 0.5 on Conv1d layers halves the parameters and runs in onnxruntime', async () => {
    const m = conv1dModel(0.05);
    const { result, diffs } = await passVsOriginal('lowrank-conv', m, { rankSelection: 'budget', targetRatio: 0.5 }, feeds);
    expect(result.report.changed).toBe(true);
    expect(result.report.stats!['paramRatio']).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(Number.isFinite(diffs['y']!.rel)).toBe(true);
    expect(diffs['y']!.rel).toBeLessThan(1);
  });

  it('3-D convs: tucker2 factorizes them, spatial SVD skips them with the reason', async () => {
    const rng = new Rng(5);
    const m = model(
      [node('Conv', ['x', 'w', 'b'], ['y'], { kernel_shape: attr.ints([3, 3, 3]), pads: attr.ints([1, 1, 1, 1, 1, 1]), strides: attr.ints([1, 2, 1]) })],
      { x: [1, 8, 5, 6, 7] }, ['y'],
      { w: t(tuckerish(rng, 12, 8, [3, 3, 3], 3, 3, 0.001), [12, 8, 3, 3, 3]), b: t(randn(rng, 12), [12]) },
    );
    const x = { x: { data: randn(new Rng(6), 8 * 5 * 6 * 7), shape: [1, 8, 5, 6, 7] } };
    const { result, diffs } = await passVsOriginal('lowrank-conv', m, { rankSelection: 'fixed', rank: 3 }, x);
    expect(layersOf(result).map((l) => l.shape)).toEqual(['12x8x3x3x3']);
    expect(diffs['y']!.rel).toBeLessThan(0.02);
    const s = await runPass('lowrank-conv', m, { convMethod: 'spatial-svd', rankSelection: 'fixed', rank: 3 });
    expect(s.report.changed).toBe(false);
    expect(String(s.report.details?.['reason'])).toContain("3-D conv; spatial SVD splits 1-D and 2-D kernels only (use method 'tucker2')");
  });
});
