import { CalibrationDataError, GraphBuilder, runPass } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { type SensitivityResult, sparsityFromSensitivity } from '../src/index.js';
import { Rng, calibration, randn, runWhittle, values } from './helpers.js';
import { LAYERS, smallNet } from './models.js';

/** Float64 reference: relative L2 error and top-1 agreement of `got` against `ref` (rows of 12). */
function fidelity(ref: Float32Array[], got: Float32Array[]): { agreement: number; relativeError: number } {
  let num = 0;
  let den = 0;
  let agree = 0;
  let rows = 0;
  ref.forEach((a, i) => {
    const b = got[i]!;
    for (let k = 0; k < a.length; k++) {
      num += (a[k]! - b[k]!) ** 2;
      den += a[k]! ** 2;
    }
    for (let r = 0; r < a.length / 12; r++) {
      const argmax = (v: Float32Array): number => {
        let best = 0;
        for (let c = 1; c < 12; c++) if (v[r * 12 + c]! > v[r * 12 + best]!) best = c;
        return best;
      };
      if (argmax(a) === argmax(b)) agree++;
      rows++;
    }
  });
  return { agreement: agree / rows, relativeError: Math.sqrt(num / den) };
}

describe('prune-sensitivity', () => {
  it('per layer and level: output fidelity equals pruning that layer alone; model unchanged; recommendations', async () => {
    const m = smallNet(new Rng(1));
    const rng = new Rng(2);
    const batches = [0, 1].map(() => ({ data: randn(rng, 16 * 8 * 36), shape: [16, 8, 6, 6] }));
    const levels = [0.5, 0.9];
    const r = await runPass('prune-sensitivity', m, { levels, calibrationBatches: 2, maxDrop: 0.05 }, { calibration: calibration('input', batches) });
    expect(r.report.changed).toBe(false);
    expect(r.model).toBe(m);
    const res = r.report.details as unknown as SensitivityResult & { recommendedLayerSparsity: Record<string, number> };
    expect(res.baseline).toBe(1);
    expect(res.layers.map((l) => l.node)).toEqual(LAYERS.map((l) => l.node));
    const feeds = batches.map((b) => ({ input: b }));
    const out = m.graph.outputs[0]!.name;
    const ref = await Promise.all(feeds.map(async (f) => (await runWhittle(m, f))[out]!));
    for (const layer of res.layers) {
      for (const p of layer.points) {
        const one = (await runPass('prune-unstructured', m, { sparsity: p.sparsity, scope: 'layer', include: [layer.node] })).model;
        const got = await Promise.all(feeds.map(async (f) => (await runWhittle(one, f))[out]!));
        const f = fidelity(ref, got);
        expect(p.metric, `${layer.node}@${p.sparsity}`).toBeCloseTo(f.agreement, 10);
        expect(p.relativeError!).toBeCloseTo(f.relativeError, 4);
      }
      // more sparsity, more error
      expect(layer.points[1]!.relativeError!).toBeGreaterThan(layer.points[0]!.relativeError!);
    }
    expect(res.recommendedLayerSparsity).toEqual(sparsityFromSensitivity(res, 0.05));
    expect(await values(r.model, 'fc.weight')).toEqual(await values(smallNet(new Rng(1)), 'fc.weight'));
    await expect(runPass('prune-sensitivity', m, {})).rejects.toThrow(CalibrationDataError);
  });

  it('a model without a prunable main-graph layer is reported as such, before the model runs (an op the interpreter lacks)', async () => {
    const b = new GraphBuilder('tree');
    b.input('x', 'float32', ['N', 4]);
    b.node('TreeEnsembleRegressor', ['x'], { n_targets: 1, nodes_treeids: [0], nodes_nodeids: [0], nodes_featureids: [0], nodes_modes: ['LEAF'], target_ids: [0], target_treeids: [0], target_nodeids: [0], target_weights: [0.5] }, { domain: 'ai.onnx.ml', outputNames: ['y'] });
    b.output('y', 'float32', ['N', 1]);
    const m = b.model([{ domain: '', version: 17 }, { domain: 'ai.onnx.ml', version: 3 }]);
    const r = await runPass('prune-sensitivity', m, {}, { calibration: calibration('x', [randn(new Rng(1), 8)].map((d) => ({ data: d, shape: [2, 4] }))) });
    expect(r.report.changed).toBe(false);
    expect(r.report.summary).toMatch(/prune-sensitivity: no layer to analyse: no Conv\/Gemm\/MatMul layer with a float32 or float16 initializer weight to prune/);
    expect(r.model).toBe(m);
  });

  it('sparsityFromSensitivity picks the highest level within the allowed drop (0 when none is)', () => {
    const r: SensitivityResult = {
      baseline: 0.98,
      layers: [
        { node: 'a', weight: 'a.w', size: 10, points: [{ sparsity: 0.5, metric: 0.98 }, { sparsity: 0.8, metric: 0.975 }, { sparsity: 0.9, metric: 0.9 }] },
        { node: 'b', weight: 'b.w', size: 10, points: [{ sparsity: 0.5, metric: 0.9 }] },
      ],
    };
    expect(sparsityFromSensitivity(r, 0.01)).toEqual({ a: 0.8, b: 0 });
    expect(sparsityFromSensitivity(r, 0.1)).toEqual({ a: 0.9, b: 0.5 });
  });
});
