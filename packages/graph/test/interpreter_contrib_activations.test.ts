/**
 * onnxruntime's com.microsoft fused matmul and GELU family (FusedMatMul, FusedGemm with each
 * activation it fuses, BiasGelu, FastGelu, Gelu, QuickGelu) against onnxruntime-node, on cpu and webgpu, with every attribute and optional
 * input; bad bias shapes are refused; gradients of FastGelu, FusedMatMul and QuickGelu against
 * finite differences.
 */
import { expect, it } from 'vitest';
import { checkGradients, describeBackends } from '@whittle/testing';
import { type Tensor, toBackend } from '@whittle/tensor';
import { runModel } from '../src/interpreter/run.js';
import { getOp } from '../src/interpreter/registry.js';
import { attributeAccessors, type OpContext } from '../src/interpreter/context.js';
import type { AttrInput } from '../src/builder/graph_builder.js';
import { expectMatchesOrt, oneNode, randn } from './interpreter_harness.js';

const MS = 'com.microsoft';

function fusedMatMul(a: number[], b: number[], attrs: Record<string, AttrInput>, seed: number) {
  const feeds = { a: randn(a, seed), b: randn(b, seed + 1) };
  return { model: oneNode({ op: 'FusedMatMul', domain: MS, feeds, inputs: ['a', 'b'], attrs, floatAttrs: ['alpha'], outputs: ['float32'] }), feeds };
}

/** [A shape, B shape, attributes]: each flag alone and together, batch broadcasting, vectors. */
const MATMULS: [number[], number[], Record<string, AttrInput>][] = [
  [[3, 4], [4, 5], {}],
  [[2, 3, 4], [2, 4, 5], { alpha: 0.125 }],
  [[2, 4, 3], [4, 5], { transA: 1 }],
  [[2, 3, 4], [2, 5, 4], { transB: 1, alpha: -2.5 }],
  [[4, 3], [5, 4], { transA: 1, transB: 1 }],
  [[3, 2, 4], [2, 4, 5], { transBatchA: 1 }],
  [[2, 3, 4], [4, 2, 5], { transBatchB: 1 }],
  [[3, 2, 4], [5, 2, 4], { transBatchA: 1, transBatchB: 1, transB: 1 }],
  [[4, 2, 3], [4, 2, 5], { transBatchA: 1, transA: 1, transBatchB: 1, alpha: 0.5 }],
  [[3, 2, 2, 4], [2, 2, 4, 5], { transBatchA: 1, alpha: 0.25 }],
  [[2, 1, 3, 4], [3, 5, 4], { transB: 1 }],
  [[4], [2, 4, 5], { alpha: 3 }],
  [[2, 3, 4], [4], { transA: 0, transB: 1 }],
];

/** FusedGemm activations with their activation_* parameters (given ones, and the defaults where left out). */
const FUSED_GEMM: [string, Record<string, number>][] = [
  ['Tanh', {}],
  ['Relu', {}],
  ['Sigmoid', {}],
  ['LeakyRelu', { activation_alpha: 0.2 }],
  ['HardSigmoid', { activation_alpha: 0.3, activation_beta: 0.4 }],
  ['Elu', { activation_alpha: 0.7 }],
  ['Selu', { activation_alpha: 1.5, activation_gamma: 1.1 }],
  ['Softplus', {}],
  ['Softsign', {}],
  ['ThresholdedRelu', { activation_alpha: 0.5 }],
  ['ScaledTanh', { activation_alpha: 2, activation_beta: 0.5 }],
  ['ParametricSoftplus', { activation_alpha: 1.5, activation_beta: 0.75 }],
];

describeBackends('com.microsoft FusedMatMul and GELU family vs onnxruntime', ({ backend }) => {
  for (const [a, b, attrs] of MATMULS) {
    it(`FusedMatMul [${a}] x [${b}] ${JSON.stringify(attrs)}`, async () => {
      const { model, feeds } = fusedMatMul(a, b, attrs, a.length * 10 + b.length);
      await expectMatchesOrt(model, feeds, backend, 1e-4, 1e-5);
    });
  }

  it('FusedMatMul refuses transBatchA/B on operands of rank < 3 or of different ranks, as onnxruntime does', async () => {
    for (const [a, b, attrs] of [[[3, 4], [4, 5], { transBatchA: 1 }], [[2, 3, 4], [4, 5], { transBatchB: 1 }]] as const) {
      const { model, feeds } = fusedMatMul([...a], [...b], attrs, 1);
      await expect(runModel(model, feeds, { backend })).rejects.toThrow(/FusedMatMul.*transBatch[AB] needs A and B of one rank, at least 3/);
    }
  });

  for (const [activation, params] of FUSED_GEMM) {
    it(`FusedGemm (transB, alpha, beta, bias) + ${activation} ${JSON.stringify(params)}`, async () => {
      const feeds = { a: randn([3, 6], 40, 2) };
      const attrs: Record<string, AttrInput> = { activation, transB: 1, alpha: 0.8, beta: 0.5, ...params };
      const model = oneNode({ op: 'FusedGemm', domain: MS, feeds, inputs: ['a', 'init:b', 'init:c'], inits: { b: randn([4, 6], 41), c: randn([4], 42) }, attrs, floatAttrs: ['alpha', 'beta', ...Object.keys(params)], outputs: ['float32'] });
      await expectMatchesOrt(model, feeds, backend);
    });
  }

  it('FusedGemm without C and with transA; an activation onnxruntime does not fuse, and one without its parameters, are refused', async () => {
    const feeds = { a: randn([6, 3], 43) };
    await expectMatchesOrt(oneNode({ op: 'FusedGemm', domain: MS, feeds, inputs: ['a', 'init:b'], inits: { b: randn([6, 4], 44) }, attrs: { activation: 'Relu', transA: 1 }, outputs: ['float32'] }), feeds, backend);
    const bad = oneNode({ op: 'FusedGemm', domain: MS, feeds, inputs: ['a', 'init:b'], inits: { b: randn([6, 4], 44) }, attrs: { activation: 'Gelu', transA: 1 }, outputs: ['float32'] });
    await expect(runModel(bad, feeds, { backend })).rejects.toThrow(/FusedGemm.*activation 'Gelu' is not supported/);
    // onnxruntime requires the parameters of a parametrized activation
    const bare = oneNode({ op: 'FusedGemm', domain: MS, feeds, inputs: ['a', 'init:b'], inits: { b: randn([6, 4], 44) }, attrs: { activation: 'LeakyRelu', transA: 1 }, outputs: ['float32'] });
    await expect(runModel(bare, feeds, { backend })).rejects.toThrow(/FusedGemm.*activation LeakyRelu needs the attribute activation_alpha/);
  });

  it('BiasGelu: exact Gelu of A + 1-D bias, on 2-D and 3-D A', async () => {
    for (const shape of [[5, 8], [2, 3, 8]]) {
      const feeds = { a: randn(shape, 1, 2) };
      await expectMatchesOrt(oneNode({ op: 'BiasGelu', domain: MS, feeds, inputs: ['a', 'init:b'], inits: { b: randn([8], 2) }, outputs: ['float32'] }), feeds, backend);
    }
  });

  it('FastGelu without and with bias (tanh approximation)', async () => {
    const feeds = { x: randn([2, 3, 8], 3, 3) };
    await expectMatchesOrt(oneNode({ op: 'FastGelu', domain: MS, feeds, inputs: ['x'], outputs: ['float32'] }), feeds, backend);
    await expectMatchesOrt(oneNode({ op: 'FastGelu', domain: MS, feeds, inputs: ['x', 'init:b'], inits: { b: randn([8], 4) }, outputs: ['float32'] }), feeds, backend);
  });

  it('com.microsoft Gelu (exact erf form)', async () => {
    const feeds = { x: randn([4, 7], 5, 3) };
    await expectMatchesOrt(oneNode({ op: 'Gelu', domain: MS, feeds, inputs: ['x'], outputs: ['float32'] }), feeds, backend);
  });

  it('QuickGelu with the default alpha (1.702) and a given alpha', async () => {
    const feeds = { x: randn([3, 9], 6, 3) };
    await expectMatchesOrt(oneNode({ op: 'QuickGelu', domain: MS, feeds, inputs: ['x'], outputs: ['float32'] }), feeds, backend);
    await expectMatchesOrt(oneNode({ op: 'QuickGelu', domain: MS, feeds, inputs: ['x'], attrs: { alpha: 0.75 }, floatAttrs: ['alpha'], outputs: ['float32'] }), feeds, backend);
  });

  it('BiasGelu and FastGelu refuse a bias that is not 1-D over the last axis, naming the node', async () => {
    const feeds = { x: randn([2, 3], 7) };
    for (const op of ['BiasGelu', 'FastGelu']) {
      const model = oneNode({ op, domain: MS, feeds, inputs: ['x', 'init:b'], inits: { b: randn([2, 3], 8) }, outputs: ['float32'] });
      await expect(runModel(model, feeds, { backend })).rejects.toThrow(new RegExp(`${op}.*bias.*\\[2,3\\].*1-D of length 3`));
    }
  });

  it('FusedMatMul (transBatchA, transB, alpha) and QuickGelu: gradients match finite differences', async () => {
    const { model } = fusedMatMul([3, 2, 4], [2, 5, 4], { transBatchA: 1, transB: 1, alpha: 0.5 }, 1);
    const mm = model.graph.nodes[0]!;
    const mmCtx = { node: mm, opset: 1, backend, ...attributeAccessors(mm) } as unknown as OpContext;
    const fused = getOp('FusedMatMul', MS)!;
    await checkGradients((a: Tensor, b: Tensor) => (fused([a, b], mmCtx) as Tensor[])[0]!, [await toBackend(randn([3, 2, 4], 12), backend), await toBackend(randn([2, 5, 4], 13), backend)]);
    const q = oneNode({ op: 'QuickGelu', domain: MS, feeds: { x: randn([2, 5], 14) }, inputs: ['x'], attrs: { alpha: 1.5 }, floatAttrs: ['alpha'], outputs: ['float32'] }).graph.nodes[0]!;
    const qCtx = { node: q, opset: 1, backend, ...attributeAccessors(q) } as unknown as OpContext;
    await checkGradients((x: Tensor) => (getOp('QuickGelu', MS)!([x], qCtx) as Tensor[])[0]!, [await toBackend(randn([2, 5], 15, 2), backend)]);
  });

  it('FastGelu with bias: gradients of x and bias match finite differences', async () => {
    const model = oneNode({ op: 'FastGelu', domain: MS, feeds: { x: randn([2, 5], 9) }, inputs: ['x', 'b'], outputs: ['float32'] });
    const node = model.graph.nodes[0]!;
    const ctx = { node, opset: 1, backend, ...attributeAccessors(node) } as unknown as OpContext;
    const impl = getOp('FastGelu', MS)!;
    const f = (x: Tensor, b: Tensor): Tensor => (impl([x, b], ctx) as Tensor[])[0]!;
    await checkGradients(f, [await toBackend(randn([2, 5], 10, 2), backend), await toBackend(randn([5], 11), backend)]);
  });
});
