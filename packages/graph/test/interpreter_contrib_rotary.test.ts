import { describe, expect, it } from 'vitest';
import * as T from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { cpu, expectMatchesOrt, oneNode, randInt, randn, type OneNode } from './interpreter_harness.js';
import { worstGradientError } from './gradient_check.js';
import { runModel } from '../src/interpreter/run.js';

/**
 * Rotary position embedding in onnxruntime's com.microsoft form and ONNX's opset-23 form, run in
 * Whittle's interpreter (cpu and webgpu) and in onnxruntime-node; outputs must agree. Every
 * input layout (3-D, 4-D), position_ids form ([B, S], one-element offset, none) and attribute
 * (interleaved, num_heads, partial rotary_embedding_dim, scale) is covered.
 */
const ms = (spec: Omit<OneNode, 'domain' | 'outputs'>): OneNode => ({ ...spec, domain: 'com.microsoft', outputs: ['float32'] });
const ids = (b: number, s: number, seed: number): T.Tensor => randInt([b, s], seed, 0, 9, 'int64');
const cases: [string, OneNode][] = [
  ['com.microsoft 3-D, position_ids [B, S], full rotary from the cache width', ms({ op: 'RotaryEmbedding', feeds: { x: randn([2, 3, 16], 1), p: ids(2, 3, 2) }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 4], 3), s: randn([10, 4], 4) } })],
  ['com.microsoft 3-D interleaved with num_heads', ms({ op: 'RotaryEmbedding', feeds: { x: randn([2, 3, 16], 5), p: ids(2, 3, 6) }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 4], 7), s: randn([10, 4], 8) }, attrs: { interleaved: 1, num_heads: 2 } })],
  ['com.microsoft 3-D partial rotary, offset position id', ms({ op: 'RotaryEmbedding', feeds: { x: randn([2, 4, 24], 9), p: cpu([3], [1], 'int64') }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 2], 10), s: randn([10, 2], 11) }, attrs: { num_heads: 3, rotary_embedding_dim: 4 } })],
  ['com.microsoft 3-D partial rotary interleaved with scale', ms({ op: 'RotaryEmbedding', feeds: { x: randn([1, 5, 24], 12), p: ids(1, 5, 13) }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 3], 14), s: randn([10, 3], 15) }, attrs: { num_heads: 3, rotary_embedding_dim: 6, interleaved: 1, scale: 0.5 }, floatAttrs: ['scale'] })],
  ['com.microsoft 4-D [B, N, S, H]', ms({ op: 'RotaryEmbedding', feeds: { x: randn([2, 3, 4, 8], 16), p: ids(2, 4, 17) }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 4], 18), s: randn([10, 4], 19) } })],
  ['com.microsoft 4-D partial interleaved', ms({ op: 'RotaryEmbedding', feeds: { x: randn([2, 2, 3, 8], 20), p: ids(2, 3, 21) }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 2], 22), s: randn([10, 2], 23) }, attrs: { num_heads: 2, rotary_embedding_dim: 4, interleaved: 1 } })],
  ['opset 23 4-D with position_ids', { op: 'RotaryEmbedding', opset: 23, feeds: { x: randn([2, 3, 4, 8], 24), p: ids(2, 4, 25) }, inputs: ['x', 'init:c', 'init:s', 'p'], inits: { c: randn([10, 4], 26), s: randn([10, 4], 27) }, outputs: ['float32'] }],
  ['opset 23 3-D partial interleaved', { op: 'RotaryEmbedding', opset: 23, feeds: { x: randn([2, 3, 24], 28), p: ids(2, 3, 29) }, inputs: ['x', 'init:c', 'init:s', 'p'], inits: { c: randn([10, 2], 30), s: randn([10, 2], 31) }, attrs: { num_heads: 3, rotary_embedding_dim: 4, interleaved: 1 }, outputs: ['float32'] }],
  ['opset 23 without position_ids (caches [B, S, dim / 2])', { op: 'RotaryEmbedding', opset: 23, feeds: { x: randn([2, 2, 3, 8], 32) }, inputs: ['x', 'init:c', 'init:s'], inits: { c: randn([2, 3, 4], 33), s: randn([2, 3, 4], 34) }, outputs: ['float32'] }],
];

describeBackends('RotaryEmbedding matches onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
});

describe('RotaryEmbedding gradients', () => {
  it('match central differences (interleaved, partial rotary, cos and sin caches too)', async () => {
    const spec = ms({ op: 'RotaryEmbedding', feeds: { p: ids(1, 3, 40) }, inputs: ['init:x', 'p', 'init:c', 'init:s'], inits: { x: randn([1, 3, 12], 41), c: randn([10, 2], 42), s: randn([10, 2], 43) }, attrs: { num_heads: 2, rotary_embedding_dim: 4, interleaved: 1 } });
    expect(await worstGradientError(oneNode(spec), spec.feeds, ['x', 'c', 's'])).toBeLessThan(2e-3);
  });
});

describe('RotaryEmbedding refuses malformed inputs naming the node and the problem', () => {
  it('position_ids of another shape, a hidden size the cache does not divide', async () => {
    const run = (x: T.Tensor, p: T.Tensor) => {
      const spec = ms({ op: 'RotaryEmbedding', feeds: { x, p }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 4], 60), s: randn([10, 4], 61) } });
      return runModel(oneNode(spec), spec.feeds, { backend: 'cpu' });
    };
    await expect(run(randn([2, 3, 16], 62), ids(3, 2, 63))).rejects.toThrow(/RotaryEmbedding.*position_ids must be \[2, 3\] or a one-element offset; they are \[3, 2\]/);
    await expect(run(randn([2, 3, 12], 64), ids(2, 3, 65))).rejects.toThrow(/hidden size 12 is not a multiple of the rotary dim 8/);
  });
});
