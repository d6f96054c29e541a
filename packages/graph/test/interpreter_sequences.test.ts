import { it } from 'vitest';
import { describeBackends } from '@whittle/testing';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { cpu, expectMatchesOrt, randn } from './interpreter_harness.js';

/**
 * The sequence ops TorchScript exports of loops use, chained the way exporters chain them, against
 * onnxruntime-node on cpu and webgpu: SplitToSequence (sizes, chunk, keepdims 0), SequenceErase,
 * SequenceInsert (front, back, negative), SequenceEmpty and ConcatFromSequence (concat and stack).
 */
function chainModel() {
  const b = new GraphBuilder('sequences');
  b.input('x', 'float32', [6, 4]);
  b.input('y', 'float32', [2, 4]);
  const i64 = (name: string, v: number[], shape: number[]): string => b.initializer(name, cpu(v, shape, 'int64'));
  // [6,4] → sizes 1,3,2 along 0 → erase the middle → insert y in front and x's last chunk at -1
  const parts = b.node('SplitToSequence', ['x', i64('sizes', [1, 3, 2], [3])], { axis: 0 });
  const erased = b.node('SequenceErase', [parts, i64('one', [1], [])]);
  const front = b.node('SequenceInsert', [erased, 'y', i64('zero', [0], [])]);
  const chunks = b.node('SplitToSequence', ['x', i64('two', [2], [])], { axis: 0 });
  const last = b.node('SequenceAt', [chunks, i64('minus1', [-1], [])]);
  const back = b.node('SequenceInsert', [front, last, i64('minus1b', [-1], [])]);
  b.output(b.node('ConcatFromSequence', [back], { axis: 0 }), 'float32');
  // columns of x squeezed to [6] each, stacked on a new last axis: x itself
  const cols = b.node('SplitToSequence', ['x'], { axis: 1, keepdims: 0 });
  b.output(b.node('ConcatFromSequence', [cols], { axis: -1, new_axis: 1 }), 'float32');
  // an empty sequence grown by appends
  const grown = b.node('SequenceInsert', [b.node('SequenceInsert', [b.node('SequenceEmpty', [], { dtype: 1 }), 'y']), 'y']);
  b.output(b.node('ConcatFromSequence', [grown], { axis: 1 }), 'float32');
  return b.model([{ domain: '', version: 17 }]);
}

describeBackends('sequence ops match onnxruntime', ({ backend }) => {
  it('SplitToSequence, SequenceErase/Insert/Empty, ConcatFromSequence', async () => {
    await expectMatchesOrt(chainModel(), { x: randn([6, 4], 1), y: randn([2, 4], 2) }, backend);
  });
});
