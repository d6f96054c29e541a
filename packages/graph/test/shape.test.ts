import { describe, expect, it } from 'vitest';
import { GraphValidationError, attr, createModel, inferShapes, inferValueTypes, tensorInfo } from '../src/index.js';
import { model, node, t } from './helpers.js';

const shapeOf = (m: ReturnType<typeof model>, name: string) => inferValueTypes(m.graph).types.get(name)?.shape;

describe('shape inference', () => {
  it('broadcasts elementwise ops, keeping symbolic dims', () => {
    const m = model(
      [node('Add', ['x', 'b'], ['a']), node('Mul', ['a', 'z'], ['c']), node('Relu', ['c'], ['r']), node('Less', ['r', 'b'], ['lt']), node('Where', ['lt', 'r', 'b'], ['w'])],
      { x: ['N', 1, 4], z: [3, 1] },
      ['w'],
      { b: t([0, 0, 0, 0], [4]) },
    );
    const { types } = inferValueTypes(m.graph);
    expect(types.get('a')!.shape).toEqual(['N', 1, 4]);
    expect(types.get('c')!.shape).toEqual(['N', 3, 4]);
    expect(types.get('r')!.elemType).toBe('float32');
    expect(types.get('lt')!.elemType).toBe('bool');
    expect(types.get('w')!.shape).toEqual(['N', 3, 4]);
  });

  it('infers MatMul (batched, 1-D), Gemm (transposes) and reports inner-dim mismatches', () => {
    const m = model(
      [node('MatMul', ['x', 'w'], ['y']), node('MatMul', ['v', 'w'], ['yv']), node('Gemm', ['a', 'b'], ['g'], { transA: attr.int(1), transB: attr.int(1) }), node('MatMul', ['x', 'bad'], ['e'])],
      { x: ['B', 5, 3, 4], v: [4], a: [7, 'M'] },
      ['y', 'yv', 'g', 'e'],
      { w: t(new Array(24).fill(0), [4, 6]), b: t(new Array(14).fill(0), [2, 7]), bad: t([0, 0, 0], [3, 1]) },
    );
    const r = inferValueTypes(m.graph);
    expect(r.types.get('y')!.shape).toEqual(['B', 5, 3, 6]);
    expect(r.types.get('yv')!.shape).toEqual([6]);
    expect(r.types.get('g')!.shape).toEqual(['M', 2]);
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]!.message).toMatch(/inner dimensions differ: 4 vs 3/);
    expect(() => inferValueTypes(m.graph, { strict: true })).toThrow(GraphValidationError);
  });

  it('infers Conv, pools and global pools', () => {
    const m = model(
      [
        node('Conv', ['x', 'w'], ['c'], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]) }),
        node('Conv', ['x', 'wg'], ['cg'], { group: attr.int(3), dilations: attr.ints([2, 2]) }),
        node('Conv', ['x', 'w'], ['cs'], { auto_pad: attr.string('SAME_UPPER'), strides: attr.ints([2, 2]) }),
        node('MaxPool', ['c'], ['p'], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) }),
        node('AveragePool', ['c'], ['ap'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }),
        node('GlobalAveragePool', ['c'], ['gp']),
        node('BatchNormalization', ['c', 's', 's', 's', 's'], ['bn']),
      ],
      { x: ['N', 3, 17, 16] },
      ['p', 'ap', 'gp', 'cg', 'cs', 'bn'],
      { w: t(new Array(8 * 27).fill(0), [8, 3, 3, 3]), wg: t(new Array(6 * 9).fill(0), [6, 1, 3, 3]), s: t(new Array(8).fill(1), [8]) },
    );
    const { types } = inferValueTypes(m.graph);
    expect(types.get('c')!.shape).toEqual(['N', 8, 9, 8]); // floor((17+2-3)/2)+1 = 9, floor((16+2-3)/2)+1 = 8
    expect(types.get('cg')!.shape).toEqual(['N', 6, 13, 12]); // 17 - 4 = 13
    expect(types.get('cs')!.shape).toEqual(['N', 8, 9, 8]);
    expect(types.get('p')!.shape).toEqual(['N', 8, 4, 4]); // ceil((9-3)/2)+1 = 4, ceil((8-3)/2)+1 = 4
    expect(types.get('ap')!.shape).toEqual(['N', 8, 4, 4]);
    expect(types.get('gp')!.shape).toEqual(['N', 8, 1, 1]);
    expect(types.get('bn')!.shape).toEqual(['N', 8, 9, 8]);
  });

  it('infers Reshape with 0 and -1, including shapes computed from Shape/Gather/Concat', () => {
    const m = model(
      [
        node('Reshape', ['x', 'sh'], ['r']),
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'i0'], ['n'], { axis: attr.int(0) }),
        node('Unsqueeze', ['n', 'ax0'], ['n1']),
        node('Concat', ['n1', 'm1'], ['target'], { axis: attr.int(0) }),
        node('Reshape', ['x', 'target'], ['flat']),
        node('Flatten', ['x'], ['fl'], { axis: attr.int(2) }),
      ],
      { x: ['N', 3, 4, 5] },
      ['r', 'flat', 'fl'],
      { sh: t([0, -1, 10], [3], 'int64'), i0: t([0], [], 'int64'), ax0: t([0], [1], 'int64'), m1: t([-1], [1], 'int64') },
    );
    const { types, data } = inferValueTypes(m.graph);
    expect(types.get('r')!.shape).toEqual(['N', 6, 10]);
    expect(data.get('target')).toEqual(['N', -1]);
    expect(types.get('flat')!.shape).toEqual(['N', 60]);
    expect(types.get('fl')!.shape).toEqual([null, 20]);
  });

  it('infers Transpose, Concat, Gather, Squeeze/Unsqueeze (attr and input), Slice, Softmax, Cast, Q/DQ, Identity', () => {
    const m = model(
      [
        node('Transpose', ['x'], ['tx'], { perm: attr.ints([0, 2, 1]) }),
        node('Concat', ['x', 'x'], ['cx'], { axis: attr.int(-1) }),
        node('Gather', ['x', 'ids'], ['gx'], { axis: attr.int(1) }),
        node('Unsqueeze', ['x'], ['ux'], { axes: attr.ints([0, -1]) }),
        node('Squeeze', ['ux', 'sq'], ['sx']),
        node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['slx']),
        node('Softmax', ['x'], ['smx'], { axis: attr.int(-1) }),
        node('Cast', ['x'], ['cast'], { to: attr.int(7) }),
        node('QuantizeLinear', ['x', 'sc', 'zp'], ['q']),
        node('DequantizeLinear', ['q', 'sc', 'zp'], ['dq']),
        node('Identity', ['dq'], ['id']),
      ],
      { x: ['N', 6, 8] },
      ['tx', 'cx', 'gx', 'sx', 'slx', 'smx', 'cast', 'id'],
      {
        ids: t([0, 1, 2, 3, 4, 5], [2, 3], 'int64'),
        sq: t([0, 4], [2], 'int64'),
        st: t([1, -3], [2], 'int64'),
        en: t([100, 1000], [2], 'int64'),
        ax: t([1, 2], [2], 'int64'),
        sp: t([2, 1], [2], 'int64'),
        sc: t([0.1], []),
        zp: t([0], [], 'int8'),
      },
    );
    const { types } = inferValueTypes(m.graph);
    expect(types.get('tx')!.shape).toEqual(['N', 8, 6]);
    expect(types.get('cx')!.shape).toEqual(['N', 6, 16]);
    expect(types.get('gx')!.shape).toEqual(['N', 2, 3, 8]);
    expect(types.get('ux')!.shape).toEqual([1, 'N', 6, 8, 1]);
    expect(types.get('sx')!.shape).toEqual(['N', 6, 8]);
    expect(types.get('slx')!.shape).toEqual(['N', 3, 3]);
    expect(types.get('smx')!.shape).toEqual(['N', 6, 8]);
    expect(types.get('cast')!.elemType).toBe('int64');
    expect(types.get('q')!.elemType).toBe('int8');
    expect(types.get('dq')!.elemType).toBe('float32');
    expect(types.get('id')!.shape).toEqual(['N', 6, 8]);
  });

  it('inferShapes writes value_info for intermediates and completes graph outputs', () => {
    const m = model([node('Relu', ['x'], ['a']), node('Transpose', ['a'], ['y'])], { x: ['N', 2] }, ['y']);
    const r = inferShapes(m);
    expect(r.graph.valueInfo.get('a')!.type).toEqual({ kind: 'tensor', elemType: 'float32', shape: ['N', 2] });
    expect(r.graph.outputs[0]!.type!.shape).toEqual([2, 'N']);
    expect(m.graph.valueInfo.size).toBe(0);
    void createModel;
    void tensorInfo;
  });

  it('reads Constant node values (Reshape target) and infers ConvTranspose', () => {
    const m = model(
      [
        node('Constant', [], ['target'], { value_ints: attr.ints([-1, 25]) }),
        node('Reshape', ['x', 'target'], ['r']),
        node('ConvTranspose', ['x', 'w'], ['ct'], { strides: attr.ints([2, 2]), pads: attr.ints([1, 1, 1, 1]), output_padding: attr.ints([1, 1]) }),
      ],
      { x: [1, 2, 5, 5] },
      ['r', 'ct'],
      { w: t(new Array(2 * 3 * 9).fill(0), [2, 3, 3, 3]) },
    );
    const { types } = inferValueTypes(m.graph);
    expect(types.get('target')!.shape).toEqual([2]);
    expect(types.get('r')!.shape).toEqual([2, 25]);
    expect(types.get('ct')!.shape).toEqual([1, 3, 10, 10]); // 2*(5-1) + 1 + 2 + 1 - 2
  });

  it('merges declared types: numbers win over symbols', () => {
    const m = model([node('Relu', ['x'], ['y'])], { x: [4, 'C'] }, { y: ['B', 7] });
    expect(shapeOf(m, 'y')).toEqual([4, 7]);
  });
});
