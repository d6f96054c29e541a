import { expect, it } from 'vitest';
import { tensor } from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel } from '../src/interpreter/run.js';
import { cpu, expectMatchesOrt, runOrt } from './interpreter_harness.js';

/**
 * ai.onnx.ml TreeEnsemble against onnxruntime-node on cpu and webgpu: two trees over three
 * targets using every node mode (≤, <, ≥, >, =, ≠, set membership), a NaN feature routed by
 * nodes_missing_value_tracks_true, each aggregate, and the post transforms.
 */
function ensemble(aggregate: number, post: number) {
  const b = new GraphBuilder('trees');
  b.input('x', 'float32', [6, 3]);
  const y = b.node('TreeEnsemble', ['x'], {
    tree_roots: [0, 4],
    nodes_featureids: [0, 1, 2, 0, 1, 2, 0],
    nodes_modes: tensor([0, 6, 3, 5, 1, 2, 4], [7], 'uint8', { backend: 'cpu' }),
    nodes_splits: tensor([0.5, 0, 1, 2, 2, 0, 3], [7], 'float32', { backend: 'cpu' }),
    nodes_truenodeids: [1, 0, 2, 3, 5, 5, 7],
    nodes_trueleafs: [0, 1, 1, 1, 0, 1, 1],
    nodes_falsenodeids: [2, 1, 3, 4, 6, 6, 8],
    nodes_falseleafs: [0, 1, 0, 1, 0, 1, 1],
    nodes_missing_value_tracks_true: [0, 0, 1, 0, 0, 0, 0],
    membership_values: tensor([1, 3], [2], 'float32', { backend: 'cpu' }),
    leaf_targetids: [0, 1, 2, 0, 1, 2, 0, 1, 2],
    leaf_weights: tensor([0.5, -1, 2, 1.5, 0.25, -0.75, 1, 2, -2], [9], 'float32', { backend: 'cpu' }),
    n_targets: 3,
    aggregate_function: aggregate,
    post_transform: post,
  }, { domain: 'ai.onnx.ml' });
  b.output(y, 'float32');
  return b.model([{ domain: '', version: 21 }, { domain: 'ai.onnx.ml', version: 5 }]);
}
const x = cpu([0.2, 1, 5, 0.2, 2, NaN, 1, 0, 0.5, 2, 1, -1, 3, 3, 2, 0.5, 3, NaN], [6, 3]);

describeBackends('TreeEnsemble matches onnxruntime', ({ backend }) => {
  for (const [name, aggregate, post] of [['average', 0, 0], ['min', 2, 0], ['max', 3, 0], ['sum, softmax with zeros', 1, 3]] as const) {
    it(`${name} of the trees`, async () => {
      await expectMatchesOrt(ensemble(aggregate, post), { x }, backend);
    });
  }
});

describeBackends('TreeEnsemble post transforms', ({ backend }) => {
  // onnxruntime reads post_transform 1 as logistic and 2 as softmax, and approximates probit
  // coarsely; these follow the operator's definition (1 softmax, 2 logistic, 4 probit)
  it('softmax (1), logistic (2) and probit (4) of the summed scores', async () => {
    const [sums] = await runOrt(ensemble(1, 0), { x });
    const run = async (post: number): Promise<Float64Array> => {
      const model = ensemble(1, post);
      return (await runModel(model, { x }, { backend })).get(model.graph.outputs[0]!.name)!.toFloat64();
    };
    const [soft, logistic, probit] = [await run(1), await run(2), await run(4)];
    for (let r = 0; r < 6; r++) {
      const row = Array.from(sums!.data.subarray(r * 3, r * 3 + 3));
      const e = row.map((v) => Math.exp(v));
      row.forEach((v, k) => {
        expect(soft[r * 3 + k]).toBeCloseTo(e[k]! / (e[0]! + e[1]! + e[2]!), 5);
        expect(logistic[r * 3 + k]).toBeCloseTo(1 / (1 + Math.exp(-v)), 5);
        // probit is the inverse of the normal CDF: Φ(probit(v)) = v where v is a probability
        if (v > 0 && v < 1) expect(normalCdf(probit[r * 3 + k]!)).toBeCloseTo(v, 5);
      });
    }
  });
});

/** Φ(z), the standard normal CDF, by Simpson's rule on the density from −8. */
function normalCdf(z: number): number {
  const n = 20000;
  const a = -8;
  const h = (z - a) / n;
  let s = 0;
  for (let i = 0; i <= n; i++) s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-((a + i * h) ** 2) / 2);
  return (s * h) / 3 / Math.sqrt(2 * Math.PI);
}
