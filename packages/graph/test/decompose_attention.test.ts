/**
 * The front end's decomposition of onnxruntime's com.microsoft Attention with a constant packed
 * QKV weight into MatMul + Add + Split + MultiHeadAttention: onnxruntime gives the decomposed graph
 * the fused node's outputs for each mask form (none, raw 0/1 [B, T], lengths [B]), attribute
 * (scale, mask_filter_value, unidirectional, qkv_hidden_sizes) and attention_bias; forms
 * MultiHeadAttention reads otherwise stay fused with the reason; the fused node comes back when
 * the weight stays float, computing onnxruntime's outputs of the weight it then holds. Whittle's
 * interpreter gives onnxruntime's outputs on each decomposed graph.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, tensor } from '@whittle/tensor';
import { decomposeFusedWeightOps, recomposeFusedWeightOps } from '../src/normalize/decompose_fused.js';
import { normalizeModel } from '../src/normalize/normalize.js';
import type { Model } from '../src/ir/types.js';
import { type AttrInput, GraphBuilder } from '../src/builder/graph_builder.js';
import { expectMatchesOrt, oneNode, randn, runOrt } from './interpreter_harness.js';

const MS = 'com.microsoft';
const [B, S, D, N] = [2, 5, 16, 4];

const int32 = (values: number[], shape: number[]): Tensor => tensor(values, shape, 'int32', { backend: 'cpu' });
/** Row 0 attends to every key, row 1 to the first 3. */
const RAW = int32([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], [B, S]);
const LENGTHS = int32([5, 3], [B]);

interface Case { attrs?: Record<string, AttrInput>; mask?: Tensor; width?: number; attentionBias?: boolean }

function attention(c: Case): { model: Model; feeds: Record<string, Tensor> } {
  const width = c.width ?? 3 * D;
  const feeds: Record<string, Tensor> = { x: randn([B, S, D], 1) };
  const inputs = ['x', 'init:w', 'init:b'];
  if (c.mask) (feeds.mask = c.mask, inputs.push('mask'));
  if (c.attentionBias) {
    feeds.attention_bias = randn([1, N, S, S], 4);
    while (inputs.length < 5) inputs.push('');
    inputs.push('attention_bias');
  }
  const model = oneNode({ op: 'Attention', domain: MS, feeds, inputs, inits: { w: randn([D, width], 2, 0.3), b: randn([width], 3, 0.1) }, attrs: { num_heads: N, ...c.attrs }, floatAttrs: ['scale', 'mask_filter_value'], outputs: ['float32'] });
  return { model, feeds };
}

async function expectSameOutputs(a: Model, b: Model, feeds: Record<string, Tensor>): Promise<number> {
  const [x, y] = [await runOrt(a, feeds), await runOrt(b, feeds)];
  expect(y[0]!.shape).toEqual(x[0]!.shape);
  let worst = 0;
  for (let i = 0; i < x[0]!.data.length; i++) worst = Math.max(worst, Math.abs(y[0]!.data[i]! - x[0]!.data[i]!) / (1 + Math.abs(x[0]!.data[i]!)));
  expect(worst).toBeLessThan(1e-5);
  return worst;
}

const ops = (m: Model): string[] => m.graph.nodes.map((n) => `${n.domain ? `${n.domain}:` : ''}${n.opType}`);

describe('Attention with a constant weight → MatMul + Add + Split + MultiHeadAttention', () => {
  const cases: [string, Case][] = [
    ['no mask', {}],
    ['raw 0/1 mask [batch, total]', { mask: RAW }],
    ['lengths [batch]', { mask: LENGTHS }],
    ['raw mask, scale and mask_filter_value', { mask: RAW, attrs: { scale: 0.3, mask_filter_value: -500 } }],
    ['unidirectional with a raw mask', { mask: RAW, attrs: { unidirectional: 1 } }],
    ['qkv_hidden_sizes with a wider value', { mask: RAW, width: 2 * D + 2 * D, attrs: { qkv_hidden_sizes: [D, D, 2 * D] } }],
    ['attention_bias', { attentionBias: true }],
  ];
  for (const [name, c] of cases) {
    it(name, async () => {
      const { model, feeds } = attention(c);
      const { model: out, report } = await normalizeModel(model);
      expect(report.stats!.fusedOpsDecomposed).toBe(1);
      expect(ops(out)).toEqual(['MatMul', 'Add', 'Split', `${MS}:MultiHeadAttention`]);
      // the packed weight is a MatMul's now
      expect(out.graph.nodes[0]!.inputs[1]).toBe('w');
      await expectSameOutputs(model, out, feeds);
      // the interpreter, which calibrates and trains the decomposed graph, computes it as onnxruntime
      await expectMatchesOrt(out, feeds, 'cpu');
    });
  }
  it("lengths from the optimizer's ReduceSum of the 2-D mask", async () => {
    const b = new GraphBuilder('t');
    b.input('x', 'float32', ['batch', S, D]);
    b.input('m', 'int32', ['batch', S]);
    const lengths = b.node('ReduceSum', ['m', b.initializer('axes', tensor([1], [1], 'int64', { backend: 'cpu' }))], { keepdims: 0 });
    const [y] = b.nodeOutputs('Attention', ['x', b.initializer('w', randn([D, 3 * D], 2, 0.3)), b.initializer('b', randn([3 * D], 3, 0.1)), lengths], { num_heads: N }, { outputs: 1, domain: MS });
    b.output(y!, 'float32');
    const model = b.model([{ domain: '', version: 14 }, { domain: MS, version: 1 }]);
    const { model: out } = await normalizeModel(model);
    expect(ops(out)).toEqual(['ReduceSum', 'MatMul', 'Add', 'Split', `${MS}:MultiHeadAttention`]);
    await expectSameOutputs(model, out, { x: randn([B, S, D], 1), m: RAW });
  });
  it('Split takes its sizes as an attribute before opset 13', async () => {
    const { model, feeds } = attention({ mask: RAW });
    model.opsetImports = model.opsetImports.map((o) => (o.domain === '' ? { ...o, version: 12 } : o));
    model.irVersion = 7;
    const { model: out } = await normalizeModel(model);
    expect(out.graph.nodes.find((n) => n.opType === 'Split')!.attributes.get('split')).toBeDefined();
    await expectSameOutputs(model, out, feeds);
  });
});

describe('forms left fused, with the reason', () => {
  const refused: [string, () => Model, RegExp][] = [
    ['a 3-D mask', () => attention({ mask: int32(Array(B * S * S).fill(1), [B, S, S]) }).model, /3-D mask_index/],
    ['a 1-D mask that may be start and end positions', () => attention({ mask: int32([5, 3, 0, 0], [2 * B]) }).model, /start and end positions/],
    ['a past cache', () => {
      const m = attention({ mask: RAW }).model;
      m.graph.nodes[0]!.inputs.push('mask');
      return m;
    }, /past/],
  ];
  for (const [name, make, why] of refused) {
    it(name, async () => {
      const model = make();
      const r = decomposeFusedWeightOps(model.graph);
      expect(r.decomposed).toEqual([]);
      expect(r.skipped[0]!.reason).toMatch(why);
      expect(ops(model)).toEqual([`${MS}:Attention`]);
      const { report } = await normalizeModel(make());
      expect((report.details!.fusedOpsLeft as { reason: string }[])[0]!.reason).toMatch(why);
      expect(report.summary).toMatch(/left fused: /);
    });
  }
});

describe('recomposing an Attention whose weight stays float', () => {
  it('changed float weights give the Attention back, computing onnxruntime\'s outputs of them', async () => {
    const { model, feeds } = attention({ mask: RAW, attrs: { scale: 0.25 } });
    const { model: out, decomposedFused } = await normalizeModel(model);
    const t = out.graph.initializers.get('w')!;
    out.graph.initializers.set('w', tensor(Float32Array.from((await t.data()) as Float32Array, (v) => v * 0.5), [...t.shape], 'float32', { backend: 'cpu' }));
    expect(recomposeFusedWeightOps(out.graph, decomposedFused[0]!.records)).toBe(1);
    expect(ops(out)).toEqual([`${MS}:Attention`]);
    expect(out.graph.nodes[0]!.inputs).toEqual(model.graph.nodes[0]!.inputs);
    expect([...out.graph.initializers.keys()].sort()).toEqual([...model.graph.initializers.keys()].sort());
    const half = attention({ mask: RAW, attrs: { scale: 0.25 } }).model;
    half.graph.initializers.set('w', out.graph.initializers.get('w')!);
    await expectSameOutputs(half, out, feeds);
  });
  it('a weight read in another form (quantized) keeps the decomposed ops', async () => {
    const { model: out, decomposedFused } = await normalizeModel(attention({ mask: RAW }).model);
    out.graph.initializers.set('w_q', randn([D, 3 * D], 9));
    out.graph.nodes[0]!.inputs[1] = 'w_q';
    expect(recomposeFusedWeightOps(out.graph, decomposedFused[0]!.records)).toBe(0);
    expect(ops(out)).toEqual(['MatMul', 'Add', 'Split', `${MS}:MultiHeadAttention`]);
  });
});
