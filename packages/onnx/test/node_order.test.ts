/**
 * Graphs whose nodes are out of topological order (float16 converters append their input/output
 * Casts last; onnxruntime sorts on load) are sorted on read: main graph and subgraphs, stable, a
 * sorted graph untouched, a cycle still refused; the written model runs in onnxruntime as the
 * original file does.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphValidationError } from '../src/index.js';
import { readModel, writeModel } from '../src/index.js';
import { T, attr, encode, node, onnx, vi } from './fixtures.js';

const w = { name: 'W', dataType: T.FLOAT, dims: [2, 2], floatData: [1, 2, 3, 4] };

function unsortedProto(): Parameters<typeof onnx.ModelProto.encode>[0] {
  // then-branch: Neg reads the Abs that comes after it
  const thenG = { name: 'then', node: [node('Neg', ['a'], ['t']), node('Abs', ['h'], ['a'])], output: [vi('t', T.FLOAT, [1, 2])] };
  const elseG = { name: 'else', node: [node('Identity', ['h'], ['e'])], output: [vi('e', T.FLOAT, [1, 2])] };
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'unsorted',
      input: [vi('X', T.FLOAT, [1, 2]), vi('C', T.BOOL, [])],
      initializer: [w],
      output: [vi('Y', T.FLOAT, [1, 2])],
      // as a float16 converter leaves it: the reader first, the Cast that feeds it last
      node: [
        node('MatMul', ['x_cast', 'W'], ['h']),
        node('If', ['C'], ['y_pre'], [attr.g('then_branch', thenG), attr.g('else_branch', elseG)]),
        node('Relu', ['y_pre'], ['Y']),
        node('Identity', ['X'], ['x_cast']),
      ],
    },
  };
}

async function ortRun(bytes: Uint8Array, c: boolean): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ X: new ort.Tensor('float32', Float32Array.of(-1, 2), [1, 2]), C: new ort.Tensor('bool', Uint8Array.of(c ? 1 : 0), []) });
  return Array.from(r.Y!.data as Float32Array);
}

describe('readModel: node order', () => {
  it('sorts an out-of-order main graph and subgraph, says which, and writes a model onnxruntime runs the same', async () => {
    const bytes = encode(unsortedProto());
    let told: string[] = [];
    const m = readModel(bytes, { onNodesSorted: (s) => (told = s) });
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Identity', 'MatMul', 'If', 'Relu']);
    const ifNode = m.graph.nodes[2]!;
    const thenB = ifNode.attributes.get('then_branch');
    if (thenB?.type !== 'graph') throw new Error('then_branch missing');
    expect(thenB.value.nodes.map((n) => n.opType)).toEqual(['Abs', 'Neg']);
    expect(told).toHaveLength(2);
    expect(told[0]).toBe('');
    expect(told[1]).toMatch(/then_branch/);
    // onnxruntime refuses the unsorted subgraph; the written model runs: h = [-1, 2] · W = [5, 6]
    const out = writeModel(m);
    await expect(ortRun(bytes, true)).rejects.toThrow(/topologically sorted/);
    expect(await ortRun(out, true)).toEqual([0, 0]); // relu(-|h|)
    expect(await ortRun(out, false)).toEqual([5, 6]); // relu(h)
  });

  it('a main graph onnxruntime sorts itself runs the same after a read and write', async () => {
    const p = unsortedProto();
    const thenG = p.graph!.node![1]!.attribute![0]!.g!;
    thenG.node = [thenG.node![1]!, thenG.node![0]!];
    const bytes = encode(p);
    const out = writeModel(readModel(bytes));
    for (const c of [true, false]) expect(await ortRun(out, c)).toEqual(await ortRun(bytes, c));
  });

  it('leaves a sorted graph in its order and says nothing', () => {
    const p = unsortedProto();
    const nodes = p.graph!.node!;
    p.graph!.node = [nodes[3]!, nodes[0]!, nodes[1]!, nodes[2]!];
    const thenG = (p.graph!.node[2]!.attribute![0]!.g!);
    thenG.node = [thenG.node![1]!, thenG.node![0]!];
    let called = false;
    const m = readModel(encode(p), { onNodesSorted: () => (called = true) });
    expect(called).toBe(false);
    expect(m.graph.nodes.map((n) => n.name)).toEqual(['Identity_x_cast', 'MatMul_h', 'If_y_pre', 'Relu_Y']);
  });

  it('keeps the order among independent nodes (stable)', () => {
    const p = unsortedProto();
    // two independent readers of X before the Identity they do not need
    p.graph!.node!.unshift(node('Sigmoid', ['X'], ['s1']), node('Tanh', ['X'], ['s2']));
    const m = readModel(encode(p));
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Sigmoid', 'Tanh', 'Identity', 'MatMul', 'If', 'Relu']);
  });

  it('still refuses a cycle, naming it', () => {
    const p = unsortedProto();
    p.graph!.node!.push(node('Abs', ['loop_b'], ['loop_a']), node('Abs', ['loop_a'], ['loop_b']));
    expect(() => readModel(encode(p))).toThrow(GraphValidationError);
    expect(() => readModel(encode(p))).toThrow(/cycle/);
  });
});
