import { describe, expect, it } from 'vitest';
import * as T from '@whittle/tensor';
import { describeBackends } from '@whittle/testing';
import { cpu, expectMatchesOrt, oneNode, randInt, randn, type OneNode } from './interpreter_harness.js';
import { einsum } from '../src/interpreter/ops/Einsum.js';
import { einsumMacs, einsumLabelSizes, parseEinsum } from '../src/ir/einsum.js';
import { GraphBuilder } from '../src/builder/graph_builder.js';
import { inferShapes } from '../src/analysis/shape/infer.js';
import { summarize } from '../src/analysis/summarize.js';

/**
 * Einsum in the interpreter against onnxruntime-node on cpu and webgpu (the ONNX node tests
 * of Einsum are float64, which Whittle does not compute with), its gradient against the same
 * contraction written with transpose and matmul, and its shape rule and FLOPs.
 */
const eq = (equation: string, feeds: Record<string, T.Tensor>): OneNode => ({
  op: 'Einsum',
  feeds,
  inputs: Object.keys(feeds),
  attrs: { equation },
  outputs: [feeds[Object.keys(feeds)[0]!]!.dtype === 'int32' ? 'int32' : 'float32'],
  opset: 12,
});

const cases: [string, OneNode][] = [
  ['matmul', eq('ij,jk->ik', { a: randn([3, 4], 1), b: randn([4, 5], 2) })],
  ['attention scores', eq('bhqd,bhkd->bhqk', { q: randn([2, 3, 4, 5], 3), k: randn([2, 3, 6, 5], 4) })],
  ['implicit output', eq('ij,jk', { a: randn([3, 4], 5), b: randn([4, 2], 6) })],
  ['implicit output, labels sorted', eq('kj,ji', { a: randn([3, 4], 7), b: randn([4, 2], 8) })],
  ['transpose', eq('abc->cab', { x: randn([2, 3, 4], 9) })],
  ['sum all', eq('ij->', { x: randn([3, 4], 10) })],
  ['trace', eq('ii', { x: randn([4, 4], 11) })],
  ['diagonal', eq('ii->i', { x: randn([5, 5], 12) })],
  ['batch diagonal', eq('...ii->...i', { x: randn([2, 3, 4, 4], 13) })],
  ['repeated label across terms and in one term', eq('iij,jk->ik', { a: randn([3, 3, 4], 14), b: randn([4, 2], 15) })],
  ['inner product', eq('i,i', { a: randn([7], 16), b: randn([7], 17) })],
  ['outer product', eq('i,j->ij', { a: randn([3], 18), b: randn([4], 19) })],
  ['ellipsis batch matmul with broadcasting', eq('...ij,...jk->...ik', { a: randn([2, 1, 3, 4], 20), b: randn([1, 5, 4, 2], 21) })],
  ['ellipsis in the middle', eq('i...j,j...k->i...k', { a: randn([2, 3, 4], 22), b: randn([4, 3, 5], 23) })],
  ['three operands', eq('ab,bc,cd->ad', { a: randn([2, 3], 24), b: randn([3, 4], 25), c: randn([4, 5], 26) })],
  ['three operands with a shared batch label', eq('bij,bjk,bkl->bil', { a: randn([2, 3, 4], 27), b: randn([2, 4, 5], 28), c: randn([2, 5, 3], 29) })],
  ['summed label on one operand only', eq('ijk,kl->il', { a: randn([2, 3, 4], 30), b: randn([4, 5], 31) })],
  ['uppercase labels', eq('Ab,bC->CA', { a: randn([3, 4], 32), b: randn([4, 2], 33) })],
  ['spaces', eq(' i j , j k -> i k ', { a: randn([2, 3], 34), b: randn([3, 2], 35) })],
  ['scalars', eq(',->', { a: cpu([3], []), b: cpu([-2], []) })],
  ['scalar times a vector', eq('i,->i', { a: randn([4], 38), b: cpu([0.5], []) })],
  ['ellipsis over scalars', eq('...,...->...', { a: cpu([3], []), b: cpu([2], []) })],
  ['a zero-size contracted label', eq('ij,jk->ik', { a: randn([2, 0], 39), b: randn([0, 3], 40) })],
  ['int32', eq('ij,jk->ik', { a: randInt([3, 4], 36, -5, 5, 'int32'), b: randInt([4, 2], 37, -5, 5, 'int32') })],
];

describeBackends('Einsum matches onnxruntime', ({ backend }) => {
  for (const [name, spec] of cases) {
    it(name, async () => {
      await expectMatchesOrt(oneNode(spec), spec.feeds, backend);
    });
  }
});

describeBackends('Einsum gradients', ({ backend }) => {
  it('bhqd,bhkd->bhqk has the gradient of the transpose + matmul it stands for', async () => {
    const q0 = randn([2, 3, 4, 5], 40);
    const k0 = randn([2, 3, 6, 5], 41);
    const w = randn([2, 3, 4, 6], 42);
    const grads = async (f: (q: T.Tensor, k: T.Tensor) => T.Tensor): Promise<[Float64Array, Float64Array]> => {
      // fresh leaves per run (toBackend returns a tensor already on cpu as is)
      const q = T.tensor(await q0.data(), q0.shape, 'float32', { backend }).requireGrad();
      const k = T.tensor(await k0.data(), k0.shape, 'float32', { backend }).requireGrad();
      T.sum(T.mul(f(q, k), await T.toBackend(w, backend))).backward();
      return [await q.grad!.toFloat64(), await k.grad!.toFloat64()];
    };
    const got = await grads((q, k) => einsum('bhqd,bhkd->bhqk', [q, k]));
    const want = await grads((q, k) => T.matmul(q, T.transpose(k, [0, 1, 3, 2])));
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < want[i]!.length; j++) expect(got[i]![j]).toBeCloseTo(want[i]![j]!, 5);
    }
  });

  it('a diagonal passes the gradient to the diagonal only', async () => {
    const x = T.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3], 'float32', { backend }).requireGrad();
    T.sum(T.mul(einsum('ii->i', [x]), T.tensor([1, 2, 3], [3], 'float32', { backend }))).backward();
    expect(Array.from(await x.grad!.toFloat64())).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 3]);
  });
});

describe('Einsum equations', () => {
  it('resolves ellipses right-aligned and the implicit output', () => {
    const p = parseEinsum('...ij,j...->...i', [4, 2]);
    expect(p.inputs).toEqual([['.0', '.1', 'i', 'j'], ['j', '.1']]);
    expect(p.output).toEqual(['.0', '.1', 'i']);
    expect(parseEinsum('Ba,aC', [2, 2]).output).toEqual(['B', 'C']);
  });

  it('rejects malformed equations with the node in the message', () => {
    expect(() => parseEinsum('ij,jk->ik', [2], 'node e (Einsum)')).toThrow(/node e \(Einsum\).*2 input terms for 1 inputs/);
    expect(() => parseEinsum('ij->ix', [2])).toThrow(/output label 'x'/);
    expect(() => parseEinsum('ijk->i', [2])).toThrow(T.ShapeError);
    expect(() => parseEinsum('i1->i', [2])).toThrow(/not a letter/);
    expect(() => einsum('ij,jk->ik', [cpu([1, 2, 3], [1, 3]), cpu([1, 2], [2, 1])])).toThrow(/label 'j' has size 3 and 2/);
  });

  it('counts the multiply-adds of each pairwise contraction', () => {
    const p = parseEinsum('bij,bjk,bkl->bil', [3, 3, 3]);
    const sizes = einsumLabelSizes(p, [[2, 3, 4], [2, 4, 5], [2, 5, 6]]);
    // (b,i,j,k) then (b,i,k,l)
    expect(einsumMacs(p, sizes)).toBe(2 * 3 * 4 * 5 + 2 * 3 * 5 * 6);
  });

  it('infers the output shape and the FLOPs of a model', () => {
    const b = new GraphBuilder('e');
    b.input('q', 'float32', ['batch', 4, 8, 16]);
    b.input('k', 'float32', ['batch', 4, 10, 16]);
    const [y] = b.nodeOutputs('Einsum', ['q', 'k'], { equation: 'bhqd,bhkd->bhqk' }, { outputs: 1 });
    b.output(y!, 'float32');
    const model = b.model([{ domain: '', version: 12 }]);
    expect(inferShapes(model).graph.outputs[0]!.type).toMatchObject({ kind: 'tensor', elemType: 'float32', shape: ['batch', 4, 8, 10] });
    const s = summarize(model, { dims: { batch: 2 } });
    expect(s.macs).toBe(2 * 4 * 8 * 10 * 16);
    expect(s.flops).toBe(2 * s.macs);
  });
});
