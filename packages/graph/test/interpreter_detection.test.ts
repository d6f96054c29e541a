import { it } from 'vitest';
import { Rng } from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { cpu, expectMatchesOrt, oneNode, randn, type OneNode } from './interpreter_harness.js';

/**
 * The detection / sampling ops against onnxruntime-node on cpu and webgpu: NonMaxSuppression on many overlapping random boxes (both box formats, thresholds, several batches and classes),
 * GridSample and RoiAlign on random inputs in each mode, DeformConv with every attribute and
 * input, AffineGrid in 2-D and 3-D.
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

/** Grid coordinates in [-1.3, 1.3]: some samples fall outside the image, where padding decides. */
function grid(shape: number[], seed: number): ReturnType<typeof cpu> {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return cpu(Array.from({ length: n }, () => Math.fround(rng.uniform(-1.3, 1.3))), shape);
}
const gridSample = (mode: string, padding: string, align: number, opset: number, spatial = [5, 6]): OneNode => ({
  op: 'GridSample',
  feeds: { x: randn([2, 3, ...spatial], 10), g: grid([2, 4, ...(spatial.length === 3 ? [2, 3] : [7]), spatial.length], 11) },
  inputs: ['x', 'g'],
  attrs: { mode, padding_mode: padding, align_corners: align },
  outputs: ['float32'],
  opset,
});
const roiAlign = (attrs: Record<string, number | string>, opset: number): OneNode => ({
  op: 'RoiAlign',
  feeds: { x: randn([2, 3, 12, 10], 20) },
  inputs: ['x', 'init:r', 'init:b'],
  // regions inside, across the border and outside the image, one degenerate
  inits: { r: cpu([1, 1, 6, 8, 0.5, 2.2, 9.7, 11.4, -3, -2, 4, 3, 7, 7, 7, 7, 8, 10, 14, 15], [5, 4]), b: cpu([0, 1, 1, 0, 1], [5], 'int64') },
  attrs,
  floatAttrs: ['spatial_scale'],
  outputs: ['float32'],
  opset,
});

const cases: [string, OneNode][] = [
  ['NonMaxSuppression corners, score threshold', nms(false, 1, true)],
  ['NonMaxSuppression centers, no score threshold', nms(true, 3, false)],
  ['GridSample bilinear zeros (opset 16)', gridSample('bilinear', 'zeros', 0, 16)],
  ['GridSample bicubic border align_corners (opset 16)', gridSample('bicubic', 'border', 1, 16)],
  ['GridSample nearest reflection (opset 16)', gridSample('nearest', 'reflection', 0, 16)],
  ['GridSample linear reflection align_corners (opset 20)', gridSample('linear', 'reflection', 1, 20)],
  ['GridSample cubic reflection (opset 20)', gridSample('cubic', 'reflection', 0, 20)],
  ['GridSample 3-D linear border (opset 20)', gridSample('linear', 'border', 0, 20, [3, 4, 5])],
  ['RoiAlign avg half_pixel adaptive sampling', roiAlign({ output_height: 3, output_width: 4, spatial_scale: 0.8 }, 16)],
  ['RoiAlign max output_half_pixel sampling 2', roiAlign({ output_height: 2, output_width: 2, sampling_ratio: 2, mode: 'max', coordinate_transformation_mode: 'output_half_pixel' }, 16)],
  ['RoiAlign opset 10', roiAlign({ output_height: 2, output_width: 3, sampling_ratio: 3 }, 10)],
  ['DeformConv groups, offset groups, strides, dilations, pads, mask, bias', {
    op: 'DeformConv',
    feeds: { x: randn([2, 4, 7, 6], 40), o: randn([2, 2 * 2 * 6, 3, 3], 41, 1.5), m: randn([2, 2 * 6, 3, 3], 42) },
    inputs: ['x', 'init:w', 'o', 'init:b', 'm'],
    inits: { w: randn([6, 2, 2, 3], 43), b: randn([6], 44) },
    attrs: { kernel_shape: [2, 3], group: 2, offset_group: 2, strides: [2, 2], dilations: [2, 1], pads: [1, 1, 0, 1] },
    outputs: ['float32'],
    opset: 19,
  }],
  ['AffineGrid 2-D', { op: 'AffineGrid', feeds: { t: randn([2, 2, 3], 30) }, inputs: ['t', 'init:s'], inits: { s: cpu([2, 3, 5, 7], [4], 'int64') }, outputs: ['float32'], opset: 20 }],
  ['AffineGrid 3-D align_corners', { op: 'AffineGrid', feeds: { t: randn([1, 3, 4], 31) }, inputs: ['t', 'init:s'], inits: { s: cpu([1, 2, 3, 4, 5], [5], 'int64') }, attrs: { align_corners: 1 }, outputs: ['float32'], opset: 20 }],
];

describeBackends('detection ops match onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
});
