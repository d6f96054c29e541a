import { describe, expect, it } from 'vitest';
import {
  GraphCycleError, GraphRewriteError, NameGenerator, attr, buildUseIndex, cloneModel, consumersOf, createGraph,
  eliminateDeadCode, insertNode, removeNode, renameValue, replaceAllUses, replaceNode, sortTopologically,
  topologicalOrder, uniqueName, validateModel, implicitInputs,
} from '../src/index.js';
import { model, node, t } from './helpers.js';

function chain() {
  // x -> Relu(a) -> Mul(a, w)=b -> Neg(b)=y
  return model(
    [node('Relu', ['x'], ['a']), node('Mul', ['a', 'w'], ['b']), node('Neg', ['b'], ['y'])],
    { x: ['N', 3] },
    ['y'],
    { w: t([1, 2, 3], [3]) },
  );
}

describe('clone', () => {
  it('deep-copies structure and shares initializer tensors', () => {
    const m = chain();
    const sub = createGraph({ name: 'then', nodes: [node('Identity', ['a'], ['t'])], outputs: [{ name: 't', type: null }] });
    m.graph.nodes[1]!.attributes.set('g', attr.graph(sub));
    const c = cloneModel(m);
    c.graph.nodes[0]!.inputs[0] = 'zzz';
    c.graph.nodes.pop();
    (c.graph.nodes[1]!.attributes.get('g') as { value: { nodes: unknown[] } }).value.nodes.pop();
    c.opsetImports[0]!.version = 1;
    expect(m.graph.nodes[0]!.inputs[0]).toBe('x');
    expect(m.graph.nodes).toHaveLength(3);
    expect(sub.nodes).toHaveLength(1);
    expect(m.opsetImports[0]!.version).not.toBe(1);
    expect(c.graph.initializers.get('w')).toBe(m.graph.initializers.get('w'));
    c.graph.initializers.delete('w');
    expect(m.graph.initializers.has('w')).toBe(true);
  });
});

describe('use index', () => {
  it('finds producers, consumers and outer-scope uses in subgraphs', () => {
    const m = chain();
    const then = createGraph({ name: 'then', nodes: [node('Add', ['a', 'b'], ['s'])], outputs: [{ name: 's', type: null }] });
    const els = createGraph({ name: 'else', nodes: [], outputs: [{ name: 'a', type: null }] });
    const iff = node('If', ['c'], ['r'], { then_branch: attr.graph(then), else_branch: attr.graph(els) });
    m.graph.nodes.push(iff);
    const idx = buildUseIndex(m.graph);
    expect(idx.producers.get('b')!.node.opType).toBe('Mul');
    expect(idx.producers.has('x')).toBe(false);
    expect(consumersOf(idx, 'a').map((n) => n.opType).sort()).toEqual(['If', 'Mul']);
    expect(idx.consumers.get('a')!.find((u) => u.node === iff)!.input).toBe(-1);
    expect([...implicitInputs(iff)].sort()).toEqual(['a', 'b']);
    expect(idx.graphOutputs.has('y')).toBe(true);
  });
});

describe('topological order', () => {
  it('keeps an already sorted graph unchanged', () => {
    const m = chain();
    const before = [...m.graph.nodes];
    expect(topologicalOrder(m.graph)).toEqual(before);
  });
  it('sorts a shuffled graph, stable among independent nodes', () => {
    const m = model(
      [
        node('Neg', ['b'], ['y']),
        node('Relu', ['x'], ['p']),
        node('Relu', ['x'], ['q']),
        node('Add', ['p', 'q'], ['b']),
      ],
      { x: [2] },
      ['y'],
    );
    sortTopologically(m.graph);
    expect(m.graph.nodes.map((n) => n.outputs[0])).toEqual(['p', 'q', 'b', 'y']);
    validateModel(m);
  });
  it('respects subgraph outer references', () => {
    const then = createGraph({ name: 't', nodes: [node('Identity', ['late'], ['o'])], outputs: [{ name: 'o', type: null }] });
    const m = model(
      [node('If', ['x'], ['y'], { then_branch: attr.graph(then), else_branch: attr.graph(then) }), node('Relu', ['x'], ['late'])],
      { x: [1] },
      ['y'],
    );
    expect(topologicalOrder(m.graph).map((n) => n.opType)).toEqual(['Relu', 'If']);
  });
  it('detects a cycle and names a node on it', () => {
    const m = model(
      [node('Relu', ['x'], ['a'], {}, 'r0'), node('Add', ['a', 'c'], ['b'], {}, 'add'), node('Neg', ['b'], ['c'], {}, 'neg'), node('Neg', ['b'], ['y'], {}, 'out')],
      { x: [1] },
      ['y'],
    );
    let err: unknown;
    try {
      topologicalOrder(m.graph);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GraphCycleError);
    const c = err as GraphCycleError;
    expect(c.cycle.sort()).toEqual(['add', 'neg']);
    expect(c.message).toMatch(/cycle through node '(add|neg)'/);
  });
});

describe('rewrite API', () => {
  it('inserts a node after another and rewires uses, keeping the graph valid', () => {
    const m = chain();
    const g = m.graph;
    const a = g.nodes[0]!;
    const names = new NameGenerator(g);
    const out = names.value('a');
    expect(out).toBe('a_1');
    const sig = node('Sigmoid', ['a'], [out]);
    replaceAllUses(g, 'a', out);
    insertNode(g, sig, { after: a });
    expect(g.nodes.map((n) => n.opType)).toEqual(['Relu', 'Sigmoid', 'Mul', 'Neg']);
    expect(g.nodes[2]!.inputs).toEqual(['a_1', 'w']);
    validateModel(m);
  });
  it('rejects an inserted node reusing a defined name (SSA)', () => {
    const m = chain();
    expect(() => insertNode(m.graph, node('Relu', ['x'], ['b']), 'end')).toThrow(GraphRewriteError);
    expect(() => insertNode(m.graph, node('Relu', ['x'], ['b']), 'end')).toThrow(/'b'.*already defined/);
  });
  it('replaces a node and keeps the graph valid', () => {
    const m = chain();
    const mul = m.graph.nodes[1]!;
    replaceNode(m.graph, mul, [node('Add', ['a', 'w'], ['tmp']), node('Relu', ['tmp'], ['b'])]);
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Relu', 'Add', 'Relu', 'Neg']);
    validateModel(m);
    expect(() => replaceNode(m.graph, m.graph.nodes[2]!, node('Relu', ['tmp'], ['other']))).toThrow(/'b'.*still used/);
  });
  it('removes a node, rewiring consumers', () => {
    const m = chain();
    removeNode(m.graph, m.graph.nodes[1]!, 'a');
    expect(m.graph.nodes.map((n) => n.inputs)).toEqual([['x'], ['a']]);
    validateModel(m);
  });
  it('removing the producer of a graph output renames the replacement to keep the output name', () => {
    const m = chain();
    removeNode(m.graph, m.graph.nodes[2]!, 'b');
    expect(m.graph.outputs[0]!.name).toBe('y');
    expect(m.graph.nodes[1]!.outputs).toEqual(['y']);
    validateModel(m);
  });
  it('refuses to remove a used node without replacement, or to rename an input to an output', () => {
    const m = chain();
    expect(() => removeNode(m.graph, m.graph.nodes[1]!)).toThrow(/'b'.*still consumed/);
    const m2 = model([node('Relu', ['x'], ['y'])], { x: [1] }, ['y']);
    expect(() => removeNode(m2.graph, m2.graph.nodes[0]!, 'x')).toThrow(GraphRewriteError);
  });
  it('renames a value everywhere, including subgraph references and value_info', () => {
    const m = chain();
    const sub = createGraph({ name: 's', nodes: [node('Neg', ['a'], ['z'])], outputs: [{ name: 'z', type: null }] });
    m.graph.nodes[2]!.attributes.set('body', attr.graph(sub));
    m.graph.valueInfo.set('a', { name: 'a', type: null });
    renameValue(m.graph, 'a', 'act');
    expect(m.graph.nodes[0]!.outputs).toEqual(['act']);
    expect(m.graph.nodes[1]!.inputs[0]).toBe('act');
    expect(sub.nodes[0]!.inputs[0]).toBe('act');
    expect(m.graph.valueInfo.get('act')!.name).toBe('act');
    renameValue(m.graph, 'w', 'weight');
    expect(m.graph.initializers.has('weight')).toBe(true);
    expect(() => renameValue(m.graph, 'b', 'x')).toThrow(/already used/);
  });
  it('hands out fresh names', () => {
    const m = chain();
    expect(uniqueName(m.graph, 'y')).toBe('y_1');
    expect(uniqueName(m.graph, 'fresh')).toBe('fresh');
    const g = new NameGenerator(m.graph);
    expect([g.value('a'), g.value('a')]).toEqual(['a_1', 'a_2']);
    expect(g.node('Mul')).toBe('Mul');
    expect(g.node('b')).toBe('b_1');
  });
});

describe('dead-code elimination', () => {
  it('removes dead nodes, unused initializers and stale value_info', () => {
    const m = chain();
    const g = m.graph;
    g.nodes.splice(1, 0, node('Exp', ['a'], ['dead1']), node('Mul', ['dead1', 'u'], ['dead2']));
    g.initializers.set('u', t([1], [1]));
    g.initializers.set('unused', t([1], [1]));
    g.valueInfo.set('dead2', { name: 'dead2', type: null });
    g.valueInfo.set('b', { name: 'b', type: null });
    g.inputs.push({ name: 'overridable', type: null });
    g.initializers.set('overridable', t([0], [1]));
    const s = eliminateDeadCode(g);
    expect(s).toEqual({ nodes: 2, initializers: 2, valueInfo: 1 });
    expect(g.nodes.map((n) => n.opType)).toEqual(['Relu', 'Mul', 'Neg']);
    expect([...g.initializers.keys()].sort()).toEqual(['overridable', 'w']);
    expect(g.valueInfo.has('b')).toBe(true);
    validateModel(m);
  });
  it('keeps nodes feeding subgraphs', () => {
    const m = chain();
    const sub = createGraph({ name: 's', nodes: [], outputs: [{ name: 'k', type: null }] });
    m.graph.nodes.splice(0, 0, node('Exp', ['x'], ['k']));
    m.graph.nodes.push(node('If', ['x'], ['y2'], { then_branch: attr.graph(sub), else_branch: attr.graph(sub) }));
    m.graph.outputs.push({ name: 'y2', type: null });
    expect(eliminateDeadCode(m.graph).nodes).toBe(0);
  });
});
