import { describe, expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { tensor } from '@whittle/tensor';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel } from '../src/interpreter/run.js';
import { UnsupportedOpError, InterpreterError } from '../src/interpreter/errors.js';
import { cpu, expectMatchesOrt, oneNode, randInt, randn, type OneNode } from './interpreter_harness.js';

/** Recurrent, control-flow, quantized and contrib ops, and a whole LeNet, against onnxruntime-node. */
const S = 4;
const B = 3;
const I = 5;
const H = 2;
const lstm = (direction: string, extra: Partial<OneNode> = {}): OneNode => {
  const D = direction === 'bidirectional' ? 2 : 1;
  return {
    op: 'LSTM',
    feeds: { x: randn([S, B, I], 1) },
    inputs: ['x', 'init:w', 'init:r', 'init:b', 'init:lens', 'init:h0', 'init:c0', 'init:p'],
    inits: {
      w: randn([D, 4 * H, I], 2, 0.5),
      r: randn([D, 4 * H, H], 3, 0.5),
      b: randn([D, 8 * H], 4, 0.5),
      lens: cpu([4, 2, 3], [3], 'int32'),
      h0: randn([D, B, H], 5),
      c0: randn([D, B, H], 6),
      p: randn([D, 3 * H], 7, 0.5),
    },
    attrs: { hidden_size: H, direction },
    outputs: ['float32', 'float32', 'float32'],
    ...extra,
  };
};

const quantCases: [string, OneNode][] = [
  ['QuantizeLinear per-axis int8', { op: 'QuantizeLinear', feeds: { x: randn([2, 3, 4], 10, 3) }, inputs: ['x', 'init:s', 'init:z'], inits: { s: cpu([0.02, 0.05, 0.1], [3]), z: cpu([-3, 0, 7], [3], 'int8') }, attrs: { axis: 1 }, outputs: ['int8'] }],
  ['DequantizeLinear blocked (opset 21)', { op: 'DequantizeLinear', feeds: { q: randInt([3, 8], 11, 0, 255, 'uint8') }, inputs: ['q', 'init:s', 'init:z'], inits: { s: randn([3, 3], 12, 0.1), z: randInt([3, 3], 13, 100, 150, 'uint8') }, attrs: { axis: 1, block_size: 3 }, outputs: ['float32'] }],
  ['DynamicQuantizeLinear', { op: 'DynamicQuantizeLinear', feeds: { x: randn([3, 5], 14, 2) }, inputs: ['x'], outputs: ['uint8', 'float32', 'uint8'] }],
  // B in 7 bits: onnxruntime's u8s8 kernel on x86 without VNNI adds product pairs in saturating
  // int16 (vpmaddubsw), so full-range int8 B gives machine-dependent results (reduce_range's reason)
  ['MatMulInteger per-column B zero points', { op: 'MatMulInteger', feeds: { a: randInt([3, 4], 15, 0, 255, 'uint8') }, inputs: ['a', 'init:b', 'init:az', 'init:bz'], inits: { b: randInt([4, 2], 16, -64, 63, 'int8'), az: cpu([3], [], 'uint8'), bz: cpu([1, -2], [2], 'int8') }, outputs: ['int32'] }],
  ['ConvInteger', { op: 'ConvInteger', feeds: { x: randInt([1, 2, 5, 5], 17, 0, 255, 'uint8') }, inputs: ['x', 'init:w', 'init:xz'], inits: { w: randInt([3, 2, 3, 3], 18, 0, 255, 'uint8'), xz: cpu([128], [], 'uint8') }, attrs: { pads: [1, 1, 1, 1] }, outputs: ['int32'] }],
  ['QLinearMatMul', { op: 'QLinearMatMul', feeds: { a: randInt([2, 4], 19, 0, 255, 'uint8') }, inputs: ['a', 'init:as', 'init:az', 'init:b', 'init:bs', 'init:bz', 'init:ys', 'init:yz'], inits: { as: cpu([0.02], []), az: cpu([120], [], 'uint8'), b: randInt([4, 3], 20, 0, 255, 'uint8'), bs: cpu([0.01], []), bz: cpu([130], [], 'uint8'), ys: cpu([0.05], []), yz: cpu([100], [], 'uint8') }, outputs: ['uint8'] }],
  ['QLinearConv per-channel', { op: 'QLinearConv', feeds: { x: randInt([1, 2, 5, 4], 21, 0, 255, 'uint8') }, inputs: ['x', 'init:xs', 'init:xz', 'init:w', 'init:ws', 'init:wz', 'init:ys', 'init:yz', 'init:b'], inits: { xs: cpu([0.02], []), xz: cpu([128], [], 'uint8'), w: randInt([3, 2, 2, 2], 22, -100, 100, 'int8'), ws: cpu([0.01, 0.02, 0.005], [3]), wz: cpu([0, 0, 0], [3], 'int8'), ys: cpu([0.1], []), yz: cpu([50], [], 'uint8'), b: randInt([3], 23, -500, 500, 'int32') }, attrs: { strides: [1, 2] }, outputs: ['uint8'] }],
];

/** Pack `bits`-bit codes (row-major [N, K]) into [N, kBlocks, blob] low bits first. */
function packNBits(codes: number[], N: number, K: number, bits: number, bs: number): number[] {
  const kBlocks = Math.ceil(K / bs);
  const blob = (bs * bits) / 8;
  const out = new Array<number>(N * kBlocks * blob).fill(0);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
    const byte = n * kBlocks * blob + Math.floor(k / bs) * blob + Math.floor(((k % bs) * bits) / 8);
    out[byte] = out[byte]! | (codes[n * K + k]! << (((k % bs) * bits) % 8));
  }
  return out;
}

function matMulNBits(bits: number, withZp: boolean): OneNode {
  const N = 3;
  const K = 20;
  const bs = 16;
  const kBlocks = Math.ceil(K / bs);
  const codes = Array.from(randInt([N * K], 30 + bits, 0, (1 << bits) - 1, 'int32').dataSync() as Int32Array);
  const zps = Array.from(randInt([N * kBlocks], 31, 0, (1 << bits) - 1, 'int32').dataSync() as Int32Array);
  const perByte = 8 / bits;
  const zpBytes: number[] = [];
  const rowBytes = Math.ceil(kBlocks / perByte);
  for (let n = 0; n < N; n++) for (let j = 0; j < rowBytes; j++) {
    let v = 0;
    for (let q = 0; q < perByte && j * perByte + q < kBlocks; q++) v |= zps[n * kBlocks + j * perByte + q]! << (q * bits);
    zpBytes.push(v);
  }
  const inputs = ['a', 'init:b', 'init:s', withZp ? 'init:z' : '', '', 'init:bias'];
  return {
    op: 'MatMulNBits',
    domain: 'com.microsoft',
    feeds: { a: randn([2, K], 32) },
    inputs,
    inits: { b: cpu(packNBits(codes, N, K, bits, bs), [N, kBlocks, (bs * bits) / 8], 'uint8'), s: randn([N * kBlocks], 33, 0.1), z: cpu(zpBytes, [N * rowBytes], 'uint8'), bias: randn([N], 34) },
    attrs: { K, N, bits, block_size: bs },
    outputs: ['float32'],
  };
}

function lenet() {
  const b = new GraphBuilder('lenet');
  const x = b.input('x', 'float32', [2, 1, 12, 12]);
  const c1 = b.node('Conv', [x, b.initializer('c1.w', randn([4, 1, 3, 3], 40, 0.3)), b.initializer('c1.b', randn([4], 41, 0.1))], { pads: [1, 1, 1, 1] });
  const p1 = b.node('MaxPool', [b.node('Relu', [c1])], { kernel_shape: [2, 2], strides: [2, 2] });
  const c2 = b.node('Conv', [p1, b.initializer('c2.w', randn([6, 4, 3, 3], 42, 0.3))], {});
  const p2 = b.node('AveragePool', [b.node('Relu', [c2])], { kernel_shape: [2, 2], strides: [2, 2] });
  const f = b.node('Flatten', [p2], { axis: 1 });
  const h = b.node('Relu', [b.node('Gemm', [f, b.initializer('fc1.w', randn([10, 24], 43, 0.3)), b.initializer('fc1.b', randn([10], 44, 0.1))], { transB: 1 })]);
  const r = b.node('Reshape', [h, b.initializer('shape', cpu([0, -1], [2], 'int64'))]);
  const logits = b.node('Add', [b.node('MatMul', [r, b.initializer('fc2.w', randn([10, 5], 45, 0.3))]), b.initializer('fc2.b', randn([5], 46))]);
  b.output(b.node('Softmax', [logits], { axis: -1 }), 'float32');
  return b.model([{ domain: '', version: 17 }]);
}

/** Loop: y carried (y += x[i]), scan output y each step; trip count 3, cond carried from the input. */
function loopModel() {
  const body = new GraphBuilder('body');
  const i = body.input('i', 'int64', []);
  const cond = body.input('cond_in', 'bool', []);
  const y = body.input('y_in', 'float32', [2]);
  const xi = body.node('Gather', ['xs', i], { axis: 0 });
  const yOut = body.node('Add', [y, xi]);
  body.output(body.node('Identity', [cond]), 'bool', []);
  body.output(yOut, 'float32', [2]);
  body.output(body.node('Mul', [yOut, yOut]), 'float32', [2]);
  const b = new GraphBuilder('loop');
  b.input('xs', 'float32', [5, 2]);
  b.input('y0', 'float32', [2]);
  const outs = b.nodeOutputs('Loop', [b.initializer('trip', cpu([3], [], 'int64')), b.initializer('cond', cpu([1], [], 'bool')), 'y0'], { body: body.build() }, { outputs: 2 });
  b.output(outs[0]!, 'float32');
  b.output(outs[1]!, 'float32');
  return b.model([{ domain: '', version: 16 }]);
}

/** If on a fed condition; the branches read the outer x. */
function ifModel() {
  const thenB = new GraphBuilder('then');
  thenB.output(thenB.node('Mul', ['x', 'x']), 'float32', [3]);
  const elseB = new GraphBuilder('else');
  elseB.output(elseB.node('Neg', ['x']), 'float32', [3]);
  const b = new GraphBuilder('if');
  b.input('c', 'bool', []);
  b.input('x', 'float32', [3]);
  b.output(b.node('If', ['c'], { then_branch: thenB.build(), else_branch: elseB.build() }), 'float32');
  return b.model([{ domain: '', version: 16 }]);
}

describeBackends('interpreter recurrent, control flow, quantized, contrib ops vs onnxruntime', ({ backend }) => {
  it('LSTM forward with sequence_lens, initial states and peepholes', async () => {
    const spec = lstm('forward');
    await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
  });
  it('LSTM bidirectional', async () => {
    const spec = lstm('bidirectional');
    await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
  });
  it('LSTM reverse, default activations, no optional inputs', async () => {
    const spec = lstm('reverse', { inputs: ['x', 'init:w', 'init:r'], outputs: ['float32', 'float32', 'float32'] });
    await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
  });
  it('GRU linear_before_reset', async () => {
    const spec: OneNode = { op: 'GRU', feeds: { x: randn([S, B, I], 50) }, inputs: ['x', 'init:w', 'init:r', 'init:b'], inits: { w: randn([1, 3 * H, I], 51, 0.5), r: randn([1, 3 * H, H], 52, 0.5), b: randn([1, 6 * H], 53, 0.5) }, attrs: { hidden_size: H, linear_before_reset: 1 }, outputs: ['float32', 'float32'] };
    await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
  });
  it('Loop with carried value and scan output', async () => {
    await expectMatchesOrt(loopModel(), { xs: randn([5, 2], 60), y0: randn([2], 61) }, backend);
  });
  it('If takes either branch reading outer values', async () => {
    const x = randn([3], 62);
    await expectMatchesOrt(ifModel(), { c: cpu([1], [], 'bool'), x }, backend);
    await expectMatchesOrt(ifModel(), { c: cpu([0], [], 'bool'), x }, backend);
  });
  for (const [name, spec] of quantCases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
  it('com.microsoft MatMulNBits 4-bit with packed zero points and bias', async () => {
    const spec = matMulNBits(4, true);
    await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
  });
  it('com.microsoft MatMulNBits 8-bit, default zero point', async () => {
    const spec = matMulNBits(8, false);
    await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
  });
  it('a LeNet-style model end to end', async () => {
    await expectMatchesOrt(lenet(), { x: randn([2, 1, 12, 12], 70) }, backend);
  });
});

describe('interpreter errors', () => {
  it('an unknown op is an UnsupportedOpError naming the op and node', async () => {
    const spec: OneNode = { op: 'NoSuchOp', feeds: { x: randn([2], 1) }, inputs: ['x'], outputs: ['float32'] };
    await expect(runModel(oneNode(spec), spec.feeds, { backend: 'cpu' })).rejects.toThrow(UnsupportedOpError);
    await expect(runModel(oneNode(spec), spec.feeds, { backend: 'cpu' })).rejects.toThrow(/NoSuchOp/);
  });
  it('3-D convolution is refused with a message naming the rank', async () => {
    const spec: OneNode = { op: 'Conv', feeds: { x: randn([1, 1, 3, 3, 3], 1) }, inputs: ['x', 'init:w'], inits: { w: randn([1, 1, 2, 2, 2], 2) }, outputs: ['float32'] };
    await expect(runModel(oneNode(spec), spec.feeds, { backend: 'cpu' })).rejects.toThrow(/3-D spatial input/);
  });
  it('a shape error inside an op is wrapped with the node name', async () => {
    const spec: OneNode = { op: 'MatMul', feeds: { a: randn([2, 3], 1), b: randn([4, 2], 2) }, inputs: ['a', 'b'], outputs: ['float32'] };
    const err = await runModel(oneNode(spec), spec.feeds, { backend: 'cpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterpreterError);
    expect((err as Error).message).toMatch(/MatMul/);
  });
  it('MatMulNBits refuses unsupported bit widths', async () => {
    const spec = matMulNBits(4, false);
    spec.attrs = { ...spec.attrs, bits: 3 };
    await expect(runModel(oneNode(spec), spec.feeds, { backend: 'cpu' })).rejects.toThrow(/bits = 3/);
  });
  it('tensor() helper sanity: inputs are not modified by a run', async () => {
    const x = tensor([1, -2, 3], [3], 'float32', { backend: 'cpu' });
    const spec: OneNode = { op: 'Relu', feeds: { x }, inputs: ['x'], outputs: ['float32'] };
    await runModel(oneNode(spec), spec.feeds, { backend: 'cpu' });
    expect(Array.from(await x.toFloat64())).toEqual([1, -2, 3]);
  });
});
