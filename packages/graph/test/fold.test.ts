import { describe, expect, it } from 'vitest';
import { attr, createGraph, foldConstants, runModel, setConstantEvaluator, tensorInfo, tensorInts, validateModel } from '../src/index.js';
import { model, node, t, vals } from './helpers.js';

const fold = async (m: ReturnType<typeof model>, opts = {}) => foldConstants(m, opts);

describe('constant folding', () => {
  it('folds a chain of arithmetic on initializers (hand-computed values)', async () => {
    // c = (a + b) * 2 ; d = sqrt(c); y = x + d
    const m = model(
      [node('Add', ['a', 'b'], ['s']), node('Mul', ['s', 'two'], ['c']), node('Sqrt', ['c'], ['d']), node('Add', ['x', 'd'], ['y'])],
      { x: [2, 2] },
      ['y'],
      { a: t([1, 2, 3, 4], [2, 2]), b: t([1, 0, 5, 4], [2, 2]), two: t([2], []) },
    );
    const r = await fold(m);
    expect(r.folded).toHaveLength(3);
    expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['Add']);
    expect(vals(r.model.graph.initializers.get('d')!)).toEqual([2, 2, 4, 4]);
    expect([...r.model.graph.initializers.keys()]).toEqual(['d']);
    expect(m.graph.nodes).toHaveLength(4); // input not modified
    validateModel(r.model);
  });

  it('folds layout ops exactly: Transpose, Reshape(0, -1), Concat, Gather, Slice (negative step), Unsqueeze, Squeeze', async () => {
    const m = model(
      [
        node('Transpose', ['w'], ['wt'], { perm: attr.ints([1, 0]) }),
        node('Reshape', ['wt', 'shape'], ['wr']),
        node('Concat', ['wr', 'wr'], ['wc'], { axis: attr.int(0) }),
        node('Gather', ['wc', 'idx'], ['wg'], { axis: attr.int(1) }),
        node('Slice', ['wc', 'st', 'en', 'ax', 'sp'], ['ws']),
        node('Unsqueeze', ['ws', 'uax'], ['wu']),
        node('Squeeze', ['wu', 'uax'], ['wsq']),
        node('Add', ['x', 'wg'], ['y1']),
        node('Add', ['x2', 'wsq'], ['y2']),
      ],
      { x: [6, 2], x2: [2, 2] },
      ['y1', 'y2'],
      {
        w: t([0, 1, 2, 3, 4, 5], [2, 3]),
        shape: t([0, -1], [2], 'int64'),
        idx: t([1, 0], [2], 'int64'),
        st: t([3, 0], [2], 'int64'),
        en: t([-100, 9], [2], 'int64'),
        ax: t([0, 1], [2], 'int64'),
        sp: t([-2, 1], [2], 'int64'),
        uax: t([0], [1], 'int64'),
      },
    );
    const r = await fold(m);
    const g = r.model.graph;
    expect(g.nodes.map((n) => n.opType)).toEqual(['Add', 'Add']);
    const wg = g.initializers.get('wg')!;
    expect(wg.shape).toEqual([6, 2]);
    expect(vals(wg)).toEqual([3, 0, 4, 1, 5, 2, 3, 0, 4, 1, 5, 2]);
    const ws = g.initializers.get('wsq')!;
    expect(ws.shape).toEqual([2, 2]);
    expect(vals(ws)).toEqual([0, 3, 1, 4]);
    validateModel(r.model);
  });

  it('keeps int64 values exact and folds Cast, Where, comparisons, MatMul and Gemm', async () => {
    const big = 2 ** 40 + 1;
    const m = model(
      [
        node('Concat', ['i1', 'i2'], ['ic'], { axis: attr.int(0) }),
        node('Cast', ['f'], ['fi'], { to: attr.int(6) }),
        node('Less', ['f', 'zero'], ['neg']),
        node('Where', ['neg', 'zero', 'f'], ['relu']),
        node('MatMul', ['A', 'B'], ['AB']),
        node('Gemm', ['A', 'B2', 'C'], ['G'], { transB: attr.int(1), alpha: attr.float(2), beta: attr.float(0.5) }),
        node('Add', ['x', 'G'], ['y']),
        node('Mul', ['x', 'AB'], ['y2']),
        node('Add', ['xr', 'relu'], ['y3']),
        node('Reshape', ['xr', 'ic'], ['y4']),
        node('Add', ['xr', 'fi'], ['y5']),
      ],
      { x: [2, 2], xr: [3] },
      ['y', 'y2', 'y3', 'y4', 'y5'],
      {
        i1: t([big], [1], 'int64'),
        i2: t([-3], [1], 'int64'),
        f: t([-1.7, 0.5, 2.9], [3]),
        zero: t([0], []),
        A: t([1, 2, 3, 4], [2, 2]),
        B: t([5, 6, 7, 8], [2, 2]),
        B2: t([1, 0, 0, 1], [2, 2]),
        C: t([10, 20], [2]),
      },
    );
    const r = await fold(m);
    const g = r.model.graph;
    expect((g.initializers.get('ic')!.dataSync() as BigInt64Array)[0]).toBe(BigInt(big));
    expect(tensorInts(g.initializers.get('ic')!)).toEqual([big, -3]);
    expect(g.initializers.get('fi')!.dtype).toBe('int32');
    expect(vals(g.initializers.get('fi')!)).toEqual([-1, 0, 2]);
    expect(vals(g.initializers.get('relu')!).map((v) => Math.round(v * 10) / 10)).toEqual([0, 0.5, 2.9]);
    expect(vals(g.initializers.get('AB')!)).toEqual([19, 22, 43, 50]);
    // 2 * A @ I + 0.5 * C
    expect(vals(g.initializers.get('G')!)).toEqual([7, 14, 11, 18]);
  });

  it('folds Shape of a statically shaped value and leaves graph outputs, DequantizeLinear and big results alone', async () => {
    const m = model(
      [
        node('Shape', ['x'], ['sx']),
        node('Reshape', ['x', 'sx'], ['y']),
        node('DequantizeLinear', ['q', 's'], ['dq']),
        node('Add', ['x', 'dq'], ['y2']),
        node('Neg', ['w'], ['out3']),
        node('Expand', ['w', 'big'], ['e']),
        node('ReduceSum', ['e'], ['y4'], { keepdims: attr.int(0) }),
      ],
      { x: [2, 3] },
      ['y', 'y2', 'out3', 'y4'],
      { q: t([1, 2, 3, 4, 5, 6], [2, 3], 'int8'), s: t([0.5], []), w: t([1], [1]), big: t([100, 100], [2], 'int64') },
    );
    const r = await fold(m, { maxOutputElements: 1000 });
    const g = r.model.graph;
    expect(tensorInts(g.initializers.get('sx')!)).toEqual([2, 3]);
    expect(g.nodes.map((n) => n.opType)).toEqual(['Reshape', 'DequantizeLinear', 'Add', 'Neg', 'Expand', 'ReduceSum']);
    expect(r.skipped.map((s) => s.reason).join('|')).toMatch(/graph output.*\|.*maxOutputElements|maxOutputElements.*graph output/);
  });

  it('evaluates with the interpreter\'s op implementations (ops beyond arithmetic and layout fold too)', async () => {
    const m = model([node('Softsign', ['w'], ['v']), node('Add', ['x', 'v'], ['y'])], { x: [2] }, ['y'], { w: t([1, -3], [2]) });
    const r = await fold(m);
    expect(r.folded).toEqual(['v (Softsign)']);
    expect(vals(r.model.graph.initializers.get('v')!)).toEqual([0.5, -0.75]);
  });

  it('uses the plugged evaluator for ops the interpreter does not implement', async () => {
    // an op type the interpreter has no implementation of
    const m = model([node('Determinant', ['w'], ['v']), node('Add', ['x', 'v'], ['y'])], { x: [1] }, ['y'], { w: t([1, 2, 3, 4], [2, 2]) });
    let r = await fold(m);
    expect(r.folded).toHaveLength(0);
    expect(r.skipped[0]!.reason).toMatch(/no evaluator/);
    const prev = setConstantEvaluator((n, inputs) => {
      if (n.opType !== 'Determinant') return undefined;
      const [a, b, c, d] = vals(inputs[0]!);
      return [t([a! * d! - b! * c!], [])];
    });
    try {
      r = await fold(m);
      expect(vals(r.model.graph.initializers.get('v')!)).toEqual([-2]);
    } finally {
      setConstantEvaluator(prev);
    }
  });

  describe('an If whose condition is constant becomes its taken branch', () => {
    // y = If(c) then MatMul(x, Transpose(w)) else x (a branch output that is an outer value)
    const ifModel = (cond: boolean) => {
      const thenG = createGraph({
        name: 'then',
        nodes: [node('Transpose', ['w'], ['wt'], { perm: attr.ints([1, 0]) }), node('MatMul', ['x', 'wt'], ['y_then'])],
        outputs: [tensorInfo('y_then', 'float32', [1, 2])],
      });
      const elseG = createGraph({ name: 'else', nodes: [], outputs: [tensorInfo('x', 'float32', [1, 2])] });
      return model(
        [node('Equal', ['r', 'two'], ['c']), node('If', ['c'], ['y'], { then_branch: attr.graph(thenG), else_branch: attr.graph(elseG) })],
        { x: [1, 2] },
        { y: [1, 2] },
        { w: t([1, 2, 3, 4], [2, 2]), r: t([cond ? 2 : 3], [], 'int64'), two: t([2], [], 'int64') },
      );
    };
    const feeds = { x: t([1, -1], [1, 2]) };

    it('then: the weight behind the Transpose folds and the MatMul reads it; outputs unchanged', async () => {
      const m = ifModel(true);
      const r = await fold(m);
      expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['MatMul']);
      expect(vals(r.model.graph.initializers.get(r.model.graph.nodes[0]!.inputs[1]!)!)).toEqual([1, 3, 2, 4]);
      validateModel(r.model);
      expect(vals((await runModel(r.model, feeds)).get('y')!)).toEqual(vals((await runModel(m, feeds)).get('y')!));
      expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Equal', 'If']); // input not modified
    });

    it('else: a branch output read from outside passes on through an Identity', async () => {
      const r = await fold(ifModel(false));
      expect(r.model.graph.nodes.map((n) => `${n.opType}(${n.inputs.join(',')})->${n.outputs.join(',')}`)).toEqual(['Identity(x)->y']);
      validateModel(r.model);
      expect(vals((await runModel(r.model, feeds)).get('y')!)).toEqual([1, -1]);
    });
  });

  it('CastLike of a constant to a value of known element type folds to the cast constant', async () => {
    const m = model([node('CastLike', ['half', 'x'], ['h']), node('Mul', ['x', 'h'], ['y'])], { x: [2] }, ['y'], { half: t([1], [], 'int32') });
    const r = await fold(m);
    expect(r.model.graph.nodes.map((n) => n.opType)).toEqual(['Mul']);
    const h = r.model.graph.initializers.get('h')!;
    expect([h.dtype, vals(h)]).toEqual(['float32', [1]]);
  });
});
