import { type Model, attr, createGraph, createModel, runPass, tensorInfo } from '@whittle/graph';
import { describe, expect, it } from 'vitest';
import { Rng, layersOf, lowRankish, node, randn, runOrt, diff, t } from './helpers.js';

/**
 * A Gemm MLP as paddle2onnx / old exporters write it at `opset`: transB = 1 with a bias, then
 * transA = 1 with alpha/beta, then a MatMul. Before opset 7 Gemm broadcasts C only with broadcast = 1.
 */
function gemmModel(opset: number): Model {
  const rng = new Rng(31);
  const old = opset < 7 ? { broadcast: attr.int(1) } : {};
  const g = createGraph({
    nodes: [
      node('Gemm', ['x', 'w1', 'b1'], ['h1'], { transB: attr.int(1), ...old }),
      node('Relu', ['h1'], ['a1']),
      node('Transpose', ['a1'], ['a1t'], { perm: attr.ints([1, 0]) }),
      node('Gemm', ['a1t', 'w2', 'b2'], ['h2'], { transA: attr.int(1), alpha: attr.float(0.5), beta: attr.float(2), ...old }),
      node('MatMul', ['h2', 'w3'], ['y']),
    ],
    inputs: [tensorInfo('x', 'float32', [3, 40])],
    outputs: [{ name: 'y', type: null }],
    initializers: {
      w1: t(lowRankish(rng, 48, 40, 6), [48, 40]), b1: t(randn(rng, 48), [48]),
      w2: t(lowRankish(rng, 48, 44, 6), [48, 44]), b2: t(randn(rng, 44), [44]),
      w3: t(lowRankish(rng, 44, 30, 6), [44, 30]),
    },
  });
  return createModel(g, { opsetImports: [{ domain: '', version: opset }] });
}
const feeds = { x: { data: randn(new Rng(4), 3 * 40), shape: [3, 40] } };

describe('lowrank-linear emits factors valid at the model opset', () => {
  for (const opset of [7, 9, 10, 11, 13]) {
    it(`opset ${opset}: onnxruntime loads the factorized Gemms and the output matches the original`, async () => {
      const m = gemmModel(opset);
      const r = await runPass('lowrank-linear', m, { rankSelection: 'fixed', rank: 6 });
      expect(layersOf(r)).toHaveLength(3);
      const gemms = r.model.graph.nodes.filter((n) => n.opType === 'Gemm');
      expect(gemms).toHaveLength(4);
      // Gemm-7..10 have a required C: the first factor reads a one-element zero, the second the original bias
      const firsts = gemms.filter((n) => n.name.endsWith('_lowrank_u'));
      for (const n of firsts) {
        if (opset < 11) {
          expect(n.inputs).toHaveLength(3);
          expect(Array.from(r.model.graph.initializers.get(n.inputs[2]!)!.dataSync() as Float32Array)).toEqual([0]);
        } else expect(n.inputs).toHaveLength(2);
      }
      expect(gemms.filter((n) => n.name.endsWith('_lowrank_v')).map((n) => n.inputs[2])).toEqual(['b1', 'b2']);
      const before = await runOrt(m, feeds);
      const after = await runOrt(r.model, feeds);
      const d = diff(after['y']!, before['y']!);
      // rank 6 of rank-6 + 1 % noise weights
      expect(d.rel).toBeLessThan(0.05);
      expect(r.model.opsetImports).toEqual(m.opsetImports);
    });
  }
});
