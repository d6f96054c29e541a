import { describe, expect, it } from 'vitest';
import * as T from '@whittle/tensor';
import { inferShapes } from '../src/analysis/shape/infer.js';
import { summarize } from '../src/analysis/summarize.js';
import { runModel } from '../src/interpreter/run.js';
import '../src/interpreter/ops/index.js';
import { cpu, oneNode, randn, type OneNode } from './interpreter_harness.js';

/**
 * Shape inference of the audio, sampling, detection and generator ops agrees with what the
 * interpreter produces: every dim inferred from constant inputs is the run's dim, and only
 * data-dependent dims (NonMaxSuppression's and Unique's counts) stay unknown.
 */
const i64 = (v: number[], shape: number[] = [v.length]): ReturnType<typeof cpu> => cpu(v, shape, 'int64');
const cases: [string, OneNode, (number | null)[][]][] = [
  ['DFT one-sided, opset 20 axis input', { op: 'DFT', feeds: { x: randn([2, 9, 3, 1], 1) }, inputs: ['x', 'init:n', 'init:a'], inits: { n: i64([12], []), a: i64([1], []) }, attrs: { onesided: 1 }, outputs: ['float32'], opset: 20 }, [[2, 7, 3, 2]]],
  ['DFT inverse one-sided (opset 17)', { op: 'DFT', feeds: { x: randn([2, 6, 2], 2) }, inputs: ['x'], attrs: { inverse: 1, onesided: 1, axis: 1 }, outputs: ['float32'], opset: 17 }, [[2, 10, 1]]],
  ['STFT', { op: 'STFT', feeds: { s: randn([1, 100, 1], 3) }, inputs: ['s', 'init:st', '', 'init:fl'], inits: { st: i64([8], []), fl: i64([16], []) }, outputs: ['float32'], opset: 17 }, [[1, 11, 9, 2]]],
  ['HannWindow', { op: 'HannWindow', feeds: {}, inputs: ['init:n'], inits: { n: i64([10], []) }, outputs: ['float32'], opset: 17 }, [[10]]],
  ['MelWeightMatrix', { op: 'MelWeightMatrix', feeds: {}, inputs: ['init:m', 'init:d', 'init:r', 'init:lo', 'init:hi'], inits: { m: i64([8], []), d: i64([64], []), r: i64([8000], []), lo: cpu([0], []), hi: cpu([4000], []) }, outputs: ['float32'], opset: 17 }, [[33, 8]]],
  ['GridSample', { op: 'GridSample', feeds: { x: randn([2, 3, 5, 6], 4), g: randn([2, 4, 7, 2], 5) }, inputs: ['x', 'g'], outputs: ['float32'], opset: 16 }, [[2, 3, 4, 7]]],
  ['AffineGrid', { op: 'AffineGrid', feeds: { t: randn([2, 2, 3], 11) }, inputs: ['t', 'init:s'], inits: { s: i64([2, 3, 5, 7]) }, outputs: ['float32'], opset: 20 }, [[2, 5, 7, 2]]],
  ['BitCast', { op: 'BitCast', feeds: { x: randn([3, 2], 12) }, inputs: ['x'], attrs: { to: 6 }, outputs: ['int32'], opset: 26 }, [[3, 2]]],
  ['MaxUnpool', { op: 'MaxUnpool', feeds: { x: randn([1, 2, 3, 3], 13), i: cpu([0, 2, 4, 10, 12, 14, 20, 22, 24, 25, 27, 29, 35, 37, 39, 45, 47, 49], [1, 2, 3, 3], 'int64') }, inputs: ['x', 'i'], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1] }, outputs: ['float32'], opset: 11 }, [[1, 2, 5, 5]]],
  ['CumProd', { op: 'CumProd', feeds: { x: randn([2, 3], 14) }, inputs: ['x', 'init:a'], inits: { a: i64([1], []) }, outputs: ['float32'], opset: 26 }, [[2, 3]]],
  ['Det', { op: 'Det', feeds: { x: randn([2, 3, 3], 15) }, inputs: ['x'], outputs: ['float32'], opset: 11 }, [[2]]],
  ['TensorScatter', { op: 'TensorScatter', feeds: { c: randn([2, 5, 3], 16), u: randn([2, 2, 3], 17) }, inputs: ['c', 'u'], attrs: { axis: 1 }, outputs: ['float32'], opset: 24 }, [[2, 5, 3]]],
  ['DeformConv', { op: 'DeformConv', feeds: { x: randn([1, 2, 6, 5], 18), o: randn([1, 12, 3, 4], 19) }, inputs: ['x', 'init:w', 'o'], inits: { w: randn([4, 2, 2, 3], 20) }, attrs: { kernel_shape: [2, 3], strides: [2, 1], pads: [1, 1, 0, 0] }, outputs: ['float32'], opset: 19 }, [[1, 4, 3, 4]]],
  ['TfIdfVectorizer', { op: 'TfIdfVectorizer', feeds: { x: cpu([1, 2, 3, 1, 2, 3], [2, 3], 'int32') }, inputs: ['x'], attrs: { mode: 'TF', min_gram_length: 1, max_gram_length: 1, max_skip_count: 0, ngram_counts: [0], ngram_indexes: [2, 0], pool_int64s: [1, 3] }, outputs: ['float32'], opset: 9 }, [[2, 3]]],
  ['CausalConvWithState', { op: 'CausalConvWithState', feeds: { x: randn([2, 3, 6], 22), w: randn([3, 1, 4], 23) }, inputs: ['x', 'w'], outputs: ['float32', 'float32'], opset: 27 }, [[2, 3, 6], [2, 3, 3]]],
  ['LinearAttention', { op: 'LinearAttention', feeds: { q: randn([2, 3, 8], 24), k: randn([2, 3, 4], 25), v: randn([2, 3, 6], 26) }, inputs: ['q', 'k', 'v'], attrs: { q_num_heads: 4, kv_num_heads: 2, update_rule: 'linear' }, outputs: ['float32', 'float32'], opset: 27 }, [[2, 3, 12], [2, 2, 2, 3]]],
  ['FlexAttention (GQA)', { op: 'FlexAttention', domain: 'ai.onnx.preview', feeds: { q: randn([1, 4, 3, 6], 27), k: randn([1, 2, 5, 6], 28), v: randn([1, 2, 5, 2], 29) }, inputs: ['q', 'k', 'v'], outputs: ['float32'], opset: 26 }, [[1, 4, 3, 2]]],
  ['TreeEnsemble', { op: 'TreeEnsemble', domain: 'ai.onnx.ml', feeds: { x: randn([5, 2], 30) }, inputs: ['x'], attrs: { tree_roots: [0], nodes_featureids: [1], nodes_modes: T.tensor([0], [1], 'uint8', { backend: 'cpu' }), nodes_splits: cpu([0], [1]), nodes_truenodeids: [0], nodes_trueleafs: [1], nodes_falsenodeids: [1], nodes_falseleafs: [1], leaf_targetids: [0, 2], leaf_weights: cpu([1, -1], [2]), n_targets: 3 }, outputs: ['float32'], opset: 21 }, [[5, 3]]],
  ['RoiAlign', { op: 'RoiAlign', feeds: { x: randn([1, 3, 8, 8], 6) }, inputs: ['x', 'init:r', 'init:b'], inits: { r: cpu([0, 0, 4, 4, 1, 1, 6, 5], [2, 4]), b: i64([0, 0]) }, attrs: { output_height: 2, output_width: 3 }, outputs: ['float32'], opset: 16 }, [[2, 3, 2, 3]]],
  ['Col2Im', { op: 'Col2Im', feeds: { x: randn([1, 8, 9], 7) }, inputs: ['x', 'init:img', 'init:blk'], inits: { img: i64([4, 4]), blk: i64([2, 2]) }, outputs: ['float32'], opset: 18 }, [[1, 2, 4, 4]]],
  ['CenterCropPad', { op: 'CenterCropPad', feeds: { x: randn([5, 6, 3], 8) }, inputs: ['x', 'init:s'], inits: { s: i64([3, 9]) }, attrs: { axes: [0, 1] }, outputs: ['float32'], opset: 18 }, [[3, 9, 3]]],
  ['NonMaxSuppression', { op: 'NonMaxSuppression', feeds: { b: cpu([0, 0, 1, 1, 0, 0.1, 1, 1.1, 2, 2, 3, 3], [1, 3, 4]), s: cpu([0.9, 0.8, 0.7], [1, 1, 3]) }, inputs: ['b', 's', 'init:m', 'init:iou'], inits: { m: i64([3]), iou: cpu([0.5], [1]) }, outputs: ['int64'], opset: 11 }, [[null, 3]]],
  ['Unique along an axis', { op: 'Unique', feeds: { x: cpu([1, 2, 1, 2, 3, 4], [3, 2]) }, inputs: ['x'], attrs: { axis: 0 }, outputs: ['float32', 'int64', 'int64', 'int64'], opset: 11 }, [[null, 2], [null], [3], [null]]],
  ['RandomUniformLike', { op: 'RandomUniformLike', feeds: { x: randn([2, 5], 9) }, inputs: ['x'], attrs: { seed: 1 }, floatAttrs: ['seed'], outputs: ['float32'] }, [[2, 5]]],
  ['Multinomial', { op: 'Multinomial', feeds: { x: randn([3, 4], 10) }, inputs: ['x'], attrs: { sample_size: 6, seed: 1 }, floatAttrs: ['seed'], outputs: ['int32'], opset: 7 }, [[3, 6]]],
];

describe('shape rules of the audio, sampling, detection and generator ops', () => {
  for (const [name, spec, want] of cases) {
    it(name, async () => {
      const model = oneNode(spec);
      const inferred = inferShapes(model).graph.outputs.map((o) => o.type?.shape);
      expect(inferred).toEqual(want);
      const out = await runModel(model, spec.feeds, { backend: 'cpu' });
      model.graph.outputs.forEach((o, k) => {
        const got = out.get(o.name)!.shape;
        expect(got.length).toBe(want[k]!.length);
        want[k]!.forEach((d, i) => d !== null && expect(got[i]).toBe(d));
      });
    });
  }
});

describe('FLOPs of DeformConv', () => {
  it('counts the convolution it performs, plus the bias', () => {
    const spec = cases.find(([name]) => name === 'DeformConv')![1];
    const s = summarize(oneNode({ ...spec, inputs: [...spec.inputs, 'init:b'], inits: { ...spec.inits, b: randn([4], 21) } }));
    // output [1, 4, 3, 4], each from 2·2·3 weights
    expect(s.macs).toBe(1 * 4 * 3 * 4 * (2 * 2 * 3));
    expect(s.flops).toBe(2 * s.macs + 1 * 4 * 3 * 4);
  });
});
