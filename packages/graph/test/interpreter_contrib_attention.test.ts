import { describe, expect, it } from 'vitest';
import * as T from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { runModel } from '../src/interpreter/run.js';
import { cpu, expectMatchesOrt, oneNode, randn, runOrt, type OneNode } from './interpreter_harness.js';

/**
 * The attention family of onnxruntime's contrib ops (GroupQueryAttention, MultiHeadAttention,
 * Attention), ONNX's opset-23 Attention and SkipSimplifiedLayerNormalization, each run in
 * Whittle's interpreter (cpu and webgpu) and in onnxruntime-node with its optional inputs and
 * attributes; outputs must agree.
 */
const i32 = (values: number[], shape: number[]): T.Tensor => cpu(values, shape, 'int32');
const ms = (spec: Omit<OneNode, 'domain'>): OneNode => ({ ...spec, domain: 'com.microsoft' });
const GQA_OUT: OneNode['outputs'] = ['float32', 'float32', 'float32'];

/** GroupQueryAttention with 4 query heads over 2 kv heads of size 8 (32 with rotary: onnxruntime wants a head size and a cache width that are multiples of 16 and 8). */
function gqa(name: string, opts: { b: number; s: number; past: number; seqlens: number[]; total: number; packed?: boolean; rotary?: boolean; attrs?: OneNode['attrs']; seed: number }): [string, OneNode] {
  const { b, s, past, seed } = opts;
  const h = opts.rotary ? 32 : 8;
  const feeds: Record<string, T.Tensor> = opts.packed ? { q: randn([b, s, 8 * h], seed) } : { q: randn([b, s, 4 * h], seed), k: randn([b, s, 2 * h], seed + 1), v: randn([b, s, 2 * h], seed + 2) };
  if (past >= 0) Object.assign(feeds, { pk: randn([b, 2, past, h], seed + 3), pv: randn([b, 2, past, h], seed + 4) });
  Object.assign(feeds, { sk: i32(opts.seqlens, [b]), tl: i32([opts.total], []) });
  const inputs = [
    'q',
    opts.packed ? '' : 'k',
    opts.packed ? '' : 'v',
    past >= 0 ? 'pk' : '',
    past >= 0 ? 'pv' : '',
    'sk',
    'tl',
    ...(opts.rotary ? ['init:cos', 'init:sin'] : []),
  ];
  // partial rotary: 16 of the 32 channels
  const angles = Array.from({ length: 16 * 8 }, (_, i) => Math.floor(i / 8) / 10000 ** ((i % 8) / 8));
  const inits = opts.rotary ? { cos: cpu(angles.map(Math.cos), [16, 8]), sin: cpu(angles.map(Math.sin), [16, 8]) } : undefined;
  const attrs = { num_heads: 4, kv_num_heads: 2, ...(opts.rotary ? { do_rotary: 1 } : {}), ...opts.attrs };
  return [name, ms({ op: 'GroupQueryAttention', feeds, inputs, ...(inits ? { inits } : {}), attrs, floatAttrs: ['scale', 'softcap'], outputs: GQA_OUT })];
}

const gqaCases: [string, OneNode][] = [
  gqa('prompt without past', { b: 1, s: 5, past: -1, seqlens: [4], total: 5, seed: 1 }),
  gqa('prompt with an empty past and rotary', { b: 1, s: 5, past: 0, seqlens: [4], total: 5, rotary: true, seed: 2 }),
  gqa('packed QKV prompt, interleaved rotary', { b: 2, s: 4, past: 0, seqlens: [3, 3], total: 4, packed: true, rotary: true, attrs: { rotary_interleaved: 1 }, seed: 3 }),
  gqa('one token after a past, rotary', { b: 1, s: 1, past: 4, seqlens: [4], total: 5, rotary: true, seed: 4 }),
  gqa('batch 2, one token after pasts of different lengths (padding)', { b: 2, s: 1, past: 5, seqlens: [5, 3], total: 6, rotary: true, seed: 5 }),
  gqa('packed QKV, one token, batch 2 with padding', { b: 2, s: 1, past: 4, seqlens: [4, 2], total: 5, packed: true, seed: 6 }),
  gqa('scale and softcap', { b: 1, s: 6, past: 0, seqlens: [5], total: 6, attrs: { scale: 0.7, softcap: 3 }, seed: 7 }),
  gqa('local window', { b: 1, s: 6, past: 0, seqlens: [5], total: 6, attrs: { local_window_size: 2 }, seed: 7 }),
  gqa('local window over a past', { b: 1, s: 1, past: 6, seqlens: [6], total: 7, rotary: true, attrs: { local_window_size: 3 }, seed: 8 }),
];

describeBackends('GroupQueryAttention matches onnxruntime', ({ backend }) => {
  for (const [name, spec] of gqaCases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend, 1e-4, 2e-5);
    });
  }

  it('batch 2 prompt with right padding: present and every unpadded row agree', async () => {
    const [, spec] = gqa('padded prompt', { b: 2, s: 4, past: 0, seqlens: [3, 1], total: 4, rotary: true, seed: 9 });
    const model = oneNode(spec);
    const want = await runOrt(model, spec.feeds);
    const got = await runModel(model, spec.feeds, { backend });
    const outs = model.graph.outputs.map((o) => got.get(o.name)!);
    // rows past a sequence's length are padding: onnxruntime leaves them unspecified
    const valid = (i: number): boolean => Math.floor(i / 128) % 4 <= [3, 1][Math.floor(i / 512)]!;
    for (let o = 0; o < 3; o++) {
      expect([...outs[o]!.shape]).toEqual(want[o]!.shape);
      const g = await outs[o]!.toFloat64();
      want[o]!.data.forEach((w, i) => {
        if (o === 0 && !valid(i)) return;
        expect(Math.abs(g[i]! - w), `output ${o}[${i}]`).toBeLessThanOrEqual(2e-5 + 1e-4 * Math.abs(w));
      });
    }
  });
});
