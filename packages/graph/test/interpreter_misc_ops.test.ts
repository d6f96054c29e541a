import { it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { cpu, expectMatchesOrt, oneNode, randInt, randn, type OneNode } from './interpreter_harness.js';

/**
 * Atan/Asin/Acos, the bitwise ops and BitShift, ReverseSequence, CenterCropPad, Col2Im,
 * CumProd, MaxUnpool, the mul/max/min scatter reductions, Det, TensorScatter, TfIdfVectorizer
 * and Unique against onnxruntime-node on cpu and webgpu, on inputs past the node tests' ranges
 * (large and tiny arguments, broadcasting, int64, 3-D inputs, every attribute).
 */
const wide = cpu([-1e6, -300, -20, -1.5, -1, -0.7, -1e-4, 0, 3e-8, 0.2, 0.99, 1, 1.01, 2.5, 40, 7e5], [16]);
const unit = cpu([-1, -0.9999, -0.95, -0.5, -1e-3, 0, 1e-6, 0.3, 0.7071, 0.9, 0.99999, 1], [12]);
const i32 = (seed: number, shape: number[]): ReturnType<typeof cpu> => randInt(shape, seed, -1000, 1000, 'int32');

const cases: [string, OneNode][] = [
  ['Atan over a wide range', { op: 'Atan', feeds: { x: wide }, inputs: ['x'], outputs: ['float32'] }],
  ['Asin on [-1, 1]', { op: 'Asin', feeds: { x: unit }, inputs: ['x'], outputs: ['float32'] }],
  ['Acos on [-1, 1]', { op: 'Acos', feeds: { x: unit }, inputs: ['x'], outputs: ['float32'] }],
  ['BitwiseAnd int32 broadcast', { op: 'BitwiseAnd', feeds: { a: i32(1, [3, 4]), b: i32(2, [4]) }, inputs: ['a', 'b'], outputs: ['int32'], opset: 18 }],
  ['BitwiseOr int64', { op: 'BitwiseOr', feeds: { a: randInt([5], 3, -50, 50, 'int64'), b: randInt([5], 4, -50, 50, 'int64') }, inputs: ['a', 'b'], outputs: ['int64'], opset: 18 }],
  ['BitwiseXor uint8 broadcast', { op: 'BitwiseXor', feeds: { a: randInt([2, 1, 3], 5, 0, 255, 'uint8'), b: randInt([4, 1], 6, 0, 255, 'uint8') }, inputs: ['a', 'b'], outputs: ['uint8'], opset: 18 }],
  ['BitwiseNot int8', { op: 'BitwiseNot', feeds: { a: randInt([7], 7, -128, 127, 'int8') }, inputs: ['a'], outputs: ['int8'], opset: 18 }],
  ['BitShift left uint8 (wraps)', { op: 'BitShift', feeds: { a: randInt([6], 8, 0, 255, 'uint8'), b: cpu([0, 1, 3, 5, 7, 2], [6], 'uint8') }, inputs: ['a', 'b'], attrs: { direction: 'LEFT' }, outputs: ['uint8'], opset: 11 }],
  ['BitShift right uint8 broadcast', { op: 'BitShift', feeds: { a: randInt([2, 3], 9, 0, 255, 'uint8'), b: cpu([2], [1], 'uint8') }, inputs: ['a', 'b'], attrs: { direction: 'RIGHT' }, outputs: ['uint8'], opset: 11 }],
  ['ReverseSequence time-major 3-D', { op: 'ReverseSequence', feeds: { x: randn([5, 3, 2], 10), l: cpu([5, 1, 3], [3], 'int64') }, inputs: ['x', 'l'], attrs: { batch_axis: 1, time_axis: 0 }, outputs: ['float32'], opset: 10 }],
  ['ReverseSequence batch-major', { op: 'ReverseSequence', feeds: { x: randn([3, 6], 11), l: cpu([0, 6, 2], [3], 'int64') }, inputs: ['x', 'l'], attrs: { batch_axis: 0, time_axis: 1 }, outputs: ['float32'], opset: 10 }],
  ['CenterCropPad odd crop and pad on chosen axes', { op: 'CenterCropPad', feeds: { x: randn([3, 7, 4], 12) }, inputs: ['x', 'init:s'], inits: { s: cpu([4, 9], [2], 'int64') }, attrs: { axes: [1, -1] }, outputs: ['float32'], opset: 18 }],
  ['Col2Im strides, dilations, asymmetric pads', {
    op: 'Col2Im',
    feeds: { x: randn([2, 2 * 2 * 3, 12], 13) },
    inputs: ['x', 'init:img', 'init:blk'],
    inits: { img: cpu([6, 7], [2], 'int64'), blk: cpu([2, 3], [2], 'int64') },
    attrs: { strides: [2, 2], dilations: [2, 1], pads: [1, 0, 0, 2] },
    outputs: ['float32'],
    opset: 18,
  }],
  ['Unique sorted, no axis', { op: 'Unique', feeds: { x: cpu([3, 1, 2, 3, 3, -1, 2, 0.5], [2, 4]) }, inputs: ['x'], outputs: ['float32', 'int64', 'int64', 'int64'], opset: 11 }],
  ['Unique unsorted along axis 1', { op: 'Unique', feeds: { x: cpu([1, 0, 1, 2, 2, 3, 2, 3, 1, 0, 1, 4], [3, 4]) }, inputs: ['x'], attrs: { axis: 1, sorted: 0 }, outputs: ['float32', 'int64', 'int64', 'int64'], opset: 11 }],
  ['CumProd exclusive reverse along axis 1', { op: 'CumProd', feeds: { x: randn([3, 11, 2], 14) }, inputs: ['x', 'init:a'], inits: { a: cpu([1], [], 'int64') }, attrs: { exclusive: 1, reverse: 1 }, outputs: ['float32'], opset: 26 }],
  ['CumProd int32 along the last axis', { op: 'CumProd', feeds: { x: randInt([2, 6], 15, -3, 3, 'int32') }, inputs: ['x', 'init:a'], inits: { a: cpu([-1], [], 'int64') }, outputs: ['int32'], opset: 26 }],
  ['ScatterElements mul with repeated and negative indices', { op: 'ScatterElements', feeds: { d: randn([3, 5], 17), u: randn([3, 4], 18) }, inputs: ['d', 'init:i', 'u'], inits: { i: cpu([0, 0, -1, 2, 4, 4, 4, 1, 1, 3, 3, 1], [3, 4], 'int64') }, attrs: { axis: 1, reduction: 'mul' }, outputs: ['float32'], opset: 18 }],
  ['ScatterElements max along axis 0', { op: 'ScatterElements', feeds: { d: randn([4, 3], 19), u: randn([2, 3], 20) }, inputs: ['d', 'init:i', 'u'], inits: { i: cpu([1, 3, 1, 1, 0, 1], [2, 3], 'int64') }, attrs: { axis: 0, reduction: 'max' }, outputs: ['float32'], opset: 18 }],
  ['ScatterND min with a repeated row', { op: 'ScatterND', feeds: { d: randn([4, 2, 3], 21), u: randn([3, 2, 3], 22) }, inputs: ['d', 'init:i', 'u'], inits: { i: cpu([2, 0, 2], [3, 1], 'int64') }, attrs: { reduction: 'min' }, outputs: ['float32'], opset: 18 }],
  ['ScatterND mul on elements', { op: 'ScatterND', feeds: { d: randn([3, 4], 23), u: randn([4], 24) }, inputs: ['d', 'init:i', 'u'], inits: { i: cpu([0, 1, 2, 3, 0, 1, 1, 1], [4, 2], 'int64') }, attrs: { reduction: 'mul' }, outputs: ['float32'], opset: 18 }],
  ['Det of a batch of 4×4 matrices', { op: 'Det', feeds: { x: randn([2, 3, 4, 4], 25) }, inputs: ['x'], outputs: ['float32'], opset: 11 }],
  ['Det of a singular matrix', { op: 'Det', feeds: { x: cpu([1, 2, 3, 2, 4, 6, 0, 1, 5], [3, 3]) }, inputs: ['x'], outputs: ['float32'], opset: 11 }],
  ['TensorScatter circular, 4-D cache', { op: 'TensorScatter', feeds: { c: randn([2, 3, 6, 4], 26), u: randn([2, 3, 3, 4], 27) }, inputs: ['c', 'u', 'init:w'], inits: { w: cpu([1, 5], [2], 'int64') }, attrs: { mode: 'circular' }, outputs: ['float32'], opset: 24 }],
  ['TensorScatter linear from 0, axis 1', { op: 'TensorScatter', feeds: { c: randn([2, 5, 3], 28), u: randn([2, 2, 3], 29) }, inputs: ['c', 'u'], attrs: { axis: 1 }, outputs: ['float32'], opset: 24 }],
  ['TfIdfVectorizer TFIDF with weights, 1- to 3-grams, int64 batch', {
    op: 'TfIdfVectorizer',
    feeds: { x: cpu([1, 2, 3, 1, 2, 3, 4, 2, 3, 3, 1, 2, 2, 3, 4, 1, 1, 2], [2, 9], 'int64') },
    inputs: ['x'],
    attrs: { mode: 'TFIDF', min_gram_length: 1, max_gram_length: 3, max_skip_count: 2, ngram_counts: [0, 3, 7], ngram_indexes: [5, 0, 1, 2, 3, 6, 4, 7], pool_int64s: [1, 2, 4, 1, 2, 2, 3, 1, 2, 3], weights: [0.5, 1.5, 2, 1, 0.25, 3, 2, 1.25] },
    floatAttrs: ['weights'],
    outputs: ['float32'],
    opset: 9,
  }],
  ['TfIdfVectorizer IDF, bigrams only, int32 row', { op: 'TfIdfVectorizer', feeds: { x: cpu([5, 6, 7, 5, 6, 8, 6, 7], [8], 'int32') }, inputs: ['x'], attrs: { mode: 'IDF', min_gram_length: 2, max_gram_length: 2, max_skip_count: 1, ngram_counts: [0, 2], ngram_indexes: [4, 0, 1, 2, 3], pool_int64s: [5, 7, 5, 6, 6, 7, 7, 5], weights: [2, 3, 4, 5, 6] }, floatAttrs: ['weights'], outputs: ['float32'], opset: 9 }],
  ['Unique int64 sorted along axis -1', { op: 'Unique', feeds: { x: cpu([5, 2, 5, 9, 2, 9], [1, 6], 'int64') }, inputs: ['x'], attrs: { axis: -1 }, outputs: ['int64', 'int64', 'int64', 'int64'], opset: 11 }],
];

/** MaxPool (with Indices) then MaxUnpool back to the input's shape, padded and strided. */
function unpoolModel() {
  const b = new GraphBuilder('unpool');
  b.input('x', 'float32', [2, 3, 7, 8]);
  const attrs = { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 0] };
  const [y, i] = b.nodeOutputs('MaxPool', ['x'], attrs, { outputs: 2 });
  b.output(b.node('MaxUnpool', [y!, i!], attrs), 'float32');
  return b.model([{ domain: '', version: 11 }]);
}

describeBackends('misc ops match onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend, 1e-5, 1e-6);
    });
  }
  it('MaxPool indices into MaxUnpool', async () => {
    await expectMatchesOrt(unpoolModel(), { x: randn([2, 3, 7, 8], 16) }, backend);
  });
});
