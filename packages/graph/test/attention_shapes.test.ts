/**
 * Shape inference and the multiply-add count through the attention-family ops: every output's
 * inferred shape equals what onnxruntime-node returns, and each op counts the multiply-adds of the
 * matmuls it stands for.
 */
import { describe, expect, it } from 'vitest';
import { inferValueTypes } from '../src/analysis/shape/infer.js';
import { summarize } from '../src/analysis/summarize.js';
import { genaiBuilderDecoder } from '@whittle/testing/exporters';
import { cpu, oneNode, randInt, randn, type OneNode, itInfersOrtOutputTypes } from './interpreter_harness.js';

const MS = 'com.microsoft';
const F = 'float32' as const;
const i32 = (values: number[], shape: number[]) => cpu(values, shape, 'int32');
const CASES: [string, OneNode][] = [
  ['RotaryEmbedding (com.microsoft)', { op: 'RotaryEmbedding', domain: MS, feeds: { x: randn([2, 3, 16], 1), p: randInt([2, 3], 2, 0, 9, 'int64') }, inputs: ['x', 'p', 'init:c', 'init:s'], inits: { c: randn([10, 4], 3), s: randn([10, 4], 4) }, outputs: [F] }],
  ['RotaryEmbedding (opset 23)', { op: 'RotaryEmbedding', opset: 23, feeds: { x: randn([2, 2, 3, 8], 5) }, inputs: ['x', 'init:c', 'init:s'], inits: { c: randn([2, 3, 4], 6), s: randn([2, 3, 4], 7) }, outputs: [F] }],
  ['SkipSimplifiedLayerNormalization, four outputs', { op: 'SkipSimplifiedLayerNormalization', domain: MS, feeds: { x: randn([2, 3, 8], 8), s: randn([2, 3, 8], 9) }, inputs: ['x', 's', 'init:g'], inits: { g: randn([8], 10) }, outputs: [F, F, F, F] }],
  ['GroupQueryAttention prompt', { op: 'GroupQueryAttention', domain: MS, feeds: { q: randn([1, 4, 32], 11), k: randn([1, 4, 16], 12), v: randn([1, 4, 16], 13), sk: i32([3], [1]), tl: i32([4], []) }, inputs: ['q', 'k', 'v', '', '', 'sk', 'init:tl'], inits: { tl: i32([4], []) }, attrs: { num_heads: 4, kv_num_heads: 2 }, outputs: [F, F, F] }],
  ['GroupQueryAttention packed, one token after a past', { op: 'GroupQueryAttention', domain: MS, feeds: { q: randn([2, 1, 64], 14), pk: randn([2, 2, 4, 8], 15), pv: randn([2, 2, 4, 8], 16), sk: i32([4, 2], [2]) }, inputs: ['q', '', '', 'pk', 'pv', 'sk', 'init:tl'], inits: { tl: i32([5], []) }, attrs: { num_heads: 4, kv_num_heads: 2 }, outputs: [F, F, F] }],
  ['MultiHeadAttention with past', { op: 'MultiHeadAttention', domain: MS, feeds: { q: randn([2, 3, 8], 17), k: randn([2, 3, 8], 18), v: randn([2, 3, 8], 19), pk: randn([2, 2, 2, 4], 20), pv: randn([2, 2, 2, 4], 21) }, inputs: ['q', 'k', 'v', '', '', '', 'pk', 'pv'], attrs: { num_heads: 2 }, outputs: [F, F, F] }],
  ['Attention (com.microsoft) with past', { op: 'Attention', domain: MS, feeds: { x: randn([2, 4, 6], 22), p: randn([2, 2, 2, 3, 2], 23) }, inputs: ['x', 'init:w', 'init:b', '', 'p'], inits: { w: randn([6, 12], 24), b: randn([12], 25) }, attrs: { num_heads: 2, unidirectional: 1 }, outputs: [F, F] }],
  ['Attention (opset 23) 3-D with past and qk', { op: 'Attention', opset: 23, feeds: { q: randn([1, 3, 16], 26), k: randn([1, 3, 8], 27), v: randn([1, 3, 8], 28), pk: randn([1, 2, 2, 4], 29), pv: randn([1, 2, 2, 4], 30) }, inputs: ['q', 'k', 'v', '', 'pk', 'pv'], attrs: { q_num_heads: 4, kv_num_heads: 2 }, outputs: [F, F, F, F] }],
];

describe('shape rules of the attention-family ops', () => {
  itInfersOrtOutputTypes(CASES);

  it('carry the model-builder decoder\'s symbolic dims from input_ids and attention_mask to logits and presents', () => {
    const { model } = genaiBuilderDecoder({ seed: 1, layers: 1 });
    const types = inferValueTypes(model.graph, { opset: 21, strict: true }).types;
    const shape = (name: string) => {
      const t = types.get(name);
      return t?.kind === 'tensor' ? t.shape : undefined;
    };
    expect(shape('logits')).toEqual(['batch_size', 'sequence_length', 256]);
    expect(shape('present.0.key')).toEqual(['batch_size', 2, 'total_sequence_length', 16]);
  });

  it('count the multiply-adds of q·kᵀ and probabilities·v (and Attention\'s projection)', () => {
    const macs = (spec: OneNode): number => summarize(oneNode(spec)).macs;
    // GroupQueryAttention prompt: 4 heads × 4 queries × 4 keys × (8 + 8)
    expect(macs(CASES[3]![1])).toBe(4 * 4 * 4 * 16);
    // MultiHeadAttention: batch 2 × 2 heads × 3 queries × 5 keys × (4 + 4)
    expect(macs(CASES[5]![1])).toBe(2 * 2 * 3 * 5 * 8);
    // Attention: projection 2·4·6·12, then 2 heads × 4 queries × 7 keys × (2 + 2) per batch row
    expect(macs(CASES[6]![1])).toBe(2 * 4 * 6 * 12 + 2 * 2 * 4 * 7 * 4);
  });
});
