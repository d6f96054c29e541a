/**
 * The front end's decomposition of onnxruntime's FusedGemm / FusedMatMul with a constant weight:
 * the rewritten graph holds only standard ops on that weight and gives onnxruntime's outputs of
 * the fused node (every activation with its parameters; FusedMatMul's transB and alpha, a weight
 * shared with another reader left intact); nodes it cannot rewrite are left and reported.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, tensor } from '@whittle/tensor';
import { decomposeFusedWeightOps, recomposeFusedWeightOps } from '../src/normalize/decompose_fused.js';
import { normalizeModel } from '../src/normalize/normalize.js';
import type { Model } from '../src/ir/types.js';
import type { AttrInput } from '../src/builder/graph_builder.js';
import { oneNode, randn, runOrt } from './interpreter_harness.js';

const MS = 'com.microsoft';

async function expectSameOutputs(a: Model, b: Model, feeds: Record<string, Tensor>): Promise<void> {
  const [x, y] = [await runOrt(a, feeds), await runOrt(b, feeds)];
  expect(y[0]!.shape).toEqual(x[0]!.shape);
  for (let i = 0; i < x[0]!.data.length; i++) expect(Math.abs(y[0]!.data[i]! - x[0]!.data[i]!)).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(x[0]!.data[i]!)));
}

const ops = (m: Model): string[] => m.graph.nodes.map((n) => n.opType);

describe('FusedGemm with a constant weight → Gemm + activation', () => {
  const acts: [string, Record<string, number>][] = [
    ['Tanh', {}], ['Relu', {}], ['Sigmoid', {}], ['Softplus', {}], ['Softsign', {}],
    ['LeakyRelu', { activation_alpha: 0.2 }], ['Elu', { activation_alpha: 0.7 }], ['ThresholdedRelu', { activation_alpha: 0.3 }],
    ['HardSigmoid', { activation_alpha: 0.3, activation_beta: 0.4 }], ['Selu', { activation_alpha: 1.5, activation_gamma: 1.1 }],
  ];
  for (const [act, params] of acts) {
    it(`${act}, transB, alpha and beta`, async () => {
      const feeds = { a: randn([3, 8], 1) };
      const attrs: Record<string, AttrInput> = { activation: act, transB: 1, alpha: 0.5, beta: 2, ...params };
      const model = oneNode({ op: 'FusedGemm', domain: MS, feeds, inputs: ['a', 'init:w', 'init:c'], inits: { w: randn([5, 8], 2), c: randn([5], 3) }, attrs, floatAttrs: ['alpha', 'beta', ...Object.keys(params)], outputs: ['float32'] });
      const { model: out, report } = await normalizeModel(model);
      expect(report.stats!.fusedOpsDecomposed).toBe(1);
      expect(ops(out)).toEqual(['Gemm', act]);
      await expectSameOutputs(model, out, feeds);
    });
  }
  it('an activation with no ONNX op (ScaledTanh) is left and reported', () => {
    const model = oneNode({ op: 'FusedGemm', domain: MS, feeds: { a: randn([3, 8], 1) }, inputs: ['a', 'init:w'], inits: { w: randn([8, 5], 2) }, attrs: { activation: 'ScaledTanh', activation_alpha: 1, activation_beta: 1 }, floatAttrs: ['activation_alpha', 'activation_beta'], outputs: ['float32'] });
    const r = decomposeFusedWeightOps(model.graph);
    expect(r.decomposed).toEqual([]);
    expect(r.skipped[0]!.reason).toMatch(/ScaledTanh/);
    expect(ops(model)).toEqual(['FusedGemm']);
  });
});

describe('FusedMatMul with a constant weight → MatMul (+ Mul by alpha)', () => {
  const cases: [string, number[], number[], Record<string, AttrInput>, string[]][] = [
    ['transB and alpha, batched A', [2, 3, 8], [5, 8], { transB: 1, alpha: 0.125 }, ['MatMul', 'Mul']],
    ['alpha 1: a plain MatMul', [3, 8], [8, 5], {}, ['MatMul']],
    ['batched weight, transB', [2, 3, 8], [2, 5, 8], { transB: 1, alpha: 2 }, ['MatMul', 'Mul']],
  ];
  for (const [name, a, w, attrs, want] of cases) {
    it(name, async () => {
      const feeds = { a: randn(a, 4) };
      const model = oneNode({ op: 'FusedMatMul', domain: MS, feeds, inputs: ['a', 'init:w'], inits: { w: randn(w, 5) }, attrs, floatAttrs: ['alpha'], outputs: ['float32'] });
      const { model: out } = await normalizeModel(model);
      expect(ops(out)).toEqual(want);
      await expectSameOutputs(model, out, feeds);
    });
  }
  it('a weight another node also reads is transposed into a copy', () => {
    const model = oneNode({ op: 'FusedMatMul', domain: MS, feeds: { a: randn([3, 8], 4) }, inputs: ['a', 'init:w'], inits: { w: randn([5, 8], 5) }, attrs: { transB: 1 }, outputs: ['float32'] });
    model.graph.nodes.push({ ...model.graph.nodes[0]!, opType: 'Identity', domain: '', inputs: ['w'], outputs: ['w_copy'], attributes: new Map(), name: 'reader' });
    decomposeFusedWeightOps(model.graph);
    expect(model.graph.initializers.get('w')!.shape).toEqual([5, 8]);
    expect(model.graph.nodes[0]!.inputs[1]).not.toBe('w');
    expect(model.graph.initializers.get(model.graph.nodes[0]!.inputs[1]!)!.shape).toEqual([8, 5]);
  });
  it('transA (the data operand transposed) is left and reported', () => {
    const model = oneNode({ op: 'FusedMatMul', domain: MS, feeds: { a: randn([8, 3], 4) }, inputs: ['a', 'init:w'], inits: { w: randn([8, 5], 5) }, attrs: { transA: 1 }, outputs: ['float32'] });
    expect(decomposeFusedWeightOps(model.graph).skipped[0]!.reason).toMatch(/transA/);
  });
});

describe('recomposing what no technique changed in form', () => {
  const fusedMatMul = (): Model => oneNode({ op: 'FusedMatMul', domain: MS, feeds: { a: randn([2, 3, 8], 4) }, inputs: ['a', 'init:w'], inits: { w: randn([5, 8], 5) }, attrs: { transB: 1, alpha: 0.25 }, floatAttrs: ['alpha'], outputs: ['float32'] });
  const fusedGemm = (): Model => oneNode({ op: 'FusedGemm', domain: MS, feeds: { a: randn([3, 8], 1) }, inputs: ['a', 'init:w', 'init:c'], inits: { w: randn([8, 5], 2), c: randn([5], 3) }, attrs: { activation: 'LeakyRelu', activation_alpha: 0.1 }, floatAttrs: ['activation_alpha'], outputs: ['float32'] });
  for (const [name, make] of [['FusedMatMul (transB, alpha)', fusedMatMul], ['FusedGemm (LeakyRelu)', fusedGemm]] as const) {
    it(`${name}: float weights (changed values included) give the fused node back, with onnxruntime's outputs`, async () => {
      const model = make();
      const { model: out, decomposedFused } = await normalizeModel(model);
      const w = out.graph.nodes[0]!.inputs[1]!;
      // a technique that changes the weight's values but keeps it float (pruning, training)
      const t = out.graph.initializers.get(w)!;
      const scaled = Float32Array.from((await t.data()) as Float32Array, (v) => v * 0.5);
      out.graph.initializers.set(w, tensor(scaled, [...t.shape], 'float32', { backend: 'cpu' }));
      expect(recomposeFusedWeightOps(out.graph, decomposedFused[0]!.records)).toBe(1);
      expect(out.graph.nodes.map((n) => `${n.domain}:${n.opType}`)).toEqual([`${MS}:${model.graph.nodes[0]!.opType}`]);
      expect([...out.graph.initializers.keys()].sort()).toEqual([...model.graph.initializers.keys()].sort());
      expect(out.graph.initializers.get(w)!.shape).toEqual(model.graph.initializers.get(w)!.shape);
      // the same function of the halved weight as the decomposed graph computed
      const half = make();
      const w0 = half.graph.initializers.get(w)!;
      half.graph.initializers.set(w, tensor(Float32Array.from((await w0.data()) as Float32Array, (v) => v * 0.5), [...w0.shape], 'float32', { backend: 'cpu' }));
      await expectSameOutputs(half, out, { a: randn(name.startsWith('FusedGemm') ? [3, 8] : [2, 3, 8], 11) });
    });
  }
  it('a weight now read in another form (quantized) keeps the standard ops', async () => {
    const { model: out, decomposedFused } = await normalizeModel(fusedGemm());
    const gemm = out.graph.nodes[0]!;
    out.graph.initializers.set('w_int8', randn([8, 5], 9));
    gemm.inputs[1] = 'w_int8';
    expect(recomposeFusedWeightOps(out.graph, decomposedFused[0]!.records)).toBe(0);
    expect(out.graph.nodes.map((n) => n.opType)).toEqual(['Gemm', 'LeakyRelu']);
  });
});
