import { type Model, attr, runPass } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { Rng, layersOf, model, node, passVsOriginal, randn, t } from './helpers.js';

const rng = new Rng(11);

/** Conv with asymmetric strides/pads/dilations, then a padded 3x3 conv, then a 1-channel-input case. */
function convModel(): Model {
  return model(
    [
      node('Conv', ['x', 'w1', 'b1'], ['h1'], {
        kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 1]), pads: attr.ints([1, 0, 2, 1]), dilations: attr.ints([1, 2]),
      }),
      node('Relu', ['h1'], ['a1']),
      node('Conv', ['a1', 'w2'], ['y'], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }),
    ],
    { x: ['B', 6, 11, 13] },
    ['y'],
    { w1: t(randn(rng, 8 * 6 * 9, 0.3), [8, 6, 3, 3]), b1: t(randn(rng, 8), [8]), w2: t(randn(rng, 5 * 8 * 9, 0.3), [5, 8, 3, 3]) },
  );
}
const feeds = { x: { data: randn(new Rng(2), 2 * 6 * 11 * 13), shape: [2, 6, 11, 13] } };

describe('lowrank-conv', () => {
  for (const convMethod of ['tucker2', 'spatial-svd'] as const) {
    it(`${convMethod} at full rank (forced) matches the original in onnxruntime to 1e-4 (strides, pads, dilations)`, async () => {
      const { result, diffs } = await passVsOriginal('lowrank-conv', convModel(), { convMethod, rankSelection: 'fixed', rank: 100, allowNoSavings: true }, feeds);
      expect(layersOf(result).map((l) => l.kind)).toEqual([convMethod, convMethod]);
      expect(diffs['y']!.maxAbs).toBeLessThan(1e-4);
      const convs = result.model.graph.nodes.filter((n) => n.opType === 'Conv');
      // tucker2 at full rank on both sides is just the core; spatial SVD is always two convs
      expect(convs.length).toBe(convMethod === 'tucker2' ? 2 : 4);
    });

    it(`${convMethod} truncated: output error consistent with the reported weight error`, async () => {
      const { result, diffs } = await passVsOriginal('lowrank-conv', convModel(), { convMethod, rankSelection: 'fixed', rank: 4, allowNoSavings: true, include: ['h1'] }, feeds);
      const [l] = layersOf(result);
      expect(l!.relativeError).toBeGreaterThan(0.05);
      expect(l!.relativeError).toBeLessThan(1);
      // y is linear in h1's weights only up to the Relu, so the output error is of the same order
      expect(diffs['y']!.rel).toBeGreaterThan(0.2 * l!.relativeError);
      expect(diffs['y']!.rel).toBeLessThan(3 * l!.relativeError);
    });
  }

  it('tucker2 emits 1x1 → core → 1x1 with the right shapes and keeps the bias on the last conv', async () => {
    const { result, diffs } = await passVsOriginal('lowrank-conv', convModel(), { rankSelection: 'fixed', rank: 3, include: ['h1'] }, feeds);
    const g = result.model.graph;
    const convs = g.nodes.filter((n) => n.opType === 'Conv');
    const shapes = convs.slice(0, 3).map((n) => g.initializers.get(n.inputs[1]!)!.shape);
    expect(shapes).toEqual([[3, 6, 1, 1], [3, 3, 3, 3], [8, 3, 1, 1]]);
    expect(convs[2]!.inputs[2]).toBe('b1');
    expect(convs[1]!.attributes.get('strides')).toEqual(attr.ints([2, 1]));
    expect(diffs['y']!.rel).toBeLessThan(1);
  });

  it('ALS refinement does not increase the Tucker-2 error', async () => {
    const m = convModel();
    const hosvd = await runPass('lowrank-conv', m, { rankSelection: 'fixed', rank: 3, include: ['h1'] });
    const als = await runPass('lowrank-conv', m, { rankSelection: 'fixed', rank: 3, include: ['h1'], alsIterations: 5 });
    expect(layersOf(als)[0]!.relativeError).toBeLessThanOrEqual(layersOf(hosvd)[0]!.relativeError + 1e-9);
  });

  it('a single-input-channel conv (LeNet conv1) only gets the output-side factor; SAME_UPPER works with tucker2', async () => {
    const m = model(
      [node('Conv', ['x', 'w', 'b'], ['y'], { kernel_shape: attr.ints([5, 5]), auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([2, 2]) })],
      { x: ['B', 1, 12, 12] },
      ['y'],
      { w: t(randn(rng, 20 * 25), [20, 1, 5, 5]), b: t(randn(rng, 20), [20]) },
    );
    const f = { x: { data: randn(rng, 2 * 144), shape: [2, 1, 12, 12] } };
    const { result, diffs } = await passVsOriginal('lowrank-conv', m, { rankSelection: 'fixed', rank: 20, allowNoSavings: true }, f);
    expect(layersOf(result)[0]!.ranks).toEqual([1, 20]);
    expect(diffs['y']!.maxAbs).toBeLessThan(1e-4);
    const sp = await runPass('lowrank-conv', m, { convMethod: 'spatial-svd', rankSelection: 'fixed', rank: 2 });
    expect(sp.report.changed).toBe(false);
    expect(JSON.stringify(sp.report.details!['skipped'])).toMatch(/auto_pad/);
  });

  it('grouped convs are skipped with a reason; energy mode leaves unprofitable convs dense', async () => {
    const m = model(
      [node('Conv', ['x', 'w'], ['y'], { kernel_shape: attr.ints([3, 3]), group: attr.int(2) })],
      { x: ['B', 4, 6, 6] },
      ['y'],
      { w: t(randn(rng, 4 * 2 * 9), [4, 2, 3, 3]) },
    );
    const r = await runPass('lowrank-conv', m, {});
    expect(JSON.stringify(r.report.details!['skipped'])).toMatch(/group = 2/);
    const dense = await runPass('lowrank-conv', convModel(), { rankSelection: 'energy', energy: 0.999 });
    expect(dense.report.stats!['unprofitable']).toBe(2);
    expect(dense.report.changed).toBe(false);
  });

  it("'lowrank' shares one parameter budget between convs and Gemms", async () => {
    const m = model(
      [
        node('Conv', ['x', 'w1'], ['h'], { kernel_shape: attr.ints([3, 3]) }),
        node('Flatten', ['h'], ['f'], { axis: attr.int(1) }),
        node('Gemm', ['f', 'w2', 'b2'], ['y'], { transB: attr.int(1) }),
      ],
      { x: ['B', 6, 6, 6] },
      ['y'],
      { w1: t(randn(rng, 16 * 6 * 9), [16, 6, 3, 3]), w2: t(randn(rng, 30 * 256), [30, 256]), b2: t(randn(rng, 30), [30]) },
    );
    const f = { x: { data: randn(rng, 2 * 216), shape: [2, 6, 6, 6] } };
    const { result } = await passVsOriginal('lowrank', m, { rankSelection: 'budget', targetRatio: 0.5 }, f);
    expect(result.report.stats!['paramRatio']).toBeLessThanOrEqual(0.5);
    expect(layersOf(result).length + (result.report.stats!['unprofitable'] ?? 0)).toBe(2);
  });
});
