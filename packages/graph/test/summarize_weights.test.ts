import { describe, expect, it } from 'vitest';
import { type Graph, attr, constantWeights, createGraph, createNode, summarize, tensorInfo } from '../src/index.js';
import { model, node, t } from './helpers.js';

describe('summarize: weights held in Constant nodes', () => {
  it('counts float tensors and quantized weights as parameters (subgraphs once each), never shapes, scalars or Resize scales', () => {
    const branch = (name: string, n: number): Graph =>
      createGraph({
        name,
        nodes: [node('Constant', [], [`${name}_w`], { value: attr.tensor(t(new Array(n).fill(0.5), [n])) }), node('Add', ['p', `${name}_w`], [`${name}_y`])],
        outputs: [tensorInfo(`${name}_y`, 'float32', [1, 3, 4, 4])],
      });
    const m = model(
      [
        node('Constant', [], ['w'], { value: attr.tensor(t(new Array(54).fill(0.1), [3, 2, 3, 3])) }),
        node('Constant', [], ['b'], { value: attr.tensor(t([1, 2, 3], [3])) }),
        node('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
        // not weights: a scalar, a one-element float, Resize scales, an int64 shape
        node('Constant', [], ['half'], { value: attr.tensor(t([0.5], [])) }),
        node('Constant', [], ['one'], { value: attr.tensor(t([1], [1])) }),
        node('Mul', ['c', 'half'], ['m1']),
        node('Mul', ['m1', 'one'], ['m2']),
        node('Constant', [], ['scales'], { value: attr.tensor(t([1, 1, 2, 2], [4])) }),
        node('Resize', ['m2', '', 'scales'], ['r'], { mode: attr.string('nearest') }),
        node('MaxPool', ['r'], ['p'], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]) }),
        node('Constant', [], ['shape'], { value: attr.tensor(t([1, -1], [2], 'int64')) }),
        node('Reshape', ['p', 'shape'], ['flat']),
        // an int8 weight read by DequantizeLinear counts; its scale (a scalar) does not
        node('Constant', [], ['qw'], { value: attr.tensor(t(new Array(48 * 4).fill(3), [48, 4], 'int8')) }),
        node('Constant', [], ['qs'], { value: attr.tensor(t([0.02], [])) }),
        node('DequantizeLinear', ['qw', 'qs'], ['dw'], {}, 'dq'),
        node('MatMul', ['flat', 'dw'], ['y'], {}, 'mm'),
        // an int8 tensor that is no quantized op's weight is not a parameter
        node('Constant', [], ['idx'], { value: attr.tensor(t([0, 1, 2], [3], 'int8')) }),
        node('Cast', ['idx'], ['idxf'], { to: attr.int(1) }),
        node('Constant', [], ['cond'], { value: attr.tensor(t([1], [], 'bool')) }),
        node('If', ['cond'], ['z'], { then_branch: attr.graph(branch('then', 5)), else_branch: attr.graph(branch('else', 7)) }),
      ],
      { x: [1, 2, 4, 4] },
      ['y', 'z', 'idxf'],
    );
    expect([...constantWeights(m.graph).keys()].sort()).toEqual(['b', 'qw', 'w']);
    const s = summarize(m);
    expect(s.parameters).toBe(54 + 3 + 48 * 4 + 5 + 7);
    expect(s.byDtype.float32).toEqual({ tensors: 4, parameters: 54 + 3 + 5 + 7, bytes: (54 + 3 + 5 + 7) * 4 });
    expect(s.byDtype.int8).toEqual({ tensors: 1, parameters: 192, bytes: 192 });
    expect(s.byDtype.int64).toBeUndefined();
    expect(s.bytes).toBe((54 + 3 + 5 + 7) * 4 + 192);
    // layers read Constant weights as they read initializers
    expect(s.layers.find((l) => l.node === 'conv')!.parameters).toBe(57);
    expect(s.layers.find((l) => l.node === 'dq')!.parameters).toBe(192);
    expect(s.layers.find((l) => l.node.endsWith(': then_y'))?.parameters).toBe(5);
    // the same weights as initializers count the same
    const asInit = model(
      [node('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv')],
      { x: [1, 2, 4, 4] },
      ['c'],
      { w: t(new Array(54).fill(0.1), [3, 2, 3, 3]), b: t([1, 2, 3], [3]) },
    );
    const withConst = model(
      [
        node('Constant', [], ['w'], { value: attr.tensor(t(new Array(54).fill(0.1), [3, 2, 3, 3])) }),
        node('Constant', [], ['b'], { value: attr.tensor(t([1, 2, 3], [3])) }),
        node('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
      ],
      { x: [1, 2, 4, 4] },
      ['c'],
    );
    const [a, c] = [summarize(asInit), summarize(withConst)];
    expect([c.parameters, c.bytes, c.flops, c.macs]).toEqual([a.parameters, a.bytes, a.flops, a.macs]);
    expect(a.macs).toBe(3 * 16 * 18);
  });
});

describe('summarize: FLOPs and MACs of integer and quantized ops', () => {
  it('count the multiply-adds of their float counterparts on the same shapes', () => {
    const w = t(new Array(3 * 2 * 9).fill(0), [3, 2, 3, 3]);
    const float = model(
      [node('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'), node('Flatten', ['c'], ['f']), node('MatMul', ['f', 'mw'], ['y'], {}, 'mm')],
      { x: ['N', 2, 4, 4] },
      ['y'],
      { w, b: t([0, 0, 0], [3]), mw: t(new Array(48 * 5).fill(0), [48, 5]) },
    );
    const q = (n: number[], dt: 'int8' | 'uint8' = 'int8') => t(new Array(n.reduce((a, b) => a * b, 1)).fill(0), n, dt);
    const integer = model(
      [
        node('DynamicQuantizeLinear', ['x'], ['xq', 'xs', 'xz']),
        node('ConvInteger', ['xq', 'wq', 'xz'], ['ci'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
        node('Cast', ['ci'], ['cf'], { to: attr.int(1) }),
        node('Flatten', ['cf'], ['f']),
        node('DynamicQuantizeLinear', ['f'], ['fq', 'fs', 'fz']),
        node('MatMulInteger', ['fq', 'mwq', 'fz'], ['y'], {}, 'mm'),
      ],
      { x: ['N', 2, 4, 4] },
      ['y'],
      { wq: q([3, 2, 3, 3], 'uint8'), mwq: q([48, 5], 'uint8') },
    );
    const qlinear = model(
      [
        node('QuantizeLinear', ['x', 's', 'z'], ['xq']),
        node('QLinearConv', ['xq', 's', 'z', 'wq', 's', 'z', 's', 'z', 'bq'], ['cq'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
        node('Flatten', ['cq'], ['f']),
        node('QLinearMatMul', ['f', 's', 'z', 'mwq', 's', 'z', 's', 'z'], ['y'], {}, 'mm'),
      ],
      { x: ['N', 2, 4, 4] },
      ['y'],
      { s: t([0.1], []), z: q([], 'uint8'), wq: q([3, 2, 3, 3], 'uint8'), bq: t([0, 0, 0], [3], 'int32'), mwq: q([48, 5], 'uint8') },
    );
    // MatMulNBits: 4-bit B packed as [N, blocks, 16] bytes for K = 48, block 32
    const nbits = model(
      [
        node('Conv', ['x', 'w', 'b'], ['c'], { pads: attr.ints([1, 1, 1, 1]) }, 'conv'),
        node('Flatten', ['c'], ['f']),
        { ...createNode('MatMulNBits', ['f', 'packed', 'scales'], ['y'], { K: attr.int(48), N: attr.int(5), bits: attr.int(4), block_size: attr.int(32) }, { name: 'mm' }), domain: 'com.microsoft' },
      ],
      { x: ['N', 2, 4, 4] },
      ['y'],
      { w, b: t([0, 0, 0], [3]), packed: q([5, 2, 16], 'uint8'), scales: t(new Array(10).fill(1), [10]) },
    );
    const ref = summarize(float, { dims: { N: 2 } });
    const convMacs = 2 * 3 * 16 * 18;
    const mmMacs = 2 * 5 * 48;
    expect(ref.macs).toBe(convMacs + mmMacs);
    expect(ref.flops).toBe(2 * (convMacs + mmMacs) + 2 * 3 * 16); // + Conv's bias adds
    for (const [name, m] of [['integer', integer], ['qlinear', qlinear], ['nbits', nbits]] as const) {
      const s = summarize(m, { dims: { N: 2 } });
      expect(s.layers.find((l) => l.node === 'conv')!.macs, name).toBe(convMacs);
      expect(s.layers.find((l) => l.node === 'mm')!.macs, name).toBe(mmMacs);
      expect(s.macs, name).toBe(ref.macs);
    }
    // a fused bias counts one add per output, as for Conv; ConvInteger has none
    expect(summarize(qlinear, { dims: { N: 2 } }).flops).toBe(ref.flops);
    expect(summarize(integer, { dims: { N: 2 } }).flops).toBe(2 * ref.macs);
  });
});

describe('summarize: work inside If branches', () => {
  it('counts the costlier branch of each If with the enclosing graph’s shapes, nested Ifs too', () => {
    const mm = (name: string, out: number, extra: Graph['nodes'] = []): Graph =>
      createGraph({
        name,
        nodes: [node('MatMul', ['x', `${name}_w`], [`${name}_y`], {}, `${name}_mm`), ...extra],
        initializers: new Map([[`${name}_w`, t(new Array(8 * out).fill(0.1), [8, out])]]),
        outputs: [tensorInfo(`${name}_y`, 'float32', ['N', out])],
      });
    const inner = node('If', ['c'], ['iy'], { then_branch: attr.graph(mm('deep', 32)), else_branch: attr.graph(mm('shallow', 2)) }, 'inner');
    const m = model(
      [node('If', ['c'], ['y'], { then_branch: attr.graph(mm('small', 4, [inner])), else_branch: attr.graph(mm('big', 16)) }, 'outer'), node('MatMul', ['x', 'w'], ['z'], {}, 'main')],
      { x: ['N', 8], c: [] },
      ['y', 'z'],
      { w: t(new Array(8 * 3).fill(0.1), [8, 3]) },
    );
    const s = summarize(m, { dims: { N: 5 } });
    // branch layers get their own estimate from x's outer shape
    expect(s.layers.find((l) => l.node.endsWith(': big_mm'))!.macs).toBe(5 * 8 * 16);
    expect(s.layers.find((l) => l.node.endsWith(': deep_mm'))!.macs).toBe(5 * 8 * 32);
    // one pass: main 5·8·3, plus max(then = 5·8·4 + max(5·8·32, 5·8·2), else = 5·8·16)
    expect(s.macs).toBe(5 * 8 * 3 + 5 * 8 * 4 + 5 * 8 * 32);
    expect(s.flops).toBe(2 * s.macs);
  });
});

describe('summarize: an exporter\'s weight transposed inside If(Equal(Rank(w), 2))', () => {
  // torch dynamo's aten_t: the branch taken is known from the weight's rank, so what reads the If
  // (a Gemm) has shapes and work; the weight belongs to the branches' nodes, not to the Shape reading its rank
  const branch = (name: string, op: 'Transpose' | 'Identity', out?: number[]): Graph =>
    createGraph({ name, nodes: [node(op, ['w'], [`${name}_y`], {}, `${name}_op`)], outputs: [tensorInfo(`${name}_y`, 'float32', out)] });
  const exported = (rankTwo: number, declared?: number[]) =>
    model(
      [
        node('Shape', ['w'], ['ws'], {}, 'shape'),
        node('Size', ['ws'], ['rank'], {}, 'size'),
        node('Constant', [], ['two'], { value: attr.tensor(t([rankTwo], [], 'int64')) }),
        node('Equal', ['rank', 'two'], ['is2'], {}, 'equal'),
        node('If', ['is2'], ['wt'], { then_branch: attr.graph(branch('then', 'Transpose', declared)), else_branch: attr.graph(branch('else', 'Identity', declared)) }, 'if'),
        node('Gemm', ['x', 'wt'], ['y'], {}, 'gemm'),
      ],
      { x: ['N', 16] },
      ['y'],
      { w: t(new Array(8 * 16).fill(0.1), [8, 16]) },
    );

  it('takes the branch the known condition picks', () => {
    // branch outputs declared without a shape: the Transpose rule gives [16, 8]
    const s = summarize(exported(2), { dims: { N: 3 } });
    expect(s.layers.find((l) => l.node === 'gemm')!.macs).toBe(3 * 16 * 8);
    expect(s.layers.find((l) => l.node.endsWith(': then_op'))!.parameters).toBe(128);
    expect(s.layers.find((l) => l.node === 'if')!.parameters).toBe(0);
    expect(s.layers.find((l) => l.node === 'shape')!.parameters).toBe(0);
    expect(s.parameters).toBe(128);
  });

  it('takes the other branch when the condition says so, and keeps what both agree on when it is unknown', () => {
    // rank ≠ 3: the else branch (Identity, [8, 16]) is taken; B [8, 16] for A [N, 16] fits no Gemm, so no work is guessed
    expect(summarize(exported(3), { dims: { N: 3 } }).layers.find((l) => l.node === 'gemm')!.macs).toBe(0);
    // an unknown condition (a graph input): both branches declare [16, 8], which they agree on
    const m = exported(2, [16, 8]);
    m.graph.nodes.splice(0, 4);
    m.graph.inputs.push(tensorInfo('is2', 'bool', []));
    expect(summarize(m, { dims: { N: 3 } }).layers.find((l) => l.node === 'gemm')!.macs).toBe(3 * 16 * 8);
  });
});

describe('summarize: work inside Loop and Scan bodies', () => {
  it('counts a body times its static trip count (constant M, the scan length) and 0 when the count is unknown', async () => {
    // Loop: a loop-carried v [1, 8] through v·W (W [8, 8], an outer weight), M = 3 or a graph input
    const loopBody = (): Graph =>
      createGraph({
        name: 'loop_body',
        inputs: [tensorInfo('i', 'int64', []), tensorInfo('cond_in', 'bool', []), tensorInfo('v_in', 'float32', [1, 8])],
        nodes: [node('MatMul', ['v_in', 'W'], ['v_out'], {}, 'loop_mm'), node('Identity', ['cond_in'], ['cond_out'])],
        outputs: [tensorInfo('cond_out', 'bool', []), tensorInfo('v_out', 'float32', [1, 8])],
      });
    const loopModel = (m: 'M' | 'Mconst') =>
      model(
        [
          node('Constant', [], ['Mconst'], { value: attr.tensor(t([3], [], 'int64')) }),
          node('Constant', [], ['c'], { value: attr.tensor(t([1], [], 'bool')) }),
          node('Loop', [m, 'c', 'x'], ['y'], { body: attr.graph(loopBody()) }, 'loop'),
        ],
        { x: [1, 8], M: [] },
        ['y'],
        { W: t(new Array(64).fill(0.1), [8, 8]) },
      );
    const known = summarize(loopModel('Mconst'));
    expect(known.layers.find((l) => l.node.endsWith(': loop_mm'))!.macs).toBe(64);
    expect(known.macs).toBe(3 * 64);
    expect(summarize(loopModel('M')).macs).toBe(0);
    // Scan: 5 steps over x [5, 8] (axis 0), each step s·W2 (W2 [8, 4])
    const scanBody = createGraph({
      name: 'scan_body',
      inputs: [tensorInfo('acc_in', 'float32', [4]), tensorInfo('s', 'float32', [8])],
      nodes: [node('Unsqueeze', ['s', 'ax'], ['s2']), node('MatMul', ['s2', 'W2'], ['p'], {}, 'scan_mm'), node('Squeeze', ['p', 'ax'], ['q']), node('Add', ['acc_in', 'q'], ['acc_out']), node('Identity', ['q'], ['step'])],
      initializers: new Map([['ax', t([0], [1], 'int64')]]),
      outputs: [tensorInfo('acc_out', 'float32', [4]), tensorInfo('step', 'float32', [4])],
    });
    const scan = model(
      [node('Scan', ['acc0', 'x'], ['acc', 'steps'], { body: attr.graph(scanBody), num_scan_inputs: attr.int(1) }, 'scan')],
      { x: [5, 8], acc0: [4] },
      ['acc', 'steps'],
      { W2: t(new Array(32).fill(0.1), [8, 4]) },
    );
    const s = summarize(scan);
    expect(s.layers.find((l) => l.node.endsWith(': scan_mm'))!.macs).toBe(32);
    expect(s.macs).toBe(5 * 32);
  });
});
