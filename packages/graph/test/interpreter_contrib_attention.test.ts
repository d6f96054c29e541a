import { describe, expect, it } from 'vitest';
import * as T from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { runModel } from '../src/interpreter/run.js';
import { cpu, expectMatchesOrt, oneNode, randn, runOrt, type OneNode } from './interpreter_harness.js';
import { worstGradientError } from './gradient_check.js';

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
function gqa(name: string, opts: { b: number; s: number; past: number; seqlens: number[]; total: number; packed?: boolean; rotary?: boolean; positionIds?: number[]; bias?: number[]; sink?: boolean; attrs?: OneNode['attrs']; seed: number }): [string, OneNode] {
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
    ...(opts.positionIds ? ['pos'] : []),
  ];
  if (opts.positionIds) feeds['pos'] = cpu(opts.positionIds, [b, s], 'int64');
  if (opts.bias || opts.sink) {
    while (inputs.length < 9) inputs.push('');
    if (inputs.length < 10) inputs.push('');
    inputs.push(opts.bias ? 'ab' : '');
    if (opts.bias) feeds['ab'] = randn(opts.bias, seed + 5);
    if (opts.sink) {
      inputs.push('hs');
      feeds['hs'] = randn([4], seed + 6);
    }
  }
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
  gqa('explicit position_ids', { b: 2, s: 1, past: 4, seqlens: [4, 2], total: 5, rotary: true, positionIds: [7, 3], seed: 10 }),
  gqa('attention_bias [B, N, S, T]', { b: 2, s: 3, past: 0, seqlens: [2, 2], total: 3, bias: [2, 4, 3, 3], seed: 11 }),
  gqa('attention_bias broadcast over a past, softcap', { b: 1, s: 1, past: 4, seqlens: [4], total: 5, bias: [1, 1, 1, 5], attrs: { softcap: 2 }, seed: 12 }),
  gqa('smooth_softmax', { b: 1, s: 4, past: 0, seqlens: [3], total: 4, attrs: { smooth_softmax: 1 }, seed: 13 }),
  gqa('head_sink after a past', { b: 2, s: 1, past: 3, seqlens: [3, 1], total: 4, sink: true, seed: 14 }),
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

/** float16 (onnx-community q4f16 / fp16 exports): a cached step with rotary, and a prompt with packed QKV. */
const f16 = (t: T.Tensor): T.Tensor => T.cast(t, 'float16');
const fp16Cases: [string, OneNode][] = [gqa('float16, one token after a past, rotary', { b: 1, s: 1, past: 4, seqlens: [4], total: 5, rotary: true, seed: 90 }), gqa('float16 packed QKV prompt', { b: 1, s: 4, past: -1, seqlens: [3], total: 4, packed: true, seed: 91 })].map(([name, spec]) => [
  name,
  {
    ...spec,
    feeds: Object.fromEntries(Object.entries(spec.feeds).map(([k, v]) => [k, v.dtype === 'float32' ? f16(v) : v])),
    ...(spec.inits ? { inits: Object.fromEntries(Object.entries(spec.inits).map(([k, v]) => [k, f16(v)])) } : {}),
    outputs: ['float16', 'float16', 'float16'],
  },
]);

describe('GroupQueryAttention in float16 matches onnxruntime', () => {
  for (const [name, spec] of fp16Cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, 'cpu', 5e-3, 5e-3);
    });
  }
});

describe('GroupQueryAttention gradients', () => {
  it('match central differences for a prompt without past (rotary, grouped heads)', async () => {
    const angles = Array.from({ length: 8 * 2 }, (_, i) => Math.floor(i / 2) / 100 ** ((i % 2) / 2));
    const spec = ms({
      op: 'GroupQueryAttention',
      feeds: { sk: i32([2], [1]), tl: i32([3], []) },
      inputs: ['init:q', 'init:k', 'init:v', '', '', 'sk', 'tl', 'init:cos', 'init:sin'],
      inits: { q: randn([1, 3, 16], 80), k: randn([1, 3, 8], 81), v: randn([1, 3, 8], 82), cos: cpu(angles.map(Math.cos), [8, 2]), sin: cpu(angles.map(Math.sin), [8, 2]) },
      attrs: { num_heads: 4, kv_num_heads: 2, do_rotary: 1 },
      outputs: GQA_OUT,
    });
    expect(await worstGradientError(oneNode(spec), spec.feeds, ['q', 'k', 'v'])).toBeLessThan(2e-3);
  });
});

/** MultiHeadAttention with 2 heads of size 4 over 3 queries (5 keys in cross attention). */
const mha = (name: string, feeds: Record<string, T.Tensor>, inputs: string[], attrs: OneNode['attrs'] = {}, outputs: OneNode['outputs'] = ['float32'], inits?: Record<string, T.Tensor>): [string, OneNode] => [
  name,
  ms({ op: 'MultiHeadAttention', feeds, inputs, attrs: { num_heads: 2, ...attrs }, floatAttrs: ['scale', 'mask_filter_value'], outputs, ...(inits ? { inits } : {}) }),
];
const q3 = randn([2, 3, 8], 20);
const k5 = randn([2, 5, 8], 21);
const v5 = randn([2, 5, 6], 22);
const mhaCases: [string, OneNode][] = [
  mha('cross attention', { q: q3, k: k5, v: v5 }, ['q', 'k', 'v']),
  mha('bias, scale', { q: q3, k: k5, v: v5 }, ['q', 'k', 'v', 'init:bias'], { scale: 0.3 }, ['float32'], { bias: randn([22], 23) }),
  mha('key_padding_mask [B, T] with mask_filter_value', { q: q3, k: k5, v: v5, m: i32([1, 1, 1, 0, 0, 1, 1, 1, 1, 0], [2, 5]) }, ['q', 'k', 'v', '', 'm'], { mask_filter_value: -50 }),
  mha('key_padding_mask lengths [B]', { q: q3, k: k5, v: v5, m: i32([2, 4], [2]) }, ['q', 'k', 'v', '', 'm']),
  mha('attention_bias', { q: q3, k: k5, v: v5, ab: randn([1, 2, 3, 5], 24) }, ['q', 'k', 'v', '', '', 'ab']),
  mha('self attention with past, unidirectional, presents', { q: q3, k: randn([2, 3, 8], 25), v: randn([2, 3, 8], 26), pk: randn([2, 2, 2, 4], 27), pv: randn([2, 2, 2, 4], 28) }, ['q', 'k', 'v', '', '', '', 'pk', 'pv'], { unidirectional: 1 }, ['float32', 'float32', 'float32']),
  mha('padding mask over past and new keys, unidirectional', { q: q3, k: randn([2, 3, 8], 29), v: randn([2, 3, 8], 30), m: i32([0, 1, 1, 1, 1, 1, 1, 1, 1, 0], [2, 5]), pk: randn([2, 2, 2, 4], 31), pv: randn([2, 2, 2, 4], 32) }, ['q', 'k', 'v', '', 'm', '', 'pk', 'pv'], { unidirectional: 1 }, ['float32', 'float32', 'float32']),
  mha('key and value in heads [B, N, L, H]', { q: q3, k: randn([2, 2, 5, 4], 33), v: randn([2, 2, 5, 4], 34) }, ['q', 'k', 'v']),
];

describeBackends('MultiHeadAttention matches onnxruntime', ({ backend }) => {
  for (const [name, spec] of mhaCases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend, 1e-4, 2e-5);
    });
  }
});

/** com.microsoft Attention over x [2, 4, 6] with 2 heads (BERT / GPT-2 fused form); onnxruntime's CPU kernel crashes without a bias, so every case has one. */
const att = (name: string, extra: Record<string, T.Tensor>, inputs: string[], attrs: OneNode['attrs'] = {}, opts: { width?: number; outputs?: OneNode['outputs'] } = {}): [string, OneNode] => {
  const width = opts.width ?? 12;
  return [
    name,
    ms({
      op: 'Attention',
      feeds: { x: randn([2, 4, 6], 40), ...extra },
      inputs: ['x', 'init:w', 'init:b', ...inputs],
      inits: { w: randn([6, width], 41, 0.5), b: randn([width], 42) },
      attrs: { num_heads: 2, ...attrs },
      floatAttrs: ['scale', 'mask_filter_value'],
      outputs: opts.outputs ?? ['float32'],
    }),
  ];
};
const attCases: [string, OneNode][] = [
  att('no mask', {}, []),
  att('raw 2-D mask [B, S] (BERT)', { m: i32([1, 1, 1, 0, 1, 1, 0, 0], [2, 4]) }, ['m']),
  att('1-D end positions [B]', { m: i32([3, 2], [2]) }, ['m']),
  att('1-D end and start positions [2B]', { m: i32([4, 3, 1, 0], [4]) }, ['m']),
  att('3-D mask [B, S, T]', { m: cpu(Array.from({ length: 32 }, (_, i) => (i % 3 === 1 ? 0 : 1)), [2, 4, 4], 'int32') }, ['m']),
  att('unidirectional with past and present (GPT-2)', { p: randn([2, 2, 2, 3, 2], 43), m: i32([1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1], [2, 7]) }, ['m', 'p'], { unidirectional: 1 }, { outputs: ['float32', 'float32'] }),
  att('qkv_hidden_sizes, scale, mask_filter_value, attention_bias', { m: i32([1, 1, 1, 0, 1, 1, 0, 1], [2, 4]), ab: randn([2, 2, 4, 4], 44) }, ['m', '', 'ab'], { qkv_hidden_sizes: [4, 4, 6], scale: 0.4, mask_filter_value: -100 }, { width: 14 }),
];

describeBackends('com.microsoft Attention matches onnxruntime', ({ backend }) => {
  for (const [name, spec] of attCases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend, 1e-4, 2e-5);
    });
  }
});

/** ONNX opset-23 Attention. */
const onnxAtt = (name: string, feeds: Record<string, T.Tensor>, inputs: string[], attrs: OneNode['attrs'] = {}, outputs: OneNode['outputs'] = ['float32']): [string, OneNode] => [
  name,
  { op: 'Attention', opset: 23, feeds, inputs, attrs, floatAttrs: ['scale', 'softcap'], outputs },
];
const onnxAttCases: [string, OneNode][] = [
  onnxAtt('4-D, float mask', { q: randn([2, 2, 3, 4], 50), k: randn([2, 2, 5, 4], 51), v: randn([2, 2, 5, 3], 52), m: randn([3, 5], 53) }, ['q', 'k', 'v', 'm']),
  onnxAtt('3-D grouped heads, boolean mask, scale', { q: randn([2, 3, 16], 54), k: randn([2, 5, 8], 55), v: randn([2, 5, 8], 56), m: cpu([1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1], [3, 5], 'bool') }, ['q', 'k', 'v', 'm'], { q_num_heads: 4, kv_num_heads: 2, scale: 0.3 }),
  onnxAtt('causal with past, presents', { q: randn([1, 2, 3, 4], 57), k: randn([1, 2, 3, 4], 58), v: randn([1, 2, 3, 4], 59), pk: randn([1, 2, 2, 4], 60), pv: randn([1, 2, 2, 4], 61) }, ['q', 'k', 'v', '', 'pk', 'pv'], { is_causal: 1 }, ['float32', 'float32', 'float32']),
  onnxAtt('softcap, qk output after softmax', { q: randn([1, 2, 3, 4], 62), k: randn([1, 2, 4, 4], 63), v: randn([1, 2, 4, 4], 64) }, ['q', 'k', 'v'], { softcap: 2, qk_matmul_output_mode: 3 }, ['float32', 'float32', 'float32', 'float32']),
  onnxAtt('softcap with a mask, qk output soft-capped', { q: randn([1, 2, 3, 4], 69), k: randn([1, 2, 4, 4], 70), v: randn([1, 2, 4, 4], 71), m: randn([1, 1, 3, 4], 72) }, ['q', 'k', 'v', 'm'], { softcap: 0.5, qk_matmul_output_mode: 1 }, ['float32', 'float32', 'float32', 'float32']),
  onnxAtt('softcap, causal, qk output masked', { q: randn([1, 2, 3, 4], 73), k: randn([1, 2, 3, 4], 74), v: randn([1, 2, 3, 4], 75), m: randn([1, 1, 3, 3], 76) }, ['q', 'k', 'v', 'm'], { softcap: 0.5, is_causal: 1, qk_matmul_output_mode: 2 }, ['float32', 'float32', 'float32', 'float32']),
  onnxAtt('boolean mask, qk output masked', { q: randn([1, 2, 3, 4], 77), k: randn([1, 2, 4, 4], 78), v: randn([1, 2, 4, 4], 79), m: cpu([1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1], [3, 4], 'bool') }, ['q', 'k', 'v', 'm'], { qk_matmul_output_mode: 2 }, ['float32', 'float32', 'float32', 'float32']),
  ['opset 24 nonpad_kv_seqlen with a float mask, qk output masked', { op: 'Attention', opset: 24, feeds: { q: randn([2, 2, 3, 4], 80), k: randn([2, 2, 5, 4], 81), v: randn([2, 2, 5, 4], 82), m: randn([3, 5], 83), n: cpu([3, 5], [2], 'int64') }, inputs: ['q', 'k', 'v', 'm', '', '', 'n'], attrs: { qk_matmul_output_mode: 2 }, outputs: ['float32', 'float32', 'float32', 'float32'] }],
  onnxAtt('qk output before the mask', { q: randn([1, 2, 3, 4], 65), k: randn([1, 2, 4, 4], 66), v: randn([1, 2, 4, 4], 67), m: randn([1, 1, 3, 4], 68) }, ['q', 'k', 'v', 'm'], { qk_matmul_output_mode: 0 }, ['float32', 'float32', 'float32', 'float32']),
];

describeBackends('ONNX Attention (opsets 23, 24) matches onnxruntime', ({ backend }) => {
  for (const [name, spec] of onnxAttCases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend, 1e-4, 2e-5);
    });
  }
});

const sslnCases: [string, OneNode][] = [
  ['input_skip_bias_sum and inv_std_var, default epsilon', ms({ op: 'SkipSimplifiedLayerNormalization', feeds: { x: randn([2, 3, 8], 70), s: randn([2, 3, 8], 71) }, inputs: ['x', 's', 'init:g'], inits: { g: randn([8], 72) }, outputs: ['float32', 'float32', 'float32', 'float32'] })],
  ['RMSNormalization (opset 23) axis 1, epsilon', { op: 'RMSNormalization', opset: 23, feeds: { x: randn([2, 3, 8], 77) }, inputs: ['x', 'init:g'], inits: { g: randn([3, 8], 78) }, attrs: { axis: 1, epsilon: 0.01 }, floatAttrs: ['epsilon'], outputs: ['float32'] }],
  ['bias, epsilon, skip [S, H]', ms({ op: 'SkipSimplifiedLayerNormalization', feeds: { x: randn([2, 3, 8], 73), s: randn([3, 8], 74) }, inputs: ['x', 's', 'init:g', 'init:b'], inits: { g: randn([8], 75), b: randn([8], 76) }, attrs: { epsilon: 0.1 }, floatAttrs: ['epsilon'], outputs: ['float32'] })],
];

describeBackends('SkipSimplifiedLayerNormalization and RMSNormalization match onnxruntime', ({ backend }) => {
  for (const [name, spec] of sslnCases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
});

describe('attention ops refuse malformed nodes naming the node and the problem', () => {
  it('GroupQueryAttention: heads that do not group, seqlens_k of another batch; MultiHeadAttention: packed forms', async () => {
    const [, ok] = gqa('bad', { b: 1, s: 2, past: -1, seqlens: [1], total: 2, seed: 95 });
    const bad = (attrs: OneNode['attrs'], feeds: Record<string, T.Tensor> = ok.feeds) => runModel(oneNode({ ...ok, feeds, attrs: { ...ok.attrs, ...attrs } }), feeds, { backend: 'cpu' });
    await expect(bad({ num_heads: 3 })).rejects.toThrow(/GroupQueryAttention.*num_heads 3 must be a positive multiple of kv_num_heads 2/);
    await expect(bad({}, { ...ok.feeds, sk: i32([1, 1], [2]) })).rejects.toThrow(/seqlens_k has 2 values for batch 1/);
    const packed = ms({ op: 'MultiHeadAttention', feeds: { q: randn([1, 3, 2, 3, 4], 96) }, inputs: ['q'], attrs: { num_heads: 2 }, outputs: ['float32'] });
    await expect(runModel(oneNode(packed), packed.feeds, { backend: 'cpu' })).rejects.toThrow(/MultiHeadAttention.*packed QKV \/ KV\) is not supported/);
  });
});
