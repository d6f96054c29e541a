import { describe, expect, it } from 'vitest';
import { GraphValidationError, attr, checkModel, createGraph, validateModel } from '../src/index.js';
import type { AttributeValue, Model } from '../src/index.js';
import { model, node, t } from './helpers.js';

function expectInvalid(m: Model, rule: string, message: RegExp, nodeName?: string): void {
  let err: unknown;
  try {
    validateModel(m);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GraphValidationError);
  const v = err as GraphValidationError;
  expect(v.rule).toBe(rule);
  expect(v.message).toMatch(message);
  if (nodeName !== undefined) expect(v.location.node).toBe(nodeName);
}

const ok = () => model([node('Relu', ['x'], ['a'], {}, 'r'), node('Add', ['a', 'w'], ['y'], {}, 'add')], { x: [2] }, ['y'], { w: t([1, 2], [2]) });

describe('validation', () => {
  it('accepts a valid model', () => {
    expect(checkModel(ok())).toEqual([]);
    expect(() => validateModel(ok())).not.toThrow();
  });
  it('rejects two producers of one value (SSA)', () => {
    const m = ok();
    m.graph.nodes.push(node('Neg', ['x'], ['a'], {}, 'dup'));
    expectInvalid(m, 'ssa', /output 'a' of node 'dup' \(Neg\) is already defined/, 'dup');
  });
  it('rejects a node output that shadows a graph input', () => {
    const m = ok();
    m.graph.nodes.push(node('Neg', ['a'], ['x'], {}, 'shadow'));
    expectInvalid(m, 'ssa', /'x'.*already defined/, 'shadow');
  });
  it('rejects undefined inputs and says when the order is the problem', () => {
    const m = ok();
    m.graph.nodes[1]!.inputs[1] = 'nope';
    expectInvalid(m, 'undefined-input', /input 1 'nope' of node 'add' \(Add\) is not a graph input, initializer/, 'add');
    const m2 = ok();
    m2.graph.nodes.reverse();
    expectInvalid(m2, 'undefined-input', /produced later by node 'r'.*topological order/, 'add');
  });
  it('accepts outer-scope references in subgraphs and rejects unknown ones', () => {
    const m = ok();
    const body = createGraph({ name: 'b', nodes: [node('Neg', ['a'], ['n'], {}, 'inner')], outputs: [{ name: 'n', type: null }] });
    m.graph.nodes.push(node('If', ['x'], ['z'], { then_branch: attr.graph(body), else_branch: attr.graph(body) }, 'if'));
    expect(checkModel(m)).toEqual([]);
    body.nodes[0]!.inputs[0] = 'ghost';
    expectInvalid(m, 'undefined-input', /'ghost' of node 'inner'.*outer-scope/, 'inner');
  });
  it('rejects graph outputs that nothing produces', () => {
    const m = ok();
    m.graph.outputs.push({ name: 'missing', type: null });
    expectInvalid(m, 'undefined-output', /output 'missing' is not produced/);
  });
  it('rejects a used domain without opset import', () => {
    const m = ok();
    m.graph.nodes.push({ ...node('Custom', ['x'], ['c'], {}, 'c'), domain: 'com.example' });
    expectInvalid(m, 'opset-import', /domain 'com.example'.*no opset import/);
    m.opsetImports.push({ domain: 'com.example', version: 1 });
    expect(checkModel(m)).toEqual([]);
    m.opsetImports = [{ domain: 'com.example', version: 1 }];
    expectInvalid(m, 'opset-import', /domain 'ai.onnx'/);
  });
  it('rejects attributes of the wrong type', () => {
    const m = ok();
    m.graph.nodes.push(node('Transpose', ['x'], ['tp'], { perm: attr.int(0) }, 'tp'));
    expectInvalid(m, 'attribute-type', /attribute 'perm' of node 'tp' \(Transpose\) must be of type 'ints', got 'int'/, 'tp');
    const m2 = ok();
    m2.graph.nodes.push(node('Flatten', ['x'], ['f'], { axis: { type: 'int', value: 1.5 } as AttributeValue }, 'fl'));
    expectInvalid(m2, 'attribute-type', /'axis' of node 'fl'.*tagged 'int' but holds/, 'fl');
  });
  it('rejects an empty op type', () => {
    const m = ok();
    m.graph.nodes.push(node('', ['x'], ['e'], {}, 'empty'));
    expectInvalid(m, 'empty-op-type', /node 'empty' .* empty op type/, 'empty');
  });
  it('counts further problems in the message and lists them all in checkModel', () => {
    const m = ok();
    m.graph.nodes.push(node('', ['q'], ['e'], {}, 'empty'));
    expect(checkModel(m).map((i) => i.rule)).toEqual(['empty-op-type', 'undefined-input']);
    expect(() => validateModel(m)).toThrow(/and 1 more problem/);
  });
});
