/** Node-level regressions found on real models, against onnxruntime-node on cpu and webgpu. */
import { expect, it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { tensor } from '@whittle/tensor';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { runModel } from '../src/interpreter/run.js';
import { InterpreterError } from '../src/interpreter/errors.js';
import { cpu, expectMatchesOrt, oneNode, randn } from './interpreter_harness.js';

const I64_MAX = '9223372036854775807';
const i64 = (values: (number | string)[], shape = [values.length]) =>
  tensor(BigInt64Array.from(values, (v) => BigInt(v)), shape, 'int64', { backend: 'cpu' });

describeBackends('interpreter regressions', ({ backend }) => {
  // torch exports x[..., a:] as Slice(starts=[a], ends=[INT64_MAX]) and x[:-a] with starts -INT64_MAX
  it('Slice with torch int64 sentinels as starts/ends (initializers)', async () => {
    const model = oneNode({
      op: 'Slice', feeds: { x: randn([3, 10], 1) }, inputs: ['x', 'init:s', 'init:e', 'init:a'],
      inits: { s: i64(['-' + I64_MAX, 2]), e: i64([2, I64_MAX]), a: i64([0, 1]) }, outputs: ['float32'], opset: 16,
    });
    await expectMatchesOrt(model, { x: randn([3, 10], 1) }, backend);
  });

  it('Slice ends from a Constant node, through Concat with a runtime shape value', async () => {
    const b = new GraphBuilder('t');
    b.input('x', 'float32', [2, 9]);
    const big = b.node('Constant', [], { value: i64([I64_MAX]) });
    const shape = b.node('Shape', ['x']);
    const first = b.node('Gather', [shape, b.initializer('zero', i64([0]))], { axis: 0 });
    const ends = b.node('Concat', [first, big], { axis: 0 });
    const starts = b.initializer('starts', i64([1, 3]));
    const y = b.node('Slice', ['x', starts, ends]);
    b.output(y, 'float32');
    await expectMatchesOrt(b.model([{ domain: '', version: 16 }]), { x: randn([2, 9], 2) }, backend);
  });

  it('Clip with min/max inputs (opset 11) and HardSigmoid with PaddleOCR alpha', async () => {
    const x = randn([2, 3, 4], 3, 4);
    await expectMatchesOrt(oneNode({ op: 'Clip', feeds: { x }, inputs: ['x', 'init:lo', 'init:hi'], inits: { lo: cpu([-1], []), hi: cpu([6], []) }, outputs: ['float32'], opset: 11 }), { x }, backend);
    await expectMatchesOrt(oneNode({ op: 'HardSigmoid', feeds: { x }, inputs: ['x'], attrs: { alpha: 0.1666667, beta: 0.5 }, floatAttrs: ['alpha', 'beta'], outputs: ['float32'], opset: 11 }), { x }, backend);
  });

  it('Resize opset 11 nearest/asymmetric/floor with roi and scales inputs', async () => {
    const x = randn([1, 2, 3, 5], 4);
    const model = oneNode({
      op: 'Resize', feeds: { x }, inputs: ['x', 'init:roi', 'init:scales'],
      inits: { roi: cpu([], [0]), scales: cpu([1, 1, 2, 2], [4]) },
      attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, outputs: ['float32'], opset: 11,
    });
    await expectMatchesOrt(model, { x }, backend);
  });

  it('ConvTranspose 2x2 stride 2 with output_padding', async () => {
    const x = randn([1, 4, 3, 3], 5);
    const model = oneNode({
      op: 'ConvTranspose', feeds: { x }, inputs: ['x', 'init:w', 'init:b'], inits: { w: randn([4, 2, 2, 2], 6), b: randn([2], 7) },
      attrs: { strides: [2, 2], pads: [0, 0, 0, 0], output_padding: [1, 1], kernel_shape: [2, 2] }, outputs: ['float32'], opset: 11,
    });
    await expectMatchesOrt(model, { x }, backend);
  });

  it('depthwise Conv 5x5 (group = channels)', async () => {
    const x = randn([1, 6, 7, 9], 8);
    const model = oneNode({
      op: 'Conv', feeds: { x }, inputs: ['x', 'init:w', 'init:b'], inits: { w: randn([6, 1, 5, 5], 9), b: randn([6], 10) },
      attrs: { group: 6, pads: [2, 2, 2, 2], strides: [2, 1] }, outputs: ['float32'], opset: 11,
    });
    await expectMatchesOrt(model, { x }, backend);
  });

  it('a GPU computation with int64 values beyond 32 bits still fails clearly', async () => {
    if (backend !== 'webgpu') return;
    const b = new GraphBuilder('t');
    b.input('x', 'int64', [2, 40]);
    const y = b.node('Add', ['x', b.initializer('big', i64(new Array<string>(80).fill('4000000000'), [2, 40]))]);
    b.output(y, 'int64');
    const model = b.model([{ domain: '', version: 16 }]);
    const x = i64(new Array<number>(80).fill(1), [2, 40]);
    const run = runModel(model, { x }, { backend });
    await expect(run).rejects.toThrow(InterpreterError);
    await expect(runModel(model, { x }, { backend })).rejects.toThrow(/input 'big'.*does not fit.*run the model on the cpu backend/);
  });
});
